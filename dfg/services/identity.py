"""Who is acting: the user a command or a page acts as, with their roles, district and delegated limit.

A command acts as a user only on proof: the principal the process runs as (its operating-system account
on a SQLite file, its login on PostgreSQL; see :mod:`dfg.store.identity`) must be mapped to that user by
an administrator. ``--as`` chooses among the users a principal is mapped to; with only one it may be left
out. A database made by ``dfg demo`` is the exception: there ``--as`` chooses freely, and says so.

Every action starts here, so the proof reads with one Core query (the ORM's first query would set up every
mapper) and imports nothing of the store's record classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.rules.clock import utcnow
from dfg.store.audit import NewEvent, append_to_system
from dfg.store.database import Database
from dfg.store.identity import Principal, current_principal, database_owner
from dfg.store.tables import IDENTITY_MAPPINGS, INSTALLATION, USER_ROLES, USERS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

__all__ = [
    "Principal",
    "Proof",
    "identities",
    "identities_of",
    "is_demo",
    "map_command",
    "map_identity",
    "mark_demo",
    "principal_for",
    "prove_actor",
    "resolve_actor",
    "running_principal",
    "sign_on_principal",
    "unmap_identity",
    "unmapped",
    "user_actor",
    "write_mapping",
]

DEMO = "demo"  # the installation row ``dfg demo`` writes: --as is free on its database


@dataclass(frozen=True)
class Proof:
    """The user a process acts as, and whether that was proven (it is not on a demo database)."""

    actor: Actor
    proven: bool


def resolve_actor(db: Database, username: str | None) -> Actor:
    """The user this process may act as (``--as`` / ``DFG_USER`` choosing among those its principal is
    mapped to); see :func:`prove_actor`."""
    return prove_actor(db, username).actor


def prove_actor(db: Database, username: str | None) -> Proof:
    """The user this process acts as, proven by its principal's mappings, or chosen freely on a demo
    database. Raises PermissionDenied, naming the principal, when the proof is missing."""
    with db.read_connection() as connection:
        rows = connection.execute(_candidates(db), {"username": username or "", **_os_principal(db)}).all()
        demo = rows[0].demo if rows else is_demo(connection)
        if demo:
            return Proof(_free_choice(rows, username), proven=False)
        mapped = {row.username: row for row in rows if row.mapped}
        if not mapped:
            principal = current_principal(db, connection)
            raise PermissionDenied(f"{principal} is not mapped to any dfg user: {_how_to_map(principal)}")
        if username is None and len(mapped) > 1:
            raise PermissionDenied(
                "say who you are: --as USER or the DFG_USER environment variable "
                f"(you may act as {', '.join(sorted(mapped))})"
            )
        chosen = username or next(iter(mapped))
        if chosen not in mapped:
            principal = current_principal(db, connection)
            raise PermissionDenied(
                f"{principal} may act only as {', '.join(sorted(mapped))}, not as '{chosen}'"
            )
    return Proof(_actor([r for r in rows if r.username == chosen]), proven=True)


def _free_choice(rows: Sequence[Any], username: str | None) -> Actor:
    if not username:
        raise PermissionDenied("say who you are: --as USER or the DFG_USER environment variable")
    named = [r for r in rows if r.username == username]
    if not named:
        raise NotFound(f"no user '{username}' (an administrator adds users with 'dfg user add')")
    return _actor(named)


def _actor(rows: Sequence[Any]) -> Actor:
    user = rows[0]
    if not user.active:
        raise PermissionDenied(f"user '{user.username}' is deactivated")
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(r.role for r in rows if r.role is not None),
        district=user.district_code,
        approval_limit_pence=user.approval_limit_pence,
    )


def user_actor(db: Database, username: str) -> Actor:
    """A user named by someone already acting (a second approver), or by a library caller building its
    own data (the demo): a lookup, not a proof."""
    with db.read_connection() as connection:
        rows = connection.execute(_NAMED, {"username": username}).all()
    if not rows:
        raise NotFound(f"no user '{username}' (an administrator adds users with 'dfg user add')")
    return _actor(rows)


_MAP_OPTIONS = {"os": "--os-account", "db": "--db-login", "oidc": "--oidc"}


def map_command(principal: Principal) -> str:
    """The command an administrator types to map ``principal`` (quoted where a shell would split it)."""
    name = f"'{principal.name}'" if principal.kind == "oidc" else principal.name
    return f"dfg user map USER {_MAP_OPTIONS[principal.kind]} {name}"


def _how_to_map(principal: Principal) -> str:
    return f"an administrator maps it with '{map_command(principal)}'"


def _os_principal(db: Database) -> dict[str, str]:
    """The bound principal on SQLite; on PostgreSQL the query asks the server (``current_user``)."""
    if db.is_sqlite:
        return {"principal": current_principal(db).name}
    return {}


def is_demo(connection: Connection) -> bool:
    """Whether the database was made by ``dfg demo`` (where --as is free)."""
    return connection.scalar(select(exists().where(INSTALLATION.c.name == DEMO))) or False


_USER_COLUMNS = (
    USERS.c.id,
    USERS.c.username,
    USERS.c.active,
    USERS.c.district_code,
    USERS.c.approval_limit_pence,
    USER_ROLES.c.role,
)


def _principal_is(kind: str, principal: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(IDENTITY_MAPPINGS.c.kind == kind, IDENTITY_MAPPINGS.c.principal == principal)


def _make_candidates(sqlite: bool) -> Any:
    """The users the principal is mapped to, and the one --as names, each row saying which it is, with
    whether the database is a demo: one round trip for every command."""
    kind = "os" if sqlite else "db"
    principal: ColumnElement[Any] = bindparam("principal") if sqlite else func.current_user()
    mapped_ids = select(IDENTITY_MAPPINGS.c.user_id).where(_principal_is(kind, principal))
    return (
        select(
            *_USER_COLUMNS,
            USERS.c.id.in_(mapped_ids).label("mapped"),
            exists().where(INSTALLATION.c.name == DEMO).label("demo"),
        )
        .outerjoin(USER_ROLES, USER_ROLES.c.user_id == USERS.c.id)
        .where(or_(USERS.c.id.in_(mapped_ids), USERS.c.username == bindparam("username")))
    )


_ANY_MAPPING = select(IDENTITY_MAPPINGS.c.user_id).limit(1)
_CANDIDATES = {True: _make_candidates(True), False: _make_candidates(False)}
_NAMED = (
    select(*_USER_COLUMNS)
    .outerjoin(USER_ROLES, USER_ROLES.c.user_id == USERS.c.id)
    .where(USERS.c.username == bindparam("username"))
)


def _candidates(db: Database) -> Any:
    return _CANDIDATES[db.is_sqlite]


# ---------------------------------------------------------------------- mapping principals to users


def principal_for(kind: str, name: str) -> Principal:
    """A principal as an administrator names it (``--os-account NAME``, ``--db-login NAME`` or
    ``--oidc ISSUER|SUBJECT``)."""
    name = name.strip()
    if kind == "oidc":
        return _single_sign_on_subject(name)
    if not name or len(name) > 120 or any(c.isspace() or not c.isprintable() for c in name):
        raise InvalidInput(f"'{name}' is not an account or login name")
    return Principal(kind, name)


def sign_on_principal(issuer: str, subject: str) -> Principal:
    """The principal an ID token proves: its issuer and subject together (never its e-mail address, which
    a directory may give to someone else)."""
    return _single_sign_on_subject(f"{issuer}|{subject}")


def _single_sign_on_subject(name: str) -> Principal:
    issuer, bar, subject = name.partition("|")
    if (
        not bar
        or not issuer.startswith(("https://", "http://"))
        or not subject
        or len(name) > 300
        or any(c.isspace() or not c.isprintable() for c in name)
    ):
        raise InvalidInput(
            f"'{name[:300]}' is not a single sign-on subject: give the issuer and subject as ISSUER|SUBJECT, "
            "as the refusal page showed them"
        )
    return Principal("oidc", name)


def running_principal(db: Database) -> Principal:
    """The principal this process runs as on ``db``: what a mapping must name for it to act."""
    with db.read_connection() as connection:
        return current_principal(db, connection)


def unmapped(db: Database) -> bool:
    """Whether no principal is mapped to any user yet (an upgraded database)."""
    with db.read_connection() as connection:
        return not connection.scalar(_ANY_MAPPING) is not None


def map_identity(
    db: Database, actor: Actor | None, username: str, principal: Principal, *, now: datetime | None = None
) -> None:
    """Let ``principal`` act as ``username``. Administrators only; ``actor`` None is the database's owner
    making the first mapping of a database that has none (an upgraded one)."""
    now = now or utcnow()
    role = None if actor is None else require_role(actor, "admin")
    with db.writing() as session:
        connection = session.connection()
        if actor is None:
            _check_owner_bootstraps(db, connection)
        user_id = _user_id(connection, username)
        key = and_(
            _principal_is(principal.kind, literal(principal.name)), IDENTITY_MAPPINGS.c.user_id == user_id
        )
        if connection.scalar(select(exists().where(key))):
            raise InvalidInput(f"{principal} is already mapped to '{username}'")
        if principal.kind == "oidc":
            _refuse_a_second_person(connection, principal)
        acting = actor.username if actor else _owner_name(db, connection)
        write_mapping(session, principal, user_id, username, acting=acting, role=role, now=now)


def write_mapping(
    session: Session,
    principal: Principal,
    user_id: int,
    username: str,
    *,
    acting: str,
    role: str | None,
    now: datetime,
) -> None:
    """Record the mapping and its event on the system stream, in the caller's transaction."""
    session.execute(
        insert(IDENTITY_MAPPINGS).values(
            kind=principal.kind, principal=principal.name, user_id=user_id, mapped_by=acting, mapped_at=now
        )
    )
    _system_event(session, acting, role, "identity_mapped", principal, username, now)


