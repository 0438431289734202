"""Migrations make exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from dfg.errors import DatabaseProblem
from dfg.rules.clock import local_day, utcnow
from dfg.services.appointments import Appointment, book_appointment, cancel_visit
from dfg.services.assessment import record_feasibility
from dfg.services.case_reading import view_case
from dfg.services.cases import advance
from dfg.services.land_charge import record_repayment_decision
from dfg.services.letter_batch import render_pending
from dfg.store.database import KNOWN_REVISIONS, SCHEMA_HEAD, Database
from dfg.store.migrate import script_head, script_revisions, upgrade
from dfg.store.models import APPEND_ONLY, Base
from dfg.store.text_index import outside_the_models
from dfg.workflow.actor import Actor
from tests.conftest import walk_to


def test_code_knows_the_newest_migration() -> None:
    assert script_head() == SCHEMA_HEAD
    assert script_revisions() == KNOWN_REVISIONS


def test_upgrade_on_an_empty_database_matches_the_models(empty_url: str) -> None:
    database = Database(empty_url)
    assert upgrade(database) == (None, SCHEMA_HEAD)
    assert upgrade(database) == (SCHEMA_HEAD, SCHEMA_HEAD)  # running it again is harmless
    with database.write_engine.connect() as connection:
        # the text index's FTS5 table or trigram index is made by the migration, described by no model
        context = MigrationContext.configure(connection, opts={"include_name": outside_the_models})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    database.check_schema()
    database.dispose()


def test_an_empty_database_is_refused_until_upgraded(empty_url: str) -> None:
    database = Database(empty_url)
    with pytest.raises(DatabaseProblem, match="has no DFG tables: run 'dfg db upgrade'"):
        database.check_schema()
    database.dispose()


def test_a_newer_schema_is_refused(db_url: str) -> None:
    database = Database(db_url)
    with database.write_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseProblem, match=r"was made by a newer version of dfg \(schema 9999\)"):
        database.check_schema()
    database.dispose()


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    database = Database(f"sqlite:///{path}")
    with database.write_engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER)"))
    with pytest.raises(DatabaseProblem, match="is not a DFG database"):
        database.check_schema()
    database.dispose()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n" * 100)
    with pytest.raises(DatabaseProblem):
        Database.open(str(path))


def test_every_decision_table_is_append_only(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Alembic's comparison cannot see triggers, so check that the database itself refuses changes to a
    row of every table listed as append-only."""
    from dfg.services.documents import add_document
    from dfg.services.landlord_grant import decide_landlord_grant

    reference = open_sample()
    monkeypatch.setenv("DFG_DOCUMENTS", str(tmp_path / "documents"))
    add_document(db, cast["officer"], reference, name="report.pdf", content=b"%PDF-1.7\n", kind="ot_report")
    walk_to(db, cast, reference, "closed")  # estimates, approval, payment, invoice, land charge, budget
    record_feasibility(db, cast["technical"], open_sample(), decided_on=local_day(utcnow()),
                       reasonable_and_practicable=True, reasons="Sound")  # fmt: skip
    record_repayment_decision(db, cast["approver"], reference, disposal_on=local_day(utcnow()), decision="waive",
                              amount_pence=None, factors=["health"], reason="Moved for treatment")  # fmt: skip
    decide_landlord_grant(db, cast["approver"], open_sample(tenure="landlord"), amount_pence=5000_00,
                          factors=["rent"], reason="The rent may rise by £10 a week")  # fmt: skip
    booked = open_sample()
    advance(db, cast["officer"], booked, "accept_referral")
    book_appointment(db, cast["ot"], booked, Appointment(at=utcnow() + timedelta(days=9), assessor_name="Ruth Ashley",
                                                         assessor_organisation="Staffordshire County Council"))  # fmt: skip
    cancel_visit(db, cast["ot"], booked, "Applicant in hospital")  # the booking stays; its cancellation too
    render_pending(db, cast["officer"], workers=1)
    view_case(db, cast["officer"], reference)  # the access record
    for table in APPEND_ONLY:
        with db.read_connection() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar(), table
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"), db.write_engine.begin() as connection:
                connection.execute(text(sql))


