"""Migrations make exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from dfg.errors import DatabaseProblem
from dfg.rules.clock import local_day, utcnow
from dfg.services.appointments import Appointment, book_appointment
from dfg.services.assessment import record_feasibility
from dfg.services.case_reading import view_case
from dfg.services.cases import advance
from dfg.services.land_charge import record_repayment_decision
from dfg.services.letter_batch import render_pending
from dfg.store.database import KNOWN_REVISIONS, SCHEMA_HEAD, Database
from dfg.store.migrate import script_head, script_revisions, upgrade
from dfg.store.models import APPEND_ONLY, Base
from dfg.workflow.actor import Actor
from tests.conftest import BACKENDS, PostgresDatabases, walk_to


def test_code_knows_the_newest_migration() -> None:
    assert script_head() == SCHEMA_HEAD
    assert script_revisions() == KNOWN_REVISIONS


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    return postgres.fresh(migrated=False)


def test_upgrade_on_an_empty_database_matches_the_models(empty_url: str) -> None:
    database = Database(empty_url)
    assert upgrade(database) == (None, SCHEMA_HEAD)
    assert upgrade(database) == (SCHEMA_HEAD, SCHEMA_HEAD)  # running it again is harmless
    with database.write_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
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
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """Alembic's comparison cannot see triggers, so check that the database itself refuses changes to a
    row of every table listed as append-only."""
    reference = open_sample()
    walk_to(db, cast, reference, "closed")  # estimates, approval, payment, invoice, land charge, budget
    record_feasibility(db, cast["technical"], open_sample(), decided_on=local_day(utcnow()),
                       reasonable_and_practicable=True, reasons="Sound")  # fmt: skip
    record_repayment_decision(db, cast["approver"], reference, disposal_on=local_day(utcnow()), decision="waive",
                              amount_pence=None, factors=["health"], reason="Moved for treatment")  # fmt: skip
    booked = open_sample()
    advance(db, cast["officer"], booked, "accept_referral")
    book_appointment(db, cast["ot"], booked, Appointment(at=utcnow() + timedelta(days=9), assessor_name="Ruth Ashley",
                                                         assessor_organisation="Staffordshire County Council"))  # fmt: skip
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
