"""Migrations make exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from dfg.errors import DatabaseProblem
from dfg.store.database import KNOWN_REVISIONS, SCHEMA_HEAD, Database
from dfg.store.migrate import script_head, script_revisions, upgrade
from dfg.store.models import Base
from tests.conftest import BACKENDS, PostgresDatabases


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
