"""Users, roles and districts: who may act, where, and with what delegated limit; changing, deactivating
and reactivating users, with the last administrator of the whole installation kept."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dfg.errors import DatabaseProblem, InvalidInput, NotFound, PermissionDenied
from dfg.paths import workflows_dir
from dfg.rules.clock import utcnow
from dfg.rules.money import format_pounds
from dfg.services.identity import write_mapping
from dfg.services.sign_in import end_sessions_in
from dfg.store.audit import NewEvent, append_to_system, hold_system_stream
from dfg.store.database import Database
from dfg.store.identity import current_principal
from dfg.store.models import ROLES, District, User, UserRole
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

#: The roles a user may hold, for the faces to offer.
USER_ROLES = ROLES

BOOTSTRAP = "bootstrap"  # the actor recorded for the first administrator of an empty database


def _actor(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(r.role for r in user.roles),
        district=user.district_code,
        approval_limit_pence=user.approval_limit_pence,
    )


@dataclass(frozen=True)
class UserView:
    username: str
    full_name: str
    roles: tuple[str, ...]
    district: str | None
    approval_limit_pence: int | None
    active: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "full_name": self.full_name,
            "roles": list(self.roles),
            "district": self.district,
            "approval_limit_pence": self.approval_limit_pence,
            "active": self.active,
        }

    def as_row(self) -> list[str]:
        limit = (
            "" if self.approval_limit_pence is None else format_pounds(self.approval_limit_pence, whole=True)
        )
        return [self.username, self.full_name, ", ".join(self.roles), self.district or "all", limit]


def _view(user: User) -> UserView:
    return UserView(
        user.username,
        user.full_name,
        tuple(sorted(r.role for r in user.roles)),
        user.district_code,
        user.approval_limit_pence,
        user.active,
    )


def add_user(
    db: Database,
    actor_name: Actor | str | None,
    *,
    username: str,
    full_name: str,
    roles: list[str],
    district: str | None = None,
    approval_limit_pence: int | None = None,
    now: datetime | None = None,
) -> UserView:
    """Add a user. Needs an administrator (``actor_name``: a proven actor, or a library caller's name for
    one), except for the very first user, who must be one: the principal that adds them (the account or
    login running the command) is mapped to them, so the first administrator is proven from the start."""
    now = now or utcnow()
    _check_roles(roles)
    if approval_limit_pence is not None and "approver" not in roles:
        raise InvalidInput("only an approver has a delegated --limit")
    if not username.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise InvalidInput(f"username '{username}' may use only letters, digits, '.', '-' and '_'")
    with db.writing() as session:
        first = session.scalar(select(func.count()).select_from(User)) == 0
        if first:
            if "admin" not in roles:
                raise PermissionDenied("the first user of a new database must have the admin role")
            acting, role = BOOTSTRAP, None
        else:
            actor = actor_name if isinstance(actor_name, Actor) else _resolve_in(session, actor_name)
            role = require_role(actor, "admin")
            acting = actor.username
            if actor.district is not None and district != actor.district:
                raise PermissionDenied(
                    f"{actor.username} administers district {actor.district} only: give --district {actor.district}"
                )
        if district is not None and session.get(District, district) is None:
            raise NotFound(f"no district '{district}' (see 'dfg district list')")
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise InvalidInput(f"there is already a user '{username}'")
        user = User(
            username=username,
            full_name=full_name,
            district_code=district,
            approval_limit_pence=approval_limit_pence,
            active=True,
            created_at=now,
            roles=[UserRole(role=r) for r in dict.fromkeys(roles)],
        )
        session.add(user)
        session.flush()
        view = _view(user)
        append_to_system(
            session,
            NewEvent(occurred_at=now, actor=acting, role=role, kind="user_added", payload=view.as_dict()),
        )
        if first:
            principal = current_principal(db, session.connection())
            write_mapping(session, principal, user.id, username, acting=BOOTSTRAP, role=None, now=now)
        return view


@dataclass(frozen=True)
class UserChanged:
    """A user after a change, and each field that changed: (from, to)."""

    view: UserView
    changed: Mapping[str, tuple[Any, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.view.as_dict(),
            "changed": {k: {"from": old, "to": new} for k, (old, new) in self.changed.items()},
        }

    def summary(self) -> str:
        """What changed, in words: ``district CAN -> every district; limit none -> £15,000``."""
        return "; ".join(
            f"{_FIELD_WORDS[k]} {_in_words(k, old)} -> {_in_words(k, new)}"
            for k, (old, new) in self.changed.items()
        )


_FIELD_WORDS = {
    "full_name": "name",
    "roles": "roles",
    "district": "district",
    "approval_limit_pence": "limit",
}


def _in_words(field: str, value: Any) -> str:
    if field == "roles":
        return ", ".join(value)
    if field == "district":
        return value or "every district"
    if field == "approval_limit_pence":
        return "none" if value is None else format_pounds(value, whole=True)
    return str(value)


class Keep(Enum):
    """What :func:`change_user` leaves as it is when not told (``None`` there means "none")."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP
