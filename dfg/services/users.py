"""Users, roles and districts: who may act, where, and with what delegated limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.rules.clock import utcnow
from dfg.rules.money import format_pounds
from dfg.services.identity import write_mapping
from dfg.store.audit import NewEvent, append_to_system
from dfg.store.database import Database
from dfg.store.identity import current_principal
from dfg.store.models import ROLES, District, User, UserRole
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

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
    if not roles:
        raise InvalidInput("give at least one --role")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"unknown role '{unknown[0]}' (known: {', '.join(ROLES)})")
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
