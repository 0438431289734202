"""Corrections (``dfg case correct``): a person's details or the home's address changed with a reason,
the history saying what changed from what to what, the values sealed beside the chain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from dfg.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.corrections import Correction, correct_details
from dfg.store.database import Database
from dfg.workflow.actor import Actor


def test_a_correction_changes_the_record_and_the_history_says_so(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    correct_details(db, cast["officer"], reference, Correction(
        reason="married name", person=1,
        person_fields={"family_name": "Holt-Quimby", "date_of_birth": date(1950, 6, 2), "nhs_number": "943 476 5919"},
        home_fields={"postcode": "ws111ab"},
    ))  # fmt: skip
    view = show_case(db, cast["officer"], reference)
    assert view.people[0]["name"] == "Mrs Margaret Holt-Quimby" and view.address[-1] == "WS11 1AB"
    last = history(db, cast["officer"], reference)[-1]
    assert last.kind == "details_corrected" and last.reason == "married name"
    changed = last.as_dict()["payload"]["changed"]
    assert changed["family_name"] == {"from": "Holt", "to": "Holt-Quimby"}
    assert changed["postcode"] == {"from": "WS11 1AA", "to": "WS11 1AB"}
    assert "family name" in last.detail
    with db.read_connection() as connection:
        hashed = " ".join(
            connection.execute(text("SELECT payload || coalesce(reason, '') FROM events")).scalars()
        )
    assert "Quimby" not in hashed and "married" not in hashed and "9434765919" not in hashed
    assert verify_audit(db, cast["manager"]).problems == ()


def test_every_problem_at_once_and_nothing_changed(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    before = show_case(db, cast["officer"], reference)
    with pytest.raises(InvalidInput) as refused:
        correct_details(db, cast["officer"], reference, Correction(
            reason=" ", person_fields={"family_name": "", "date_of_birth": date(1800, 1, 1), "nhs_number": "123"},
            home_fields={"postcode": "NOPE"},
        ))  # fmt: skip
    said = str(refused.value)
    for part in (
        "family_name: is required",
        "over 120",
        "nhs_number",
        "not a UK postcode",
        "--person",
        "reason",
    ):
        assert part in said, part
    with pytest.raises(NotFound):
        correct_details(
            db,
            cast["officer"],
            reference,
            Correction(reason="x", person=5, person_fields={"phone": "01543 462621"}),
        )
    with pytest.raises(InvalidInput, match="already as given"):
        correct_details(
            db, cast["officer"], reference, Correction(reason="x", home_fields={"town": "Cannock"})
        )
    with pytest.raises(PermissionDenied):
        correct_details(
            db, cast["lichfield"], reference, Correction(reason="x", home_fields={"town": "Rugeley"})
        )
    assert show_case(db, cast["officer"], reference) == before


def test_the_command(db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "officer", "case", "correct", reference,
                                       "--person", "1", "--given-name", "Maggie", "--reason", "known as"])  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, f"{reference}: corrected given name\n"), result.stderr


def test_each_problem_by_its_field_in_words_and_the_version_checked(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    with pytest.raises(InvalidInput) as refused:
        correct_details(db, cast["officer"], reference, Correction(
            reason="", person=1, person_fields={"given_name": " ", "email": "nobody", "phone": "9" * 31},
        ))  # fmt: skip
    assert refused.value.fields == {
        "given_name": "Enter the given name: it cannot be left empty",
        "email": "Enter an e-mail address in the right form, like name@example.com",
        "phone": "The phone number must be 30 characters or fewer",
        "reason": "Enter the reason for the correction",
    }
    assert "given_name: is required" in refused.value.message  # the command line's words are unchanged
    version = show_case(db, cast["officer"], reference).version
    with pytest.raises(Conflict):
        correct_details(db, cast["officer"], reference, Correction(reason="x", home_fields={"town": "Rugeley"}),
                        expected_version=version - 1)  # fmt: skip
    correct_details(db, cast["officer"], reference, Correction(reason="x", home_fields={"town": "Rugeley"}),
                    expected_version=version)  # fmt: skip
    view = show_case(db, cast["officer"], reference)
    assert view.home == {"address_line_1": "12 Mill Lane", "address_line_2": None, "town": "Rugeley",
                         "postcode": "WS11 1AA"}  # fmt: skip
    person = view.people[0]
    assert (person["title"], person["given_name"], person["family_name"]) == ("Mrs", "Margaret", "Holt")
    assert (person["nhs_number"], person["phone"], person["email"]) == (None, None, None)
