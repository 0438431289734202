"""Personal data kept out of the hash chain, and disposal at the end of retention (dfg.store.personal,
dfg.services.retention): the chain holds no personal value, verification sees an edited or deleted
value, and a disposed file leaves no personal value anywhere while ``audit verify`` still passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from dfg.errors import GuardFailed, PermissionDenied
from dfg.rules.clock import utcnow
from dfg.services.audit import verify_audit
from dfg.services.case_history import HistoryEntry, history
from dfg.services.case_opening import NewPerson
from dfg.services.cases import advance
from dfg.services.letter_batch import render_pending
from dfg.services.retention import authorise_disposal, dispose, files_due
from dfg.store.database import Database
from dfg.store.personal import DISPOSED, PERSONAL_KEYS, outward_code
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step, walk_to

# Values no part of the engine would write by itself, so finding one means it came from the case.
GIVEN, FAMILY, BORN = "Zebedee", "Quartermaine", date(1931, 2, 3)
STREET, TOWN, POSTCODE = "77 Xylophone Row", "Wimbleford", "WS11 9QZ"
SECRET_REASON = "Jackdaws love my big sphinx of quartz"
RECOGNISABLE = (GIVEN, FAMILY, BORN.isoformat(), STREET, TOWN, "9QZ", "Xylophone", "sphinx")


def _open(open_sample: Callable[..., str]) -> str:
    applicant = NewPerson(
        title="Mr", given_name=GIVEN, family_name=FAMILY, date_of_birth=BORN, is_applicant=True,
        is_disabled_occupant=True,
    )  # fmt: skip
    return open_sample(
        address_line_1=STREET, town=TOWN, postcode=POSTCODE, people=(applicant,), priority_reason=SECRET_REASON,
        priority="urgent",
    )  # fmt: skip


def _walked_and_cancelled(db: Database, cast: dict[str, Actor], reference: str) -> None:
    advance(db, cast["officer"], reference, "accept_referral")
    take_step(db, cast, reference, "record_assessment", "ot", TriggerInput())
    render_pending(db, cast["officer"])
    advance(db, cast["officer"], reference, "cancel", TriggerInput(code="died", reason=SECRET_REASON))
    render_pending(db, cast["officer"])


def _every_text(db: Database, *, only: str | None = None) -> str:
    """Every value in every table (or in one), as text: what someone reading the raw file would see."""
    with db.read_connection() as connection:
        names = [only] if only else inspect(connection).get_table_names()
        return "\n".join(
            " ".join(str(value) for value in row)
            for name in names
            if name != "alembic_version"
            for row in connection.execute(text(f'SELECT * FROM "{name}"'))
        )


def _hashed_text(db: Database) -> str:
    with db.read_connection() as connection:
        rows = connection.execute(text("SELECT actor, kind, trigger, reason, code, payload FROM events"))
        return "\n".join(" ".join(str(v) for v in row) for row in rows)


def _cancelling(entries: list[HistoryEntry]) -> HistoryEntry:
    return next(e for e in entries if e.trigger == "cancel")


@pytest.fixture
def cancelled(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = _open(open_sample)
    _walked_and_cancelled(db, cast, reference)
    return reference


def test_no_personal_value_is_in_a_hashed_field_but_the_history_shows_them(
    db: Database, cast: dict[str, Actor], cancelled: str
) -> None:
    hashed = _hashed_text(db)
    assert [v for v in RECOGNISABLE if v in hashed] == []
    assert "$sealed" in hashed
    entries = history(db, cast["officer"], cancelled)
    opened = entries[0].as_dict()["payload"]
    assert opened["people"][0]["name"] == f"Mr {GIVEN} {FAMILY}"
    assert opened["people"][0]["date_of_birth"] == BORN.isoformat()
    assert opened["property"] == {"address": [STREET, None, TOWN], "postcode": POSTCODE}
    assert _cancelling(entries).reason == SECRET_REASON
    assert verify_audit(db, cast["manager"]).problems == ()


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE personal_values SET value = '\"Mr Nobody\"' WHERE value LIKE '%Zebedee%'", "was edited"),
        ("DELETE FROM personal_values WHERE value LIKE '%Zebedee%'", "is missing"),
        (
            "INSERT INTO personal_values (digest, case_id, salt, value) "
            "SELECT 'zz' || substr(digest, 3), case_id, salt, value FROM personal_values WHERE value LIKE '%Zebedee%'",
            "no event holds",
        ),
    ],
    ids=["edited", "deleted", "inserted"],
)
def test_verification_sees_a_personal_value_changed_outside_the_engine(
    db: Database, cast: dict[str, Actor], cancelled: str, tamper: str, expected: str
) -> None:
    with db.write_engine.begin() as connection:
        connection.execute(text(tamper))
    problems = verify_audit(db, cast["manager"]).problems
    assert problems and all(p.stream == cancelled for p in problems)
    assert any(expected in p.problem for p in problems), problems


def _years_later(years: int) -> datetime:
    return utcnow() + timedelta(days=366 * years)


def test_a_file_is_due_seven_years_after_closure_and_disposal_takes_two_people(
    db: Database, cast: dict[str, Actor], cancelled: str
) -> None:
    assert files_due(db, cast["manager"]) == []  # closed today: not due for seven years
    later = _years_later(7)
    due = files_due(db, cast["manager"], today=later.date())
    assert [f.reference for f in due] == [cancelled] and due[0].due
    with pytest.raises(PermissionDenied):
        authorise_disposal(db, cast["officer"], [cancelled], now=later)  # a manager's decision
    authorise_disposal(db, cast["manager"], [cancelled], now=later)
    with pytest.raises(PermissionDenied):
        dispose(db, cast["manager"], now=later)  # and an administrator's act
    done = dispose(db, cast["admin"], now=later)
    assert [(d.reference, d.authorised_by, d.disposed_by) for d in done] == [(cancelled, "manager", "admin")]

    everything = _every_text(db)
    assert [v for v in RECOGNISABLE if v in everything] == []
    assert outward_code(POSTCODE) in _every_text(db, only="properties")  # the area stays for the figures
    with db.read_connection() as connection:
        pdfs = connection.execute(text("SELECT length(pdf) FROM letters")).scalars().all()
    assert pdfs and set(pdfs) == {0}
    report = verify_audit(db, cast["manager"])
    assert report.problems == ()
    entries = history(db, cast["manager"], cancelled)
    assert _cancelling(entries).reason == DISPOSED
    assert entries[0].as_dict()["payload"]["people"][0]["name"] == DISPOSED
    assert dispose(db, cast["admin"], now=later) == []  # once only
    assert files_due(db, cast["manager"], today=later.date()) == []


def test_the_same_person_cannot_authorise_and_dispose(
    db: Database, cast: dict[str, Actor], cancelled: str
) -> None:
    from dfg.services.identity import user_actor
    from dfg.services.users import add_user

    add_user(db, "admin", username="both", full_name="Both Hats", roles=["manager", "admin"])
    both = user_actor(db, "both")
    later = _years_later(7)
    authorise_disposal(db, both, [cancelled], now=later)
    with pytest.raises(PermissionDenied, match="another person"):
        dispose(db, both, now=later)


def test_a_tombstone_tells_disposal_from_deletion(
    db: Database, cast: dict[str, Actor], cancelled: str
) -> None:
    """Deleting the values by hand looks like disposal's gap, but with no tombstone it is reported."""
    with db.write_engine.begin() as connection:
        connection.execute(text("DELETE FROM personal_values"))
    assert verify_audit(db, cast["manager"]).problems


