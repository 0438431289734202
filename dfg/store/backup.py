"""Copies of a SQLite database made while it is in use: SQLite's online backup, which copies a
consistent snapshot page by page while officers go on working, and the integrity check of the copy.

A PostgreSQL database is backed up by its own tools (``pg_dump``; see the administrator's guide)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import BinaryIO


def copy_database(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` (with what its -wal holds) into ``target``, a new file readable by
    its owner only. Raises ``FileExistsError`` if ``target`` exists: a backup never overwrites another."""
    new_file(target).close()
    try:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def keep_as_it_is(source: Path, target: Path) -> None:
    """Keep the SQLite database ``source`` in ``target`` (a new file, owner only) before it is replaced:
    through the online backup if SQLite can read it, byte for byte (with its -wal) if it is too damaged."""
    try:
        copy_database(source, target)
    except sqlite3.DatabaseError:
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                with open(f"{source}{suffix}", "rb") as old, new_file(Path(f"{target}{suffix}")) as copy:
                    shutil.copyfileobj(old, copy)


def new_file(path: Path, mode: int = 0o600) -> BinaryIO:
    """A new file (never one that exists: ``FileExistsError``), by default readable by its owner only."""
    return os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode), "wb")


def write_over(source: Path, target: Path) -> None:
    """Replace the contents of the live SQLite database ``target`` with ``source``, through the same
    online backup (it takes the database's locks, so nobody reads a half-written file)."""
    with closing(sqlite3.connect(source)) as backup, closing(sqlite3.connect(target, timeout=15)) as live:
        backup.backup(live)


def integrity_problems(path: Path) -> list[str]:
    """What SQLite's ``integrity_check`` finds wrong with the database file (empty: nothing)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            found = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if found == ["ok"] else found
