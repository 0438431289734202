"""The audit trail: append-only in the database, hash-chained, and tampering is detected."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from dfg.errors import AuditFailure, PermissionDenied
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.cases import advance
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step


@pytest.fixture
def walked(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    take_step(db, cast, reference, "record_assessment", "ot", TriggerInput())
    take_step(db, cast, reference, "complete_test_of_resources", "officer", TriggerInput())
    return reference


def _tamper(db: Database, *statements: str, **params: object) -> None:
    """Do what a database administrator could: switch the append-only guard off, edit, switch it on."""
    with db.write_engine.begin() as connection:
        if db.is_sqlite:
            connection.execute(text("DROP TRIGGER events_no_update"))
            connection.execute(text("DROP TRIGGER events_no_delete"))
        else:
            connection.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
        for sql in statements:
            connection.execute(text(sql), params)
        if not db.is_sqlite:
            connection.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))


def _problems(db: Database, cast: dict[str, Actor]) -> list[str]:
    return [str(p) for p in verify_audit(db, cast["manager"]).problems]


def test_an_intact_trail_verifies(db: Database, cast: dict[str, Actor], walked: str) -> None:
    report = verify_audit(db, cast["manager"])
    assert report.problems == ()
    assert report.streams == 2  # the case and the system stream (users, districts)
    assert report.events == 5 + 2 + len(
        cast
    )  # case: opened, 3 triggers, means test; system: 2 districts, 7 users
    report.raise_if_broken()


@pytest.mark.parametrize("sql", ["UPDATE events SET reason = 'x'", "DELETE FROM events"])
def test_the_database_refuses_to_change_events(db: Database, walked: str, sql: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), db.write_engine.begin() as connection:
        connection.execute(text(sql))


def test_an_edited_event_is_detected(db: Database, cast: dict[str, Actor], walked: str) -> None:
    _tamper(db, "UPDATE events SET actor = 'someone' WHERE stream = :r AND seq = 2", r=walked)
    assert _problems(db, cast) == [f"{walked} event 2: content does not match its hash (edited)"]
    with pytest.raises(AuditFailure, match="edited"):
        verify_audit(db, cast["manager"]).raise_if_broken()


def test_a_deleted_event_is_detected(db: Database, cast: dict[str, Actor], walked: str) -> None:
    _tamper(db, "DELETE FROM events WHERE stream = :r AND seq = 2", r=walked)
    assert _problems(db, cast) == [
        f"{walked} event 3: expected event 2: missing before it (deleted?)",
        f"{walked} event 3: does not follow the event before it",
    ]


def test_a_deleted_last_event_is_detected(db: Database, cast: dict[str, Actor], walked: str) -> None:
    _tamper(db, "DELETE FROM events WHERE stream = :r AND seq = 5", r=walked)
    chain, *tables = _problems(db, cast)
    assert chain == f"{walked}: the chain ends at event 4 but 5 were recorded"
    # and the case's row now holds what the deleted step wrote, which no remaining event says
    assert tables[0] == (
        f"{walked} event 3: cases {walked}: state is 'scheme_design' but the events say 'test_of_resources'"
    )


def test_reordered_events_are_detected(db: Database, cast: dict[str, Actor], walked: str) -> None:
    with db.reading() as session:
        second, third = session.execute(
            text("SELECT id FROM events WHERE stream = :r AND seq IN (2, 3) ORDER BY seq"), {"r": walked}
        ).scalars()
    # swap the positions (ids) of events 2 and 3, keeping their content
    _tamper(
        db,
        "UPDATE events SET id = -1 WHERE id = :second",
        "UPDATE events SET id = :second WHERE id = :third",
        "UPDATE events SET id = :third WHERE id = -1",
        second=second,
        third=third,
    )
    problems = _problems(db, cast)
    assert f"{walked} event 2: expected event 4: out of order or inserted" in problems


def test_an_inserted_event_is_detected(db: Database, cast: dict[str, Actor], walked: str) -> None:
    _tamper(
        db,
        "INSERT INTO events (stream, seq, case_id, occurred_at, actor, kind, payload, prev_hash, hash) "
        "SELECT stream, 6, case_id, occurred_at, 'intruder', 'transition', '{}', hash, hash FROM events "
        "WHERE stream = :r AND seq = 5",
        r=walked,
    )
    problems = _problems(db, cast)
    assert f"{walked} event 6: content does not match its hash (edited)" in problems
    assert f"{walked}: the chain ends at event 6 but 5 were recorded" in problems


def test_verifying_needs_a_manager_or_admin(db: Database, cast: dict[str, Actor], walked: str) -> None:
    with pytest.raises(PermissionDenied):
        verify_audit(db, cast["officer"])


def test_reasons_are_recorded(db: Database, cast: dict[str, Actor], walked: str) -> None:
    advance(db, cast["officer"], walked, "cancel", TriggerInput(code="died", reason="Died 3 March"))
    with db.reading() as session:
        row = session.execute(
            text(
                "SELECT actor, role, code, reason, from_state, to_state FROM events WHERE stream = :r ORDER BY seq DESC"
            ),
            {"r": walked},
        ).first()
    actor, role, code, reason, from_state, to_state = row
    assert (actor, role, code, from_state, to_state) == (
        "officer",
        "grant_officer",
        "died",
        "scheme_design",
        "cancelled",
    )
    assert reason.startswith("$sealed:")  # free text is personal: kept beside the chain, not in it
    assert history(db, cast["officer"], walked)[-1].reason == "Died 3 March"