def test_a_live_land_charge_holds_a_file(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "closed")
    with db.read_connection() as connection:
        expires = connection.execute(text("SELECT expires_on FROM land_charges")).scalar_one()
    later = _years_later(7)
    assert expires is not None and files_due(db, cast["manager"], today=later.date()) == []
    # due seven years after the charge ends, not while it lives
    after = datetime.combine(date.fromisoformat(str(expires)), datetime.min.time(), UTC) + timedelta(
        days=366 * 7
    )
    due = files_due(db, cast["manager"], today=after.date())
    assert [f.reference for f in due] == [reference]
    with pytest.raises(GuardFailed):
        authorise_disposal(db, cast["manager"], [reference], now=later)


def test_the_personal_keys_cover_the_case_opened_event() -> None:
    assert {"name", "date_of_birth", "address", "postcode", "reason", "notes"} <= PERSONAL_KEYS


def test_disposal_leaves_other_cases_alone(
    db: Database, cast: dict[str, Actor], cancelled: str, open_sample: Callable[..., str]
) -> None:
    other = open_sample()
    later = _years_later(7)
    authorise_disposal(db, cast["manager"], [cancelled], now=later)
    dispose(db, cast["admin"], now=later)
    assert (
        history(db, cast["officer"], other)[0].as_dict()["payload"]["people"][0]["name"]
        == "Mrs Margaret Holt"
    )
    with db.read_connection() as connection:
        people = connection.execute(select(text("count(*)")).select_from(text("people"))).scalar()
    assert people == 1


def test_a_checkpoint_taken_before_disposal_still_verifies_after_it(
    db: Database, cast: dict[str, Actor], cancelled: str, tmp_path: Path
) -> None:
    """Disposal erases values beside the chain, not events: the checkpoint's tree is unchanged."""
    from dfg.services.checkpoints import (
        make_audit_keys,
        take_checkpoint,
        verify_against_checkpoint,
        write_checkpoint,
    )

    private, public, note = tmp_path / "audit.key", tmp_path / "audit.pub", tmp_path / "checkpoint.txt"
    make_audit_keys(private, public, "internal-audit")
    write_checkpoint(note, take_checkpoint(db, cast["manager"], private).note)
    later = _years_later(7)
    authorise_disposal(db, cast["manager"], [cancelled], now=later)
    dispose(db, cast["admin"], now=later)
    assert verify_against_checkpoint(db, cast["manager"], note, public).problems == ()


def test_a_sealed_value_a_step_sets_on_the_case_row_checks_against_its_kept_value(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """The OT's priority reason is on the case row and, sealed, in the step's payload: the table check
    compares the row with the kept value, and sees it edited."""
    from dataclasses import replace

    from dfg.services.assessment import record_assessment
    from tests.conftest import sample_assessment

    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    assessment = replace(
        sample_assessment(date(2026, 2, 1)), priority="urgent", priority_reason="Discharge from hospital"
    )
    record_assessment(db, cast["ot"], reference, assessment)
    assert verify_audit(db, cast["manager"]).problems == ()
    with db.write_engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET priority_reason = 'Edited' WHERE reference = :r"), {"r": reference}
        )
    [problem] = verify_audit(db, cast["manager"]).problems
    assert problem.column == "priority_reason" and problem.held == "Edited"