def test_the_database_refuses_unknown_states(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from dfg.store.models import CASE_STATES

    with db.write_engine.connect() as connection:
        for state in (*CASE_STATES, "limbo"):
            try:
                with connection.begin_nested():
                    connection.execute(
                        text(
                            "INSERT INTO districts (code, name) SELECT 'ZZ', 'Z' WHERE NOT EXISTS "
                            "(SELECT 1 FROM districts WHERE code = 'ZZ')"
                        )
                    )
                    connection.execute(
                        text(
                            "INSERT INTO properties (address_line_1, town, postcode, district_code) "
                            "VALUES ('1 A St', 'T', 'P', 'ZZ')"
                        )
                    )
                    connection.execute(
                        text(
                            "INSERT INTO cases (reference, district_code, property_id, workflow_version, state, "
                            "priority, tenure, first_contact_date, audit_seq, audit_head, version, created_at, "
                            "updated_at) VALUES (:ref, 'ZZ', (SELECT max(id) FROM properties), 'dfg@1', :state, "
                            "'urgent', 'owner', '2026-01-01', 0, '', 1, '2026-01-01 00:00:00', "
                            "'2026-01-01 00:00:00')"
                        ),
                        {"ref": f"ZZ-2026-{len(state):04d}{state[:3]}", "state": state},
                    )
                accepted = True
            except IntegrityError:
                accepted = False
            assert accepted == (state != "limbo"), state
        connection.rollback()


def _format_1_case(connection: Any, reference: str, *, case_id: int) -> None:
    """A case as a database before sealing held it: its events format 1, personal values in the clear."""
    from dfg.store.audit import NewEvent, chained

    now = utcnow()
    connection.execute(
        text(
            "INSERT INTO properties (id, address_line_1, town, postcode, district_code) "
            "VALUES (:id, '9 Old Street', 'Rugeley', 'WS15 2AB', 'CAN')"
        ),
        {"id": case_id},
    )
    head, seq = "", 0
    events = [
        NewEvent(now, "officer", "case_opened", to_state="referral",
                 payload={"people": [{"name": "Mrs Edna Oldcastle", "date_of_birth": "1939-01-02"}]}),
        NewEvent(now, "officer", "transition", trigger="cancel", from_state="referral", to_state="cancelled",
                 reason="Edna moved to her daughter's"),
    ]  # fmt: skip
    rows = []
    for new in events:
        seq += 1
        row = chained(new, stream=reference, seq=seq, prev_hash=head, case_id=case_id)
        del row["format"]  # the column does not exist yet; the hash is format 1's
        rows.append(row)
        head = row["hash"]
    connection.execute(
        text(
            "INSERT INTO cases (id, reference, district_code, property_id, workflow_version, state, priority, "
            "tenure, first_contact_date, audit_seq, audit_head, version, created_at, updated_at) VALUES "
            "(:id, :ref, 'CAN', :id, 'dfg@1', 'cancelled', 'non_urgent', 'owner', :day, :seq, :head, 1, :now, :now)"
        ),
        {"id": case_id, "ref": reference, "day": local_day(now), "seq": seq, "head": head, "now": now},
    )
    for row in rows:
        connection.execute(
            text(
                "INSERT INTO events (stream, seq, case_id, occurred_at, actor, role, kind, trigger, from_state, "
                "to_state, reason, code, payload, workflow_version, prev_hash, hash) VALUES (:stream, :seq, "
                ":case_id, :occurred_at, :actor, :role, :kind, :trigger, :from_state, :to_state, :reason, :code, "
                ":payload, :workflow_version, :prev_hash, :hash)"
            ),
            row,
        )


def test_upgrading_seals_the_personal_values_of_older_events(empty_url: str) -> None:
    """Events written before format 2 are sealed and their streams rehashed; a stream that did not verify
    is left as it was, and both are said on the system stream."""
    from dfg.store.audit import FORMAT_UPGRADED, verify

    database = Database(empty_url)
    upgrade(database, "0006")
    with database.write_engine.begin() as connection:
        connection.execute(text("INSERT INTO districts (code, name) VALUES ('CAN', 'Cannock Chase')"))
        _format_1_case(connection, "CAN-2020-0001", case_id=1)
        _format_1_case(connection, "CAN-2020-0002", case_id=2)
        connection.execute(text("UPDATE cases SET audit_head = 'forged' WHERE id = 2"))  # tampered before
    upgrade(database)
    with database.reading() as session:
        streams, events, problems = verify(session)
        rows = session.execute(
            text("SELECT stream, kind, format, payload, reason FROM events ORDER BY id")
        ).all()
        kept = session.execute(text("SELECT value FROM personal_values WHERE case_id = 1")).scalars().all()
    database.dispose()
    sealed = [r for r in rows if r.stream == "CAN-2020-0001"]
    assert [r.format for r in sealed] == [2, 2]
    assert all("Oldcastle" not in r.payload and "daughter" not in (r.reason or "") for r in sealed)
    assert sorted(kept) == sorted(['"Mrs Edna Oldcastle"', '"1939-01-02"', '"Edna moved to her daughter\'s"'])
    left = [r for r in rows if r.stream == "CAN-2020-0002"]
    assert [r.format for r in left] == [1, 1] and "Oldcastle" in left[0].payload
    [upgraded] = [r for r in rows if r.stream == "system"]
    assert upgraded.kind == FORMAT_UPGRADED
    assert '"left_as_they_were":["CAN-2020-0002"]' in upgraded.payload and '"streams":1' in upgraded.payload
    assert [p.stream for p in problems] == ["CAN-2020-0002"]  # the old tampering still shows
    assert (streams, events) == (3, 5)
