"""Letter contexts check themselves; branding and layout load from the templates folder; filters read well."""

from __future__ import annotations

import pickle
import shutil
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path

import pytest
from letter_samples import APPLICANT, CALCULATION, WORKS

from dfg.errors import ConfigurationError, InvalidInput
from dfg.letters import context as c
from dfg.letters.context import LetterContext, load_branding
from dfg.letters.render import clock, load_envelope_window, longdate, longdatetime, pounds
from dfg.paths import letter_templates_dir

DISTRICTS = {
    "CAN": "Cannock Chase Council",
    "EST": "East Staffordshire Borough Council",
    "LIC": "Lichfield District Council",
    "NUL": "Newcastle-under-Lyme Borough Council",
    "SST": "South Staffordshire Council",
    "STA": "Stafford Borough Council",
    "SML": "Staffordshire Moorlands District Council",
    "TAM": "Tamworth Borough Council",
}


@pytest.mark.parametrize(("code", "name"), DISTRICTS.items())
def test_branding_for_each_staffordshire_district(code: str, name: str) -> None:
    branding = load_branding(code)
    assert branding.name == name
    assert branding.district == code
    assert branding.logo is not None
    assert (letter_templates_dir() / "branding" / branding.logo).is_file()


def test_unknown_district() -> None:
    with pytest.raises(InvalidInput, match="no letter branding for district 'XYZ'; known: CAN, EST"):
        load_branding("XYZ")


def test_bad_branding_file_is_a_configuration_error(tmp_path: Path) -> None:
    shutil.copytree(letter_templates_dir(), tmp_path / "t")
    path = tmp_path / "t" / "branding.toml"
    path.write_text(path.read_text().replace('accent = "#243a73"', 'accent = "red; background: url(x)"'))
    with pytest.raises(ConfigurationError, match=r"\[districts.STA\]: branding STA: accent must look like"):
        load_branding("STA", templates_dir=tmp_path / "t")


def test_envelope_window_from_layout() -> None:
    window = load_envelope_window()
    assert (window.name, window.left, window.top, window.width, window.height) == (
        "dl-standard",
        20,
        50,
        90,
        35,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('envelope = "dl-standard"', "names no"),
        ("top = 50", "below the first fold"),
        ("width = 90", "letterhead column"),
        ("height = 35", "height must be a positive number"),
        ("top = 50\n", "below the letterhead"),
        ("left = 20\n", "within 10 mm of the edge"),
    ],
)
def test_unusable_envelope_windows_are_refused(tmp_path: Path, change: str, message: str) -> None:
    replacement = {
        'envelope = "dl-standard"': 'envelope = "c5"',
        "top = 50": "top = 70",
        "width = 90": "width = 120",
        "height = 35": "height = -1",
        "top = 50\n": "top = 40\n",  # the letterhead needs 30 mm from page 1's top margin at 14 mm
        "left = 20\n": "left = 5\n",
    }[change]
    shutil.copytree(letter_templates_dir(), tmp_path / "t")
    path = tmp_path / "t" / "layout.toml"
    path.write_text(path.read_text().replace(change, replacement, 1))
    with pytest.raises(ConfigurationError, match=message):
        load_envelope_window(templates_dir=tmp_path / "t")


def test_grant_calculation_totals() -> None:
    assert CALCULATION.works_expense == 1274000
    assert CALCULATION.charges_expense == 201480
    assert CALCULATION.estimated_expense == 1475480
    assert CALCULATION.estimated_expense - CALCULATION.contribution == CALCULATION.grant


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grant": 2_000_000}, "more than the estimated expense"),
        ({"grant": 100.5}, "whole pence"),
        ({"contribution": -1}, "must not be negative"),
        ({"works": ()}, "works must not be empty"),
        ({"works": (replace(WORKS[0], how_calculated=""),)}, "needs how_calculated"),
        ({"grant_basis": " "}, "grant_basis must not be empty"),
    ],
)
def test_grant_calculation_refuses_figures_that_do_not_add_up(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        replace(CALCULATION, **change)  # type: ignore[arg-type]


def test_recipient_must_fit_the_window() -> None:
    with pytest.raises(InvalidInput, match="at most 5 address lines"):
        replace(APPLICANT, address_lines=("a", "b", "c", "d", "e", "f"))
    with pytest.raises(InvalidInput, match="address_lines must be one or more"):
        replace(APPLICANT, address_lines=())
    assert APPLICANT.dear == "Mrs Oakley"
    assert replace(APPLICANT, salutation=None).dear == "Mrs Margaret Oakley"


def test_contexts_check_their_own_sums(contexts: dict[str, LetterContext]) -> None:
    interim = contexts["interim_payment"]
    assert interim.retained == 60000  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="exceed the valuation"):
        replace(interim, amount=700000)
    variation = contexts["variation_order"]
    assert variation.change_total == 109500  # type: ignore[attr-defined]
    assert variation.new_order_total == 1068500  # type: ignore[attr-defined]
    refusal = contexts["refusal_notice"]
    met = c.Finding(met=True, reasons="Yes.")
    with pytest.raises(InvalidInput, match="no other reason to refuse"):
        replace(refusal, reasonable_and_practicable=met, other_reasons=())
    with pytest.raises(InvalidInput, match="amount is more than the grant"):
        replace(contexts["repayment_demand"], amount=10**9)


def test_contexts_pickle_for_worker_processes(contexts: dict[str, LetterContext]) -> None:
    for context in contexts.values():
        assert pickle.loads(pickle.dumps(context)) == context


def test_pounds_filter() -> None:
    assert pounds(1234567) == "£12,345.67"
    assert pounds(-500) == "-£5.00"
    for wrong in (12.5, True, None):
        with pytest.raises(TypeError):
            pounds(wrong)  # type: ignore[arg-type]


def test_date_and_time_filters() -> None:
    assert longdate(date(2027, 3, 3)) == "3 March 2027"
    assert longdate(date(2027, 3, 3), weekday=True) == "Wednesday 3 March 2027"
    assert [clock(time(h, m)) for h, m in ((10, 0), (14, 30), (12, 0), (0, 0), (0, 15))] == [
        "10am", "2:30pm", "midday", "midnight", "12:15am",
    ]  # fmt: skip
    assert longdatetime(datetime(2027, 2, 9, 10, 30)) == "Tuesday 9 February 2027 at 10:30am"
