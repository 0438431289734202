"""Contact preferences: how a person would be contacted, an advocate who speaks for them, and a format
note (Braille, audio, an interpreter), taken at opening and by correction, shown on the case, kept in
the subject access export, honoured by the letters and the post room, and erased on disposal."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from dfg.errors import InvalidInput
from dfg.services.case_history import history
from dfg.services.case_opening import NewPerson
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.services.corrections import Correction, correct_details
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import letter_pdf
from dfg.services.post_room import batch_arrangements
from dfg.services.retention import authorise_disposal, dispose
from dfg.services.subject_access import export_person
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step
from tests.letters.letter_pdfs import text_runs

ADVOCATE = "Priya Wexford-Lunn, Age UK, 01785 223344"
FORMAT = "Braille, Grade 2"


def _applicant(**contact: str | None) -> NewPerson:
    return NewPerson(title="Mr", given_name="Keith", family_name="Salt", is_applicant=True,
                     is_disabled_occupant=True, **contact)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("choice", ["post", "phone", "email", "advocate"])
def test_opening_with_each_way_of_contact(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], choice: str
) -> None:
    reference = open_sample(
        people=(_applicant(preferred_contact=choice, advocate=ADVOCATE, format_note=FORMAT),)
    )
    person = show_case(db, cast["officer"], reference).people[0]
    assert (person["preferred_contact"], person["advocate"], person["format_note"]) == (
        choice,
        ADVOCATE,
        FORMAT,
    )


def test_a_way_of_contact_not_on_the_list_is_refused_at_opening_and_correction(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_sample(people=(_applicant(preferred_contact="pigeon", format_note="x" * 201),))
    assert "'pigeon' is not one of: post, phone, email, advocate" in refused.value.message
    assert "format note: at most 200 characters" in refused.value.message
    reference = open_sample()
    before = show_case(db, cast["officer"], reference)
    with pytest.raises(InvalidInput) as refused:
        correct_details(db, cast["officer"], reference, Correction(
            reason="asked", person=1, person_fields={"preferred_contact": "fax", "large_print": "maybe"},
        ))  # fmt: skip
    assert refused.value.fields == {
        "preferred_contact": "Choose how they would like to be contacted: post, phone, e-mail or their advocate",
        "large_print": "Say whether letters should be in large print",
    }
    assert show_case(db, cast["officer"], reference) == before


def test_a_correction_changes_them_with_history_and_sealed_values(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    correct_details(db, cast["officer"], reference, Correction(
        reason="asked at the visit", person=1,
        person_fields={"preferred_contact": "advocate", "advocate": ADVOCATE, "format_note": FORMAT,
                       "large_print": "yes"},
    ))  # fmt: skip
    person = show_case(db, cast["officer"], reference).people[0]
    assert (person["preferred_contact"], person["advocate"], person["format_note"], person["large_print"]) == (
        "advocate", ADVOCATE, FORMAT, True,
    )  # fmt: skip
    last = history(db, cast["officer"], reference)[-1]
    changed = last.as_dict()["payload"]["changed"]
    assert changed["preferred_contact"] == {"from": None, "to": "advocate"}
    assert changed["communication_needs"] == {"from": None, "to": "large_print"}
    assert changed["advocate"] == {"from": None, "to": ADVOCATE}
    with db.read_connection() as connection:
        hashed = " ".join(connection.execute(text("SELECT payload FROM events")).scalars())
    assert "Wexford" not in hashed and "Braille" not in hashed
    correct_details(db, cast["officer"], reference,
                    Correction(reason="no longer", person=1, person_fields={"large_print": "no", "advocate": ""}))  # fmt: skip
    person = show_case(db, cast["officer"], reference).people[0]
    assert (person["large_print"], person["advocate"]) == (False, None)


def test_case_show_and_the_commands(
    db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    runner = CliRunner()
    opened = runner.invoke(main, [
        "--db", db_url, "--as", "officer", "case", "new", "--district", "CAN", "--applicant", "Keith Salt",
        "--address", "3 Oak Road", "--town", "Cannock", "--postcode", "WS11 1AA", "--tenure", "owner",
        "--contact", "advocate", "--advocate", ADVOCATE, "--format-note", FORMAT,
    ])  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    reference = opened.stdout.strip()
    shown = runner.invoke(main, ["--db", db_url, "--as", "officer", "case", "show", reference])
    assert "Contact: Through their advocate" in shown.stdout and f"Advocate: {ADVOCATE}" in shown.stdout
    assert f"Format: {FORMAT}" in shown.stdout and "large print" not in shown.stdout
    corrected = runner.invoke(main, ["--db", db_url, "--as", "officer", "case", "correct", reference, "--person",
                                     "1", "--contact", "phone", "--large-print", "yes", "--reason", "asked"])  # fmt: skip
    assert corrected.exit_code == 0, corrected.stderr
    as_json = runner.invoke(main, ["--db", db_url, "--as", "officer", "case", "show", reference, "--json"])
    person = json.loads(as_json.stdout)["people"][0]
    assert (person["preferred_contact"], person["large_print"], person["format_note"]) == (
        "phone",
        True,
        FORMAT,
    )
    refused = runner.invoke(main, ["--db", db_url, "--as", "officer", "case", "correct", reference, "--person",
                                   "1", "--contact", "fax", "--reason", "asked"])  # fmt: skip
    assert (
        refused.exit_code != 0
        and "'fax' is not one of" in refused.stderr
        and "Traceback" not in refused.stderr
    )


def test_a_letter_after_large_print_is_set_by_correction_is_in_large_print_and_the_post_room_is_told(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], tmp_path: Path
) -> None:
    reference = open_sample(referral_source="county OT", people=(_applicant(),))
    correct_details(db, cast["officer"], reference, Correction(
        reason="asked by phone", person=1,
        person_fields={"large_print": "yes", "format_note": FORMAT, "preferred_contact": "advocate",
                       "advocate": ADVOCATE},
    ))  # fmt: skip
    advance(db, cast["officer"], reference, "accept_referral")
    letter = render_pending(db, cast["officer"], workers=1).produced[0]
    dear = [
        run
        for run in text_runs(letter_pdf(db, cast["officer"], letter.id))
        if run.text.startswith("Dear Mr Salt")
    ]
    assert dear and dear[0].size >= 15.99
    [held] = batch_arrangements(db, cast["officer"], date(2020, 1, 1))
    assert (held.letter_id, held.reference) == (letter.id, reference)
    assert held.notes == (f"arrange: {FORMAT}", f"a copy goes to their advocate, {ADVOCATE}")


def test_the_letters_commands_say_what_to_arrange(
    db_url: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], tmp_path: Path
) -> None:
    reference = open_sample(referral_source="county OT",
                            people=(_applicant(format_note=FORMAT, preferred_contact="advocate", advocate=ADVOCATE),))  # fmt: skip
    plain = open_sample(referral_source="county OT")
    for each in (reference, plain):
        advance(db, cast["officer"], each, "accept_referral")
    render_pending(db, cast["officer"], workers=1)
    runner = CliRunner()
    listed = runner.invoke(main, ["--db", db_url, "--as", "officer", "letters", "list", reference])
    assert f"letters to Mr Keith Salt: a copy goes to their advocate, {ADVOCATE}" in listed.stdout
    assert (
        "arrange"
        not in runner.invoke(main, ["--db", db_url, "--as", "officer", "letters", "list", plain]).stdout
    )
    printed = runner.invoke(main, ["--db", db_url, "--as", "officer", "letters", "print", "--batch",
                                   "--since", "2020-01-01", "--output", str(tmp_path / "post.pdf")])  # fmt: skip
    assert printed.exit_code == 0, printed.stderr
    assert f"({reference} " in printed.stderr and f"arrange: {FORMAT}" in printed.stderr
    assert f"({plain} " not in printed.stderr


def test_subject_access_holds_them_and_disposal_erases_them(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    from tests.test_personal_data import _every_text, _years_later

    reference = open_sample(
        people=(_applicant(preferred_contact="advocate", advocate=ADVOCATE, format_note=FORMAT),)
    )
    answer = export_person(db, cast["officer"], reference, person=1)
    held = answer.as_dict()["cases"][0]["person"]
    assert (held["preferred_contact"], held["advocate"], held["format_note"]) == (
        "advocate",
        ADVOCATE,
        FORMAT,
    )
    advance(db, cast["officer"], reference, "accept_referral")
    take_step(db, cast, reference, "record_assessment", "ot", TriggerInput())
    advance(db, cast["officer"], reference, "cancel", TriggerInput(code="died", reason="sadly"))
    later = _years_later(7)
    authorise_disposal(db, cast["manager"], [reference], now=later)
    dispose(db, cast["admin"], now=later)
    everything = _every_text(db)
    assert "Wexford" not in everything and "Braille" not in everything
