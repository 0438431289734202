"""Where documents' bytes are kept: a folder beside the SQLite file (``<name>-documents``), or the
folder ``DFG_DOCUMENTS`` names (a shared deployment; required with PostgreSQL). Files are written once,
readable by their owner only, under a name the engine makes (never the uploader's)."""

from __future__ import annotations

import os
from pathlib import Path

from dfg.errors import ConfigurationError
from dfg.store.database import Database


def documents_folder(db: Database) -> Path:
    configured = os.environ.get("DFG_DOCUMENTS")
    if configured:
        return Path(configured)
    if db.sqlite_path is None:
        raise ConfigurationError(
            "set DFG_DOCUMENTS to the folder where a shared database keeps its documents"
        )
    return db.sqlite_path.with_name(db.sqlite_path.name + "-documents")


def keep(folder: Path, stored_as: str, content: bytes) -> None:
    """Write a document's bytes, owner-only. Files are named by their SHA-256, so one already there holds
    the same bytes (the same file attached twice, or a retry after a crash) and is never written over."""
    path = folder / stored_as
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the folder as well as the case's: owner-only
    path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as file:
            file.write(content)
    except FileExistsError:
        return


def read(folder: Path, stored_as: str) -> bytes | None:
    try:
        return (folder / stored_as).read_bytes()
    except FileNotFoundError:
        return None


def remove(folder: Path, stored_as: str) -> None:
    (folder / stored_as).unlink(missing_ok=True)