def unmap_identity(
    db: Database, actor: Actor, username: str, principal: Principal, *, now: datetime | None = None
) -> None:
    """Stop ``principal`` acting as ``username``. Administrators only."""
    now = now or utcnow()
    role = require_role(actor, "admin")
    with db.writing() as session:
        user_id = _user_id(session.connection(), username)
        key = and_(
            _principal_is(principal.kind, literal(principal.name)), IDENTITY_MAPPINGS.c.user_id == user_id
        )
        if not session.connection().execute(delete(IDENTITY_MAPPINGS).where(key)).rowcount:
            raise NotFound(f"{principal} is not mapped to '{username}'")
        _system_event(session, actor.username, role, "identity_unmapped", principal, username, now)


def identities(db: Database) -> dict[str, list[str]]:
    """Every user's mapped principals, as ``os:NAME`` / ``db:NAME`` / ``oidc:ISSUER|SUBJECT``, by username."""
    with db.read_connection() as connection:
        rows = connection.execute(
            select(USERS.c.username, IDENTITY_MAPPINGS.c.kind, IDENTITY_MAPPINGS.c.principal)
            .join(USERS, USERS.c.id == IDENTITY_MAPPINGS.c.user_id)
            .order_by(USERS.c.username, IDENTITY_MAPPINGS.c.kind, IDENTITY_MAPPINGS.c.principal)
        ).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.username, []).append(f"{row.kind}:{row.principal}")
    return found


