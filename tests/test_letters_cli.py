"""``dfg letters``: exact output, the PDF on disk, JSON on stdout, and errors as one line with a stable code.

The cases here queue a letter or two, so ``render --pending`` renders them in this process (a pool of
every core starts from a few dozen letters).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from dfg.services.cases import advance
from dfg.services.contractors import update_contractor
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import approve, take_step
from tests.letters.letter_pdfs import flat_text, reader


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str | None = "officer") -> Result:
        prefix = ["--db", db_url] + (["--as", user] if user else [])
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def acknowledged(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case whose acceptance queued an acknowledgement."""
    reference = open_sample(referral_source="county OT")
    advance(db, cast["officer"], reference, "accept_referral")
    return reference


def test_render_list_show_reprint_print(
    run: Callable[..., Result], acknowledged: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = run("letters", "render", "--pending")
    assert rendered.exit_code == 0, rendered.stderr
    assert rendered.stdout.splitlines() == [
        "id  reference      kind             recipient",
        "--  -------------  ---------------  -----------------",
        f"1   {acknowledged}  acknowledgement  Mrs Margaret Holt",
    ]
    assert rendered.stderr.splitlines()[-1] == "1 letter(s) produced, 0 waiting for case data, 0 failed"
    again = run("letters", "render", "--pending")
    assert (again.exit_code, again.stdout) == (0, "")
    assert again.stderr.splitlines()[-1] == "0 letter(s) produced, 0 waiting for case data, 0 failed"

    listed = run("letters", "list", acknowledged.lower())
    assert listed.exit_code == 0
    row = listed.stdout.splitlines()[2].split()
    assert row[:5] == ["1", "acknowledgement", "Mrs", "Margaret", "Holt"]
    as_json = json.loads(run("letters", "list", acknowledged, "--json").stdout)
    assert as_json["pending"] == []
    (letter,) = as_json["letters"]
    assert (letter["kind"], letter["copy_of"], letter["file_name"]) == (
        "acknowledgement", None, f"{acknowledged}-1-acknowledgement.pdf",
    )  # fmt: skip

    monkeypatch.chdir(tmp_path)
    shown = run("letters", "show", "1")
    assert (shown.exit_code, shown.stdout) == (0, "")
    assert shown.stderr == (
        f"wrote {acknowledged}-1-acknowledgement.pdf: We have received your referral, to Mrs Margaret Holt\n"
    )
    pdf = (tmp_path / letter["file_name"]).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == letter["sha256"]
    assert acknowledged in flat_text(pdf)
    chosen = json.loads(run("letters", "show", "1", "--output", "holt.pdf", "--json").stdout)
    assert (chosen["output"], (tmp_path / "holt.pdf").read_bytes()) == ("holt.pdf", pdf)

    elsewhere = run("letters", "show", "1", user="lichfield")
    assert (elsewhere.exit_code, elsewhere.stderr) == (
        6, f"dfg: lichfield works for district LIC; {acknowledged} is in CAN\n",
    )  # fmt: skip

    copied = run("letters", "reprint", "1")
    assert (copied.exit_code, copied.stdout) == (
        0, f"{acknowledged}: letter 2 is a copy of letter 1 (acknowledgement)\n",
    )  # fmt: skip
    copy = json.loads(run("letters", "show", "2", "--json").stdout)
    assert copy["copy_of"] == 1
    assert "COPY" in flat_text((tmp_path / copy["output"]).read_bytes())

    printed = run("letters", "print", "--batch", "--since", "2026-01-01", "--output", "post.pdf")
    assert (printed.exit_code, printed.stderr) == (
        0,
        "wrote post.pdf: the letters produced since 01/01/2026\n",
    )
    assert len(reader((tmp_path / "post.pdf").read_bytes()).pages) == 2 * len(reader(pdf).pages)


def test_waiting_letters_are_listed_with_their_reason(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(tenure="landlord")  # a landlord's own address is not recorded yet
    advance(db, cast["officer"], reference, "accept_referral", TriggerInput())
    rendered = run("letters", "render", "--pending", "--json")
    assert rendered.exit_code == 0
    report = json.loads(rendered.stdout)
    assert (report["produced"], report["failed"]) == ([], [])
    assert [(w["kind"], w["trigger"]) for w in report["waiting"]] == [("acknowledgement", "accept_referral")]
    listed = run("letters", "list", reference)
    assert listed.stdout.splitlines()[-1].startswith("pending: acknowledgement (accept_referral on ")
    assert (
        "postal address is not recorded on the case (dfg case postal-address)"
        in listed.stdout.splitlines()[-1]
    )


def test_contractor_letters_render_and_go_to_the_contractor(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], acknowledged: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    run("letters", "render", "--pending")
    for trigger, who in (
        ("record_assessment", "ot"), ("complete_test_of_resources", "officer"),
        ("receive_application", "officer"), ("validate_application", "officer"),
    ):  # fmt: skip
        take_step(db, cast, acknowledged, trigger, who, TriggerInput())
    run("letters", "render", "--pending")
    approve(db, cast, acknowledged, 5_000_00)
    advance(db, cast["officer"], acknowledged, "order_works")

    # The register has no address for the contractor yet: the works order waits, and stderr says why.
    rendered = run("letters", "render", "--pending")
    assert rendered.exit_code == 0
    assert [line.split()[2:] for line in rendered.stdout.splitlines()[2:]] == [
        ["approval_notice", "Mrs", "Margaret", "Holt"]
    ]
    assert rendered.stderr.splitlines()[-2:] == [
        f"pending: {acknowledged} works_order: Castle Adaptations has no address on the contractor register "
        '(record it with \'dfg contractor update "Castle Adaptations" --address "..."\')',
        "1 letter(s) produced, 1 waiting for case data, 0 failed",
    ]

    update_contractor(db, cast["admin"], "Castle Adaptations", address="Castle Works, Tamworth B79 7NH")
    rendered = run("letters", "render", "--pending")
    assert rendered.exit_code == 0, rendered.stderr
    assert rendered.stdout.splitlines()[2].split()[1:] == [
        acknowledged,
        "works_order",
        "Castle",
        "Adaptations",
    ]
    assert rendered.stderr.splitlines()[-1] == "1 letter(s) produced, 0 waiting for case data, 0 failed"
    listed = json.loads(run("letters", "list", acknowledged, "--json").stdout)
    order = next(x for x in listed["letters"] if x["kind"] == "works_order")
    assert (order["recipient"], order["recipient_role"], listed["pending"]) == (
        "Castle Adaptations", "contractor", [],
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    shown = run("letters", "show", str(order["id"]))
    assert shown.stderr == f"wrote {order['file_name']}: Works order, to Castle Adaptations\n"
    text = flat_text((tmp_path / order["file_name"]).read_bytes())
    for fact in ("Castle Adaptations Castle Works Tamworth B79 7NH", f"WO-{acknowledged}", "£15,199.45"):
        assert fact in text


BAD_INPUT = [
    # (arguments, user, exit code, the one line on stderr)
    (["letters", "show", "99"], "officer", 3, "dfg: no letter 99"),
    (["letters", "reprint", "1"], "ot", 6, "dfg: ot needs the role grant_officer or manager or admin to do this"),
    (["letters", "render", "--pending"], "ot", 6,
     "dfg: ot needs the role grant_officer or manager or admin to do this"),
    (["letters", "render"], "officer", 2,
     "dfg: say --pending: it renders every letter the workflow has asked for (see 'main letters render --help')"),
    (["letters", "print", "--since", "2026-01-01", "--output", "x.pdf"], "officer", 2,
     "dfg: say --batch: it prints every letter produced since --since in one PDF "
     "(see 'main letters print --help')"),
    (["letters", "print", "--batch", "--since", "2999-01-01", "--output", "x.pdf"], "officer", 3,
     "dfg: no letters were produced on or after 01/01/2999"),
    (["letters", "print", "--batch", "--since", "soon", "--output", "x.pdf"], "officer", 8,
     "dfg: --since: 'soon' is not a date (use 2026-03-31 or 31/03/2026)"),
    (["letters", "list", "CAN-2026-0999"], "officer", 3, "dfg: no case CAN-2026-0999"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "user", "code", "line"), BAD_INPUT, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_INPUT)]
)
def test_bad_input_is_one_line_and_a_stable_code(
    run: Callable[..., Result], acknowledged: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: list[str], user: str, code: int, line: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    result = run(*args, user=user)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", line + "\n")
    assert not (tmp_path / "x.pdf").exists()
