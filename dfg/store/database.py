"""Engines and transactions: the only module that knows SQLite from PostgreSQL.

SQLite (the default, one file) gets the settings measured in ``decisions.md``: WAL, ``synchronous=NORMAL``,
foreign keys on, a 15 s busy timeout, and ``BEGIN IMMEDIATE`` for write transactions so two processes
never deadlock upgrading a read lock. PostgreSQL (a county sharing one database) needs none of that.
Reads and writes use separate engines so a read never takes the write lock.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from dfg.errors import DatabaseProblem
from dfg.store.prepared import Driver

DEFAULT_DB = "dfg.sqlite"

# The newest migration this code knows, and every one before it. tests/test_migrations.py checks these
# against the migration scripts, so the CLI can check a database without importing Alembic.
SCHEMA_HEAD = "0018"
KNOWN_REVISIONS = frozenset(
    {
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
        "0014",
        "0015",
        "0016",
        "0017",
        "0018",
    }
)


def database_url(db: str | None = None) -> str:
    """Turn ``--db`` / ``DFG_DB`` (a file path or a SQLAlchemy URL) into a URL."""
    value = db or os.environ.get("DFG_DB") or DEFAULT_DB
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _sqlite_engine(url: str, *, begin: str, foreign_keys: bool = True) -> Engine:
    # Every transaction here ends in COMMIT or ROLLBACK, so the pool's own rollback on check-in is a
    # wasted round trip on the hot path.
    engine = create_engine(url, pool_reset_on_return=None)
    path = Path(make_url(url).database or "")

    @event.listens_for(engine, "do_connect")
    def create_for_its_users_only(*_: Any) -> None:
        # The file holds health and financial data: a new one is readable by its owner only, whatever the
        # umask, or by the folder's group too when the folder is shared with a group of dfg users (see
        # the administrator's guide). SQLite gives its -wal and -shm files the database file's permissions.
        if path.name and not path.exists():
            shared = path.parent.exists() and path.parent.stat().st_mode & stat.S_IWGRP
            with suppress(FileExistsError):
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o660 if shared else 0o600)
                os.fchmod(fd, 0o660 if shared else 0o600)  # the umask may have taken the group's bits
                os.close(fd)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 15000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # straight to the driver: through exec_driver_sql this one word cost 30 µs a transaction
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(begin)
        cursor.close()

    return engine


class Database:
    """A DFG database: the engines, and transactions for reading and for writing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"

    # The engines are made on first use: a command that only reads never builds the write engine.
    @cached_property
    def read_engine(self) -> Engine:
        if self.is_sqlite:
            return _sqlite_engine(self.url, begin="BEGIN")
        return create_engine(self.url, pool_pre_ping=False)

    @cached_property
    def write_engine(self) -> Engine:
        if self.is_sqlite:
            return _sqlite_engine(self.url, begin="BEGIN IMMEDIATE")
        return self.read_engine

    @classmethod
    def open(cls, db: str | None = None, *, check: bool = True, must_exist: bool | None = None) -> Database:
        """Open ``db`` (path or URL); with ``check``, refuse one that is not an up-to-date DFG database.
        A SQLite file that does not exist is refused when ``must_exist`` (by default, when checking)."""
        url = database_url(db)
        if must_exist is None:
            must_exist = check
        if url.startswith("sqlite:///") and must_exist and not Path(url.removeprefix("sqlite:///")).exists():
            raise DatabaseProblem(
                f"no database at {url.removeprefix('sqlite:///')}: run 'dfg db upgrade' to create it"
            )
        database = cls(url)
        if check:
            try:
                database.check_schema()
            except BaseException:
                database.dispose()  # a database refused keeps no connection open behind it
                raise
        return database

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, or ``None`` on PostgreSQL."""
        return Path(make_url(self.url).database or "") if self.is_sqlite else None

    def readable_by_others(self) -> list[str]:
        """The files of a SQLite database (with its -wal and -shm) that anyone on the machine can read or
        write, beyond their owner and group; empty for PostgreSQL, whose server guards its own files."""
        if not self.is_sqlite:
            return []
        database = self.sqlite_path or Path()
        files = (
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
        )
        return [str(f) for f in files if f.exists() and f.stat().st_mode & stat.S_IRWXO]

    def dispose(self) -> None:
        made = [self.__dict__[name] for name in ("read_engine", "write_engine") if name in self.__dict__]
        for engine in {id(engine): engine for engine in made}.values():  # PostgreSQL: one engine for both
            engine.dispose()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with Session(self.read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session that sees the database as it stood at one moment, however many queries it
        runs and whatever commits meanwhile: on PostgreSQL a REPEATABLE READ READ ONLY transaction (the
        default READ COMMITTED sees each query's own moment); on SQLite one read transaction already does."""
        with self.read_engine.connect() as connection:
            if not self.is_sqlite:
                connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all."""
        with Session(self.write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection in a read transaction: the hot path's cheaper equivalent of :meth:`reading`."""
        with self.read_engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in a write transaction that commits at the end, or not at all."""
        with self.write_engine.begin() as connection:
            yield connection

    @contextmanager
    def driver_transaction(self, *, write: bool = False) -> Iterator[Driver]:
        """A transaction on the driver's own connection from the pool, for prepared statements only
        (:mod:`dfg.store.prepared`): a fifth of the Python a SQLAlchemy transaction costs, which on the
        hot path is more than the database's own work. Commits at the end, or rolls back."""
        engine = self.write_engine if write else self.read_engine
        connection = engine.raw_connection()
        try:
            if self.is_sqlite:  # the driver is in autocommit mode: begin as the engines do
                cursor = connection.cursor()
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                cursor.close()
            yield Driver(connection, engine.dialect)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    # ------------------------------------------------------------------ schema

    def schema_revision(self) -> str | None:
        """The migration the database is at, ``None`` if it has no DFG schema at all."""
        try:
            with self.read_engine.connect() as connection:
                try:  # the common case first: one query, no catalogue inspection
                    with connection.begin():
                        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                except DatabaseError:
                    pass
                names = inspect(connection).get_table_names()
                if names:
                    raise DatabaseProblem(f"{self.display_name} is not a DFG database")
                return None
        except DatabaseError as exc:
            if "file is not a database" in str(exc.orig):
                raise DatabaseProblem(f"{self.display_name} is not a DFG database") from None
            raise DatabaseProblem(f"cannot read {self.display_name}: {str(exc.orig).strip()}") from None

    def check_schema(self) -> None:
        """Raise :class:`DatabaseProblem` unless the schema is exactly what this code expects."""
        revision = self.schema_revision()
        if revision is None:
            raise DatabaseProblem(f"{self.display_name} has no DFG tables: run 'dfg db upgrade'")
        if revision not in KNOWN_REVISIONS:
            raise DatabaseProblem(
                f"{self.display_name} was made by a newer version of dfg (schema {revision}): upgrade dfg"
            )
        if revision != SCHEMA_HEAD:
            raise DatabaseProblem(f"{self.display_name} is at schema {revision}: run 'dfg db upgrade'")

    @property
    def display_name(self) -> str:
        url = make_url(self.url)
        if self.is_sqlite:
            return f"the database {url.database}"
        return f"the database {url.database} on {url.host or 'localhost'}"

    @contextmanager
    def migration_connection(self) -> Iterator[Connection]:
        """A connection for Alembic. On SQLite, foreign keys are off *before* the migration's
        transaction (batch migrations copy and drop tables), and checked once it has committed."""
        if not self.is_sqlite:
            with self.write_engine.begin() as connection:
                yield connection
            return
        engine = _sqlite_engine(self.url, begin="BEGIN IMMEDIATE", foreign_keys=False)
        try:
            with engine.connect() as connection:
                with connection.begin():
                    yield connection
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise DatabaseProblem(f"migration left broken foreign keys: {problems[:5]}")
        finally:
            engine.dispose()
