"""Backups of a SQLite database, and putting one back: each copy is checked (SQLite's integrity check
and the audit trail's hash chains) before it is called a backup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dfg.errors import AuditFailure, DatabaseProblem, InvalidInput
from dfg.rules.clock import utcnow
from dfg.store.audit import verify
from dfg.store.backup import copy_database, integrity_problems, keep_as_it_is, write_over
from dfg.store.database import KNOWN_REVISIONS, SCHEMA_HEAD, Database
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role


@dataclass(frozen=True)
class Backup:
    """A checked copy of the database."""

    path: Path
    schema: str | None
    streams: int
    events: int

    @property
    def current(self) -> bool:
        """Whether its schema is this version's (an older one needs ``db upgrade`` once restored)."""
        return self.schema == SCHEMA_HEAD

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "schema": self.schema, "streams": self.streams, "events": self.events}


def _sqlite_file(db: Database) -> Path:
    path = db.sqlite_path
    if path is None:
        raise InvalidInput(
            "a PostgreSQL database is backed up with pg_dump and restored with pg_restore "
            "(see the administrator's guide)"
        )
    return path


def _checked(path: Path) -> Backup:
    """The copy at ``path`` as a backup, once SQLite and the audit trail both find it whole."""
    problems = integrity_problems(path)
    if problems:
        raise DatabaseProblem(f"{path} is damaged: {problems[0]}")
    copy = Database(f"sqlite:///{path}")
    try:
        schema = copy.schema_revision()
        if schema is None:
            raise DatabaseProblem(f"{path} is not a DFG database")
        with copy.reading() as session:
            streams, events, broken = verify(session)
    finally:
        copy.dispose()
    if broken:
        raise AuditFailure(f"the audit trail in {path} is broken: {broken[0]}")
    return Backup(path, schema, streams, events)


def _copy(db: Database, target: Path) -> Backup:
    try:
        copy_database(_sqlite_file(db), target)
    except FileExistsError:
        raise InvalidInput(f"{target} exists already: a backup never overwrites another") from None
    except OSError as error:
        raise InvalidInput(f"cannot write {target}: {error.strerror}") from None
    try:
        return _checked(target)
    except (DatabaseProblem, AuditFailure):
        target.unlink(missing_ok=True)  # a copy that fails its checks is no backup
        raise


def back_up(db: Database, actor: Actor, target: Path) -> Backup:
    """Copy the database to ``target`` while it is in use, and check the copy (role: administrator)."""
    require_role(actor, "admin")
    return _copy(db, target)


def safety_copy_name(path: Path, schema: str | None, now: datetime) -> Path:
    """Where the copy taken before a change to the whole database goes: beside it, named by the schema
    it had and the time (UTC), so copies never collide and sort by age."""
    return path.with_name(f"{path.name}.{schema or 'empty'}-{now:%Y%m%dT%H%M%SZ}.bak")


def back_up_before_upgrade(db: Database, schema: str | None, *, now: datetime | None = None) -> Backup | None:
    """Before ``db upgrade`` changes an existing SQLite database: a checked copy beside it. ``None`` for a
    database that has no schema yet, is already current, or is on PostgreSQL (``pg_dump`` it first)."""
    if db.sqlite_path is None or schema is None or schema == SCHEMA_HEAD:
        return None
    return _copy(db, safety_copy_name(db.sqlite_path, schema, now or utcnow()))


def restorable(db: Database, actor: Actor, source: Path) -> Backup:
    """The backup ``source`` once it has passed the checks a restore needs, so that a refusal comes before
    anyone is asked to confirm (role: administrator)."""
    require_role(actor, "admin")
    _sqlite_file(db)
    try:
        there = source.is_file()
    except OSError as error:  # a name the file system cannot hold, say
        raise InvalidInput(f"no backup at {source}: {error.strerror}") from None
    if not there:
        raise InvalidInput(f"no backup at {source}")
    restored = _checked(source)
    if restored.schema not in KNOWN_REVISIONS:
        raise DatabaseProblem(f"{source} was made by a newer version of dfg (schema {restored.schema})")
    return restored


def restore(db: Database, actor: Actor, source: Path, *, now: datetime | None = None) -> tuple[Backup, Path]:
    """Put the backup ``source`` back in place of the database, once it has passed its checks; the
    database as it was is kept first, beside it, even if it is damaged (that may be why it is being
    restored), so nothing recorded since the backup is lost for good (role: administrator). Returns the
    backup restored and where the database as it was is kept."""
    restored = restorable(db, actor, source)
    live = _sqlite_file(db)
    try:
        schema = db.schema_revision()
    except DatabaseProblem:
        schema = None
    kept = safety_copy_name(live, schema, now or utcnow())
    db.dispose()  # no connection of ours holds the file while it is copied and written over
    keep_as_it_is(live, kept)
    write_over(source, live)
    return restored, kept