REASON_LONGEST = 500
_CHANGEABLE = ("full_name", "roles", "district", "approval_limit_pence")


def change_user(
    db: Database,
    actor: Actor,
    username: str,
    *,
    roles: list[str] | None = None,
    district: str | Keep | None = KEEP,
    approval_limit_pence: int | Keep | None = KEEP,
    full_name: str | None = None,
    now: datetime | None = None,
) -> UserChanged:
    """Change a user's roles, district (``None``: every district), delegated limit (``None``: none) or
    name, in one transaction with a ``user_changed`` event holding their whole new view and what changed.
    Administrators only; an administrator of one district changes only its users, and keeps them in it.
    The last administrator of the whole installation keeps the admin role and every district."""
    now = now or utcnow()
    role = require_role(actor, "admin")
    if roles is None and district is KEEP and approval_limit_pence is KEEP and full_name is None:
        raise InvalidInput(
            "say what to change: --role, --district or --all-districts, --limit or --no-limit, --name"
        )
    if roles is not None:
        _check_roles(roles)
    if full_name is not None and not full_name.strip():
        raise InvalidInput("the name must not be blank")
    with db.writing() as session:
        user = _administered(session, actor, username)
        before = _view(user).as_dict()
        after = {
            **before,
            "full_name": before["full_name"] if full_name is None else full_name.strip(),
            "roles": before["roles"] if roles is None else sorted(dict.fromkeys(roles)),
            "district": before["district"] if isinstance(district, Keep) else district,
            "approval_limit_pence": (
                before["approval_limit_pence"]
                if isinstance(approval_limit_pence, Keep)
                else approval_limit_pence
            ),
        }
        changed = {k: (before[k], after[k]) for k in _CHANGEABLE if before[k] != after[k]}
        if not changed:
            raise InvalidInput(f"{username} already has those: nothing to change")
        if after["approval_limit_pence"] is not None and "approver" not in after["roles"]:
            raise InvalidInput(
                "only an approver has a delegated limit: give --no-limit with a change that takes the approver role away"
                if "approver" in before["roles"]
                else "only an approver has a delegated --limit"
            )
        if actor.district is not None and after["district"] != actor.district:
            raise PermissionDenied(
                f"{actor.username} administers district {actor.district} only: {username} stays in it"
            )
        if after["district"] is not None and session.get(District, after["district"]) is None:
            raise NotFound(f"no district '{after['district']}' (see 'dfg district list')")
        if not _installation_admin(after):
            _keep_an_installation_admin(session, user, "taken out of the whole installation's administration")
        user.full_name = after["full_name"]
        user.district_code = after["district"]
        user.approval_limit_pence = after["approval_limit_pence"]
        if "roles" in changed:  # the rows kept stay (a row deleted and inserted again would collide)
            kept = [r for r in user.roles if r.role in after["roles"]]
            have = {r.role for r in kept}
            user.roles = kept + [UserRole(role=r) for r in after["roles"] if r not in have]
        session.flush()
        done = UserChanged(_view(user), changed)
        append_to_system(
            session,
            NewEvent(
                occurred_at=now, actor=actor.username, role=role, kind="user_changed", payload=done.as_dict()
            ),
        )
        return done


def deactivate_user(
    db: Database, actor: Actor, username: str, *, reason: str, now: datetime | None = None
) -> UserView:
    """Stop a user acting, on the command line and in the browser (their sessions end with it); their
    history stays. Administrators only; the last administrator of the whole installation stays."""
    return _set_active(db, actor, username, active=False, reason=reason, now=now)


def reactivate_user(
    db: Database, actor: Actor, username: str, *, reason: str, now: datetime | None = None
) -> UserView:
    """Let a deactivated user act again, with the roles, district and limit they had (in the browser
    once signed in again)."""
    return _set_active(db, actor, username, active=True, reason=reason, now=now)


