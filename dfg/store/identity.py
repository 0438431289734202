"""Who is at the other end of a connection, as the database or the machine can prove it.

On a SQLite file that is the operating-system account the process runs as (whoever can open the file can
claim nothing else); on PostgreSQL it is the login the server authenticated (``current_user``). Nothing
here reads an environment variable: a principal that could be set by the caller would prove nothing.
"""

from __future__ import annotations

import os
import pwd
from typing import NamedTuple

from sqlalchemy import Connection, text

from dfg.store.database import Database


class Principal(NamedTuple):
    """A proven account: ``os`` (an operating-system account), ``db`` (a PostgreSQL login) or ``oidc`` (a
    single sign-on subject, ``<issuer>|<subject>``)."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{_KIND_NAMES.get(self.kind, self.kind)} '{self.name}'"


_KIND_NAMES = {"os": "operating-system account", "db": "database login", "oidc": "single sign-on subject"}


def os_account(uid: int | None = None) -> str:
    """The name of the account ``uid`` (default: the effective one), or its number if it has none."""
    uid = os.geteuid() if uid is None else uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a container's uid with no passwd entry
        return str(uid)


def current_principal(db: Database, connection: Connection | None = None) -> Principal:
    """The principal this process acts for on ``db`` (on PostgreSQL, asked of ``connection``)."""
    if db.is_sqlite:
        return Principal("os", os_account())
    assert connection is not None, "PostgreSQL's login is asked of a connection"
    return Principal("db", str(connection.execute(text("SELECT current_user")).scalar()))


def database_owner(db: Database, connection: Connection) -> Principal:
    """Who owns the database: the SQLite file's owner, or the owner of PostgreSQL's ``events`` table
    (whoever ran the migrations). Only they may make the first mapping of a database that has none."""
    if db.is_sqlite:
        path = db.sqlite_path
        assert path is not None
        return Principal("os", os_account(path.stat().st_uid))
    owner = connection.execute(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'events' AND schemaname = current_schema()")
    ).scalar()
    return Principal("db", str(owner))