def identities_of(db: Database, actor: Actor, username: str) -> list[Principal]:
    """The principals mapped to ``username``, for the administrator who maps them. Administrators only."""
    require_role(actor, "admin")
    with db.read_connection() as connection:
        user_id = _user_id(connection, username)
        rows = connection.execute(
            select(IDENTITY_MAPPINGS.c.kind, IDENTITY_MAPPINGS.c.principal)
            .where(IDENTITY_MAPPINGS.c.user_id == user_id)
            .order_by(IDENTITY_MAPPINGS.c.kind, IDENTITY_MAPPINGS.c.principal)
        ).all()
    return [Principal(row.kind, row.principal) for row in rows]


def mark_demo(db: Database) -> None:
    """Record that this database is a demonstration: --as chooses freely on it."""
    with db.write_connection() as connection:
        if not is_demo(connection):
            connection.execute(insert(INSTALLATION).values(name=DEMO, value="made by dfg demo"))


def _check_owner_bootstraps(db: Database, connection: Connection) -> None:
    if connection.scalar(_ANY_MAPPING) is not None:
        raise PermissionDenied("only an administrator maps identities (this database has mappings)")
    owner, running = database_owner(db, connection), current_principal(db, connection)
    if owner != running:
        raise PermissionDenied(
            f"this database has no identity mappings yet: the first is made by its owner, {owner}, not {running}"
        )


def _refuse_a_second_person(connection: Connection, principal: Principal) -> None:
    """A single sign-on subject is one person, and signing in chooses no user: it maps to one user only."""
    other = connection.scalar(
        select(USERS.c.username)
        .join(IDENTITY_MAPPINGS, IDENTITY_MAPPINGS.c.user_id == USERS.c.id)
        .where(_principal_is(principal.kind, literal(principal.name)))
    )
    if other is not None:
        raise InvalidInput(f"{principal} is already mapped to '{other}': unmap it there first")


def _owner_name(db: Database, connection: Connection) -> str:
    return f"owner:{current_principal(db, connection).name}"[:60]


def _user_id(connection: Connection, username: str) -> int:
    user_id = connection.scalar(select(USERS.c.id).where(USERS.c.username == username))
    if user_id is None:
        raise NotFound(f"no user '{username}' (see 'dfg user list')")
    return int(user_id)


def _system_event(
    session: Session,
    acting: str,
    role: str | None,
    kind: str,
    principal: Principal,
    username: str,
    now: datetime,
) -> None:
    payload = {"kind": principal.kind, "principal": principal.name, "username": username}
    append_to_system(session, NewEvent(occurred_at=now, actor=acting, role=role, kind=kind, payload=payload))