def _set_active(
    db: Database, actor: Actor, username: str, *, active: bool, reason: str, now: datetime | None
) -> UserView:
    now = now or utcnow()
    role = require_role(actor, "admin")
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "give a --reason: it is kept in the audit trail",
            fields={"reason": "Give the reason: it is kept in the audit trail"},
        )
    if len(reason) > REASON_LONGEST:
        message = f"the reason must be {REASON_LONGEST} characters or fewer"
        raise InvalidInput(message, fields={"reason": message})
    with db.writing() as session:
        user = _administered(session, actor, username)
        if user.active == active:
            raise InvalidInput(f"{username} is already {'active' if active else 'deactivated'}")
        if not active:
            _keep_an_installation_admin(session, user, "deactivated")
            end_sessions_in(session.connection(), user.id, now=now)
        user.active = active
        session.flush()
        view = _view(user)
        append_to_system(
            session,
            NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind="user_reactivated" if active else "user_deactivated",
                payload={"username": username, "active": active, "reason": reason},
            ),
        )
        return view


def _check_roles(roles: list[str]) -> None:
    if not roles:
        raise InvalidInput("give at least one --role")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"unknown role '{unknown[0]}' (known: {', '.join(ROLES)})")


def _administered(session: Session, actor: Actor, username: str) -> User:
    """The user ``actor`` (an administrator) is changing, once no other change to the users is under way."""
    hold_system_stream(session)
    user = session.scalars(
        select(User).options(selectinload(User.roles)).where(User.username == username)
    ).one_or_none()
    if user is None:
        raise NotFound(f"no user '{username}' (see 'dfg user list')")
    if actor.district is not None and user.district_code != actor.district:
        raise PermissionDenied(f"{actor.username} administers district {actor.district} only")
    return user


def _installation_admin(view: Mapping[str, Any]) -> bool:
    return bool(view["active"]) and "admin" in view["roles"] and view["district"] is None


def _keep_an_installation_admin(session: Session, user: User, how: str) -> None:
    """Refuse to leave the installation with no active administrator of every district (no one could then
    add users, districts or another administrator)."""
    if not _installation_admin(_view(user).as_dict()):
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            UserRole.role == "admin",
            User.active.is_(True),
            User.district_code.is_(None),
            User.id != user.id,
        )
    )
    if not others:
        raise PermissionDenied(
            f"{user.username} is the last administrator of every district and cannot be {how}: "
            "make another user an administrator with no district first"
        )


def _resolve_in(session: Session, username: str | None) -> Actor:
    if not username:  # the command line passes no one only while nobody is mapped
        raise PermissionDenied(
            "no one is mapped to act on this database yet: its owner makes the first mapping with "
            "'dfg user map USER --os-account NAME' (or '--db-login NAME' on PostgreSQL)"
        )
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active:
        raise NotFound(f"no active user '{username}'")
    return _actor(user)


def users_administered(db: Database, actor: Actor) -> list[UserView]:
    """The users ``actor`` administers: everyone, or for an administrator of one district its users."""
    require_role(actor, "admin")
    return [u for u in list_users(db) if actor.district is None or u.district == actor.district]


def list_users(db: Database) -> list[UserView]:
    with db.reading() as session:
        users = session.scalars(select(User).options(selectinload(User.roles)).order_by(User.username))
        return [_view(u) for u in users]


@dataclass(frozen=True)
class DistrictView:
    code: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name}


def add_district(
    db: Database, actor: Actor, code: str, name: str, *, now: datetime | None = None
) -> DistrictView:
    """Add a district (housing authority). Administrators only."""
    now = now or utcnow()
    role = require_role(actor, "admin")
    if not (code.isalpha() and code.isupper() and 2 <= len(code) <= 8):
        raise InvalidInput(f"district code '{code}' must be 2 to 8 capital letters, e.g. CAN")
    with db.writing() as session:
        if session.get(District, code) is not None:
            raise InvalidInput(f"there is already a district '{code}'")
        session.add(District(code=code, name=name))
        view = DistrictView(code, name)
        append_to_system(
            session,
            NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind="district_added",
                payload=view.as_dict(),
            ),
        )
        return view


def list_districts(db: Database) -> list[DistrictView]:
    with db.reading() as session:
        return [
            DistrictView(d.code, d.name) for d in session.scalars(select(District).order_by(District.code))
        ]


def listed_districts() -> dict[str, str]:
    """The districts listed in ``workflows/districts.toml`` (the demonstration's), code to name."""
    with (workflows_dir() / "districts.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["districts"])


def installation_districts(db: str | None) -> tuple[frozenset[str], str]:
    """The codes of the installation's districts, and where they were read: the database's (``db``, or the
    default) if it can be opened, else the list in ``workflows/districts.toml``."""
    try:
        database = Database.open(db)
    except DatabaseProblem as problem:
        return frozenset(listed_districts()), f"workflows/districts.toml ({problem.message})"
    try:
        return frozenset(d.code for d in list_districts(database)), "the database"
    finally:
        database.dispose()
