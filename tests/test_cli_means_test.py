"""`dfg means-test quick`: the public calculator over the test of resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

HOUSEHOLDS = Path(__file__).resolve().parent / "data" / "households"


def test_hand_checked_example_as_json() -> None:
    result = CliRunner().invoke(
        main, ["means-test", "quick", "--household", str(HOUSEHOLDS / "owner-couple-300.json"), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (
        out["outcome"],
        out["applicable_amount_pence"],
        out["excess_pence"],
        out["contribution_pence"],
    ) == (
        "assessed",
        156_25,
        143_75,
        10_199_45,
    )
    assert out["rates_version"] == "england-2008-10"
    assert [b["contribution_pence"] for b in out["bands"]][:3] == [928_63, 1_857_26, 7_413_56]
    assert out["trace"] and all("rule" in line for line in out["trace"])


def test_workings_read_in_pounds() -> None:
    result = CliRunner().invoke(
        main, ["means-test", "quick", "--household", str(HOUSEHOLDS / "owner-couple-300.json")]
    )
    assert "Applicable amount: £94.95 + £61.30 = £156.25 a week" in result.stdout.splitlines()
    assert (
        "Contribution from the bands: £928.63 + £1,857.26 + £7,413.56 = £10,199.45"
        in result.stdout.splitlines()
    )


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("age-200.json", "dfg: relevant_persons[1].age: 200 is not a plausible age\n"),
        ("negative-income.json", "dfg: weekly_income[0].amount: '-300.00' must not be negative\n"),
    ],
)
def test_bad_household_is_one_line_and_exit_8(name: str, line: str) -> None:
    result = CliRunner().invoke(
        main, ["means-test", "quick", "--household", str(HOUSEHOLDS / "invalid" / name)]
    )
    assert (result.exit_code, result.stderr, result.stdout) == (8, line, "")


def test_bad_rate_table_is_a_configuration_error(tmp_path: Path) -> None:
    source = (
        Path(__file__).resolve().parent.parent / "workflows" / "rates" / "means-test-england-2008.toml"
    ).read_text()
    broken = tmp_path / "means-test-broken.toml"
    broken.write_text(source.replace("[[bands]]", "[[band]]", 1))
    household = str(HOUSEHOLDS / "owner-couple-300.json")
    result = CliRunner().invoke(
        main, ["means-test", "quick", "--household", household, "--rates", str(broken)]
    )
    assert result.exit_code == 11 and result.stderr.startswith("dfg: means-test-broken.toml: ")
    assert result.stderr.count("\n") == 1
