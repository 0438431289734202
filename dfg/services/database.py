"""The database as a face sees it: open one for a command, say whether its schema is current, bring it up
to date, and turn a refusal of the database driver into the engine's own error.

The faces (``cli.py`` and ``dfg/cli/``, and the browser application beside them) come here instead of
importing ``dfg.store`` or SQLAlchemy, so the store can change without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dfg.errors import Conflict, DatabaseProblem, DfgError
from dfg.store.database import SCHEMA_HEAD, Database, database_url

if TYPE_CHECKING:
    from dfg.services.backup import Backup

__all__ = [
    "Database",
    "DatabaseStatus",
    "database_status",
    "engine_error",
    "open_database",
    "upgrade_database",
]


def open_database(db: str | None, *, check: bool = True) -> Database:
    """Open ``db`` (a path or URL; default ``DFG_DB`` or ./dfg.sqlite); with ``check``, refuse one that is
    missing or whose schema is not current."""
    try:
        return Database.open(db, check=check)
    except DatabaseProblem as problem:
        # the first thing a new user tries after `dfg demo` is a command without --db
        default = database_url(None).removeprefix("sqlite:///")
        if db is None and check and not Path(default).exists() and Path(DEMO_DB).exists():
            raise DatabaseProblem(f"{problem.message}, or use the demonstration: --db {DEMO_DB}") from None
        raise


@dataclass(frozen=True)
class DatabaseStatus:
    """Which database is in use, the schema it has and the schema this code expects."""

    database: str
    schema: str | None
    expected: str
    #: files of the database that people other than their owner may read (special-category data)
    readable_by_others: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        return self.schema == self.expected

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "schema": self.schema,
            "expected": self.expected,
            "readable_by_others": list(self.readable_by_others),
        }


def database_status(db: str | None) -> DatabaseStatus:
    """The status of ``db`` without changing it: a SQLite file that does not exist is not created."""
    database = Database.open(db, check=False, must_exist=True)
    try:
        return DatabaseStatus(
            database.display_name,
            database.schema_revision(),
            SCHEMA_HEAD,
            tuple(database.readable_by_others()),
        )
    finally:
        database.dispose()


@dataclass(frozen=True)
class Upgrade:
    """What ``db upgrade`` did: the schema before (``None``: empty) and after, and the checked copy it
    took first of a SQLite database it changed."""

    before: str | None
    after: str
    backup: Backup | None


def upgrade_database(database: Database) -> Upgrade:
    """Create the schema or bring it up to date; an existing SQLite database is backed up first (a copy
    beside it, checked like any backup), so an upgrade that goes wrong can be undone."""
    from dfg.services.backup import back_up_before_upgrade
    from dfg.store.migrate import upgrade  # Alembic, only when a database is upgraded

    backup = back_up_before_upgrade(database, database.schema_revision())
    before, after = upgrade(database)
    return Upgrade(before, after, backup)


def grant_engine_roles(database: Database, engine_role: str, admin_role: str, *, apply: bool) -> list[str]:
    """The SQL that sets up the roles the engine runs as on PostgreSQL (see dfg.store.roles), run here
    when ``apply`` (by the owner of the tables, after each upgrade)."""
    from sqlalchemy.exc import DBAPIError

    from dfg.errors import InvalidInput, PermissionDenied
    from dfg.store.roles import grant_statements

    if database.is_sqlite:
        raise InvalidInput("a SQLite database has no roles: its file's owner and permissions guard it")
    statements = grant_statements(engine_role, admin_role)
    if apply:
        database.check_schema()
        try:
            with database.write_connection() as connection:
                for statement in statements:
                    connection.exec_driver_sql(statement)
        except DBAPIError as error:  # not the owner: the server's words, never the SQL
            problem = str(error.orig).strip().splitlines()[0]
            raise PermissionDenied(f"only the owner of the tables may grant the roles: {problem}") from None
    return statements


#: The file `dfg demo` makes unless told otherwise.
DEMO_DB = "dfg-demo.sqlite"

#: Database drivers a URL can name, as Python imports them.
_DRIVERS = frozenset({"psycopg", "psycopg2", "pg8000", "asyncpg", "pymysql", "MySQLdb", "oracledb"})


def engine_error(error: BaseException) -> DfgError | None:
    """The engine's error for the database driver refusing (busy, unreachable, read-only) or missing, or
    None when ``error`` is not such a refusal. Only the driver's own words are kept, never the SQL or its
    values."""
    from sqlalchemy.exc import OperationalError

    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in _DRIVERS:
        return DatabaseProblem(
            f"the database driver {error.name} is not installed: for PostgreSQL, install dfg[postgres] "
            "and use a postgresql+psycopg:// URL"
        )
    if not isinstance(error, OperationalError):
        return None
    if "locked" in str(error.orig):
        return Conflict("the database is busy (another officer is saving): try again in a moment")
    return DatabaseProblem(f"database error: {str(error.orig).strip()}")
