"""Signing in to the browser application: invitations, passwords, the second factor, and the session's
proof on every request.

Identity in the browser is proven, as on the command line: by a password the user set themselves from a
one-time invitation an administrator issued (hashed with Argon2id), and, where the user turned it on, a
time-based one-time code. A signed cookie then carries the user's id and their credential's
``session_epoch``; :func:`session_actor` checks both on every request, so a password change, a new
invitation, signing out or a deactivation ends every cookie issued before it, on every server at once (the
application keeps no state of its own between requests).

Failed attempts are counted on the credential, in the database, so the limit holds across workers: after
``LOCK_AFTER`` failures in a row the account refuses every attempt for ``LOCK_FOR``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.rules.clock import utcnow
from dfg.store.audit import NewEvent, append_to_system
from dfg.store.database import Database
from dfg.store.tables import IDENTITY_MAPPINGS, USER_ROLES, USERS, WEB_CREDENTIALS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

__all__ = [
    "DEMO_PASSWORD",
    "INVITATION_LASTS",
    "LOCK_AFTER",
    "LOCK_FOR",
    "Invitation",
    "NotMapped",
    "PasswordChecked",
    "accept_invitation",
    "begin_second_factor",
    "check_password",
    "check_second_factor",
    "check_sign_on",
    "end_sessions",
    "end_sessions_in",
    "give_demo_passwords",
    "has_second_factor",
    "invite",
    "session_actor",
    "turn_on_second_factor",
]

INVITATION_LASTS = timedelta(days=7)
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
PASSWORD_SHORTEST = 12  # NCSC: length over complexity rules
PASSWORD_LONGEST = 200
_WRONG = "the username or password is not right"


@dataclass(frozen=True)
class Invitation:
    username: str
    code: str  # shown once, to be given to the user; only its digest is kept
    expires_at: datetime


class NotMapped(PermissionDenied):
    """A single sign-on subject no administrator has mapped to a user: the page shows what to give them."""

    def __init__(self, message: str, map_command: str) -> None:
        super().__init__(message)
        self.map_command = map_command


@dataclass(frozen=True)
class PasswordChecked:
    """A password that matched: the session may begin, after the second factor if the user has one."""

    user_id: int
    username: str
    session_epoch: int
    second_factor: bool


def _hasher() -> Any:
    from argon2 import PasswordHasher  # imported here: only signing in needs it

    return PasswordHasher()


def _digest(code: str) -> str:
    return hashlib.sha256(_normal_code(code).encode()).hexdigest()


def _normal_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _new_code() -> str:
    raw = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(20))  # ~100 bits
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


# ---------------------------------------------------------------------------------------- invitations


def invite(db: Database, actor: Actor, username: str, *, now: datetime | None = None) -> Invitation:
    """A one-time code with which ``username`` sets their own password (administrators only; an
    administrator of one district invites only its users). Inviting someone who already has a password
    resets it: their old password and every session end."""
    now = now or utcnow()
    role = require_role(actor, "admin")
    code = _new_code()
    expires = now + INVITATION_LASTS
    with db.write_connection() as connection:
        user = connection.execute(
            select(USERS.c.id, USERS.c.active, USERS.c.district_code).where(USERS.c.username == username)
        ).one_or_none()
        if user is None:
            raise NotFound(f"no user '{username}' (an administrator adds users with 'dfg user add')")
        if not user.active:
            raise PermissionDenied(f"user '{username}' is deactivated: they cannot be invited")
        if actor.district is not None and user.district_code != actor.district:
            raise PermissionDenied(f"{actor.username} administers district {actor.district} only")
        values = {
            "password_hash": None,
            "totp_secret": None,
            "invitation_digest": _digest(code),
            "invitation_expires_at": expires,
            "failed_attempts": 0,
            "locked_until": None,
            "updated_at": now,
        }
        had = _credential(connection, user.id)
        if had is None:
            connection.execute(insert(WEB_CREDENTIALS).values(user_id=user.id, session_epoch=1, **values))
        else:
            connection.execute(
                update(WEB_CREDENTIALS)
                .where(WEB_CREDENTIALS.c.user_id == user.id)
                .values(session_epoch=had.session_epoch + 1, **values)
            )
        append_to_system(
            connection,
            NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind="web_invitation_issued",
                payload={"username": username, "expires_at": expires.isoformat(), "reset": had is not None},
            ),
        )
    return Invitation(username, code, expires)


def _credential(connection: Connection, user_id: int) -> Any:
    return connection.execute(
        select(WEB_CREDENTIALS).where(WEB_CREDENTIALS.c.user_id == user_id)
    ).one_or_none()


def check_new_password(password: str, username: str) -> list[str]:
    """What is wrong with a password someone chose, in their words (empty if nothing)."""
    problems = []
    if len(password) < PASSWORD_SHORTEST:
        problems.append(f"Your password must be at least {PASSWORD_SHORTEST} characters long")
    elif len(password) > PASSWORD_LONGEST:
        problems.append(f"Your password must be {PASSWORD_LONGEST} characters or fewer")
    elif username.lower() in password.lower():
        problems.append("Your password must not contain your username")
    return problems


def accept_invitation(db: Database, code: str, password: str, *, now: datetime | None = None) -> str:
    """Set the password of the user the one-time ``code`` was issued for; returns their username. The code
    is then spent."""
    now = now or utcnow()
    with db.write_connection() as connection:
        row = connection.execute(
            select(WEB_CREDENTIALS, USERS.c.username, USERS.c.active)
            .join(USERS, USERS.c.id == WEB_CREDENTIALS.c.user_id)
            .where(WEB_CREDENTIALS.c.invitation_digest == _digest(code))
        ).one_or_none()
        if row is None or not row.active:
            raise InvalidInput("that invitation code is not right, or has been used: ask your administrator")
        if row.invitation_expires_at < now:
            raise InvalidInput("that invitation code has expired: ask your administrator for a new one")
        problems = check_new_password(password, row.username)
        if problems:
            raise InvalidInput(problems[0])
        connection.execute(
            update(WEB_CREDENTIALS)
            .where(WEB_CREDENTIALS.c.user_id == row.user_id)
            .values(
                password_hash=_hasher().hash(password),
                invitation_digest=None,
                invitation_expires_at=None,
                session_epoch=row.session_epoch + 1,
                updated_at=now,
            )
        )
        append_to_system(
            connection,
            NewEvent(
                occurred_at=now,
                actor=row.username,
                kind="web_password_set",
                payload={"username": row.username},
            ),
        )
        return str(row.username)


DEMO_PASSWORD = "dfg-demo-2026"  # printed by ``dfg demo``: a demonstration database holds no one real


def give_demo_passwords(db: Database, *, now: datetime | None = None) -> int:
    """Give every user of a database made by ``dfg demo`` the demonstration password, so the browser
    application can be tried at once. Refused on any other database. Returns how many users."""
    from dfg.services.identity import is_demo

    now = now or utcnow()
    with db.write_connection() as connection:
        if not is_demo(connection):
            raise PermissionDenied(
                "only a demonstration database (made by 'dfg demo') has demonstration passwords"
            )
        users = connection.scalars(
            select(USERS.c.id).where(~USERS.c.id.in_(select(WEB_CREDENTIALS.c.user_id)))
        ).all()
        hashed = _hasher().hash(DEMO_PASSWORD)
        for user_id in users:
            connection.execute(
                insert(WEB_CREDENTIALS).values(
                    user_id=user_id, password_hash=hashed, failed_attempts=0, session_epoch=1, updated_at=now
                )
            )
    return len(users)


# ------------------------------------------------------------------------------------------ signing in


def check_password(
    db: Database, username: str, password: str, *, now: datetime | None = None
) -> PasswordChecked:
    """The first step of signing in. Every failure says the same thing (no telling which part was wrong),
    and counts towards the lock."""
    now = now or utcnow()
    with db.write_connection() as connection:
        row = connection.execute(
            select(WEB_CREDENTIALS, USERS.c.username, USERS.c.active)
            .join(USERS, USERS.c.id == WEB_CREDENTIALS.c.user_id)
            .where(USERS.c.username == username.strip())
            .with_for_update()
        ).one_or_none()
        if row is None or row.password_hash is None:
            _hasher().hash(password)  # as slow as a real check, so timing tells nothing
            raise PermissionDenied(_WRONG)
        _refuse_if_locked(row, now)
        matched = _verified(row.password_hash, password)
        if not matched:
            _count_failure(connection, row, now)  # committed as the block ends, then refused below
        elif not row.active:
            raise PermissionDenied("your account has been deactivated: ask your administrator")
        elif row.totp_secret is None:
            _clear_failures(connection, row)
    if not matched:
        raise PermissionDenied(_WRONG)
    return PasswordChecked(row.user_id, row.username, row.session_epoch, row.totp_secret is not None)


def check_sign_on(db: Database, issuer: str, subject: str, *, now: datetime | None = None) -> PasswordChecked:
    """Single sign-on: the user an administrator mapped the ID token's issuer and subject to (the
    token itself checked by the caller). The session then begins as after a password; the council's
    identity provider asks for any second factor, so none is asked here. A user who has never signed in
    gets a credential with no password."""
    from dfg.services.identity import map_command, sign_on_principal

    now = now or utcnow()
    principal = sign_on_principal(issuer, subject)
    with db.write_connection() as connection:
        rows = connection.execute(
            select(USERS.c.id, USERS.c.username, USERS.c.active, WEB_CREDENTIALS.c.session_epoch)
            .join(IDENTITY_MAPPINGS, IDENTITY_MAPPINGS.c.user_id == USERS.c.id)
            .outerjoin(WEB_CREDENTIALS, WEB_CREDENTIALS.c.user_id == USERS.c.id)
            .where(
                and_(
                    IDENTITY_MAPPINGS.c.kind == principal.kind,
                    IDENTITY_MAPPINGS.c.principal == principal.name,
                )
            )
        ).all()
        if len(rows) != 1:  # none (several cannot be: map_identity maps a subject to one user only)
            raise NotMapped(f"{principal} is not mapped to a dfg user", map_command(principal))
        user = rows[0]
        if not user.active:
            raise PermissionDenied("your account has been deactivated: ask your administrator")
        epoch = user.session_epoch
        if epoch is None:
            epoch = 1
            connection.execute(
                insert(WEB_CREDENTIALS).values(
                    user_id=user.id,
                    password_hash=None,
                    failed_attempts=0,
                    session_epoch=epoch,
                    updated_at=now,
                )
            )
    return PasswordChecked(user.id, user.username, epoch, second_factor=False)


def _verified(password_hash: str, password: str) -> bool:
    from argon2.exceptions import VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except VerificationError:
        return False


def _refuse_if_locked(row: Any, now: datetime) -> None:
    if row.locked_until is not None and row.locked_until > now:
        minutes = max(1, round((row.locked_until - now).total_seconds() / 60))
        raise PermissionDenied(
            f"too many attempts to sign in: try again in {minutes} minute{'s' if minutes != 1 else ''}"
        )


def _count_failure(connection: Connection, row: Any, now: datetime) -> None:
    failures = row.failed_attempts + 1
    locked = now + LOCK_FOR if failures >= LOCK_AFTER else None
    connection.execute(
        update(WEB_CREDENTIALS)
        .where(WEB_CREDENTIALS.c.user_id == row.user_id)
        .values(failed_attempts=0 if locked else failures, locked_until=locked, updated_at=now)
    )
    if locked:
        append_to_system(
            connection,
            NewEvent(
                occurred_at=now,
                actor=row.username,
                kind="web_sign_in_locked",
                payload={"username": row.username},
            ),
        )


def _clear_failures(connection: Connection, row: Any) -> None:
    if row.failed_attempts or row.locked_until:
        connection.execute(
            update(WEB_CREDENTIALS)
            .where(WEB_CREDENTIALS.c.user_id == row.user_id)
            .values(failed_attempts=0, locked_until=None)
        )


def check_second_factor(
    db: Database, checked: PasswordChecked, code: str, *, now: datetime | None = None
) -> None:
    """The second step, for a user with a second factor: the six-digit code their app shows now."""
    now = now or utcnow()
    with db.write_connection() as connection:
        row = connection.execute(
            select(WEB_CREDENTIALS, USERS.c.username)
            .join(USERS, USERS.c.id == WEB_CREDENTIALS.c.user_id)
            .where(WEB_CREDENTIALS.c.user_id == checked.user_id)
            .with_for_update()
        ).one()
        _refuse_if_locked(row, now)
        if row.session_epoch != checked.session_epoch or row.totp_secret is None:
            raise PermissionDenied("sign in again: your account changed while you were signing in")
        matched = _code_matches(row.totp_secret, code, now)
        if matched:
            _clear_failures(connection, row)
        else:
            _count_failure(connection, row, now)  # committed as the block ends, then refused below
    if not matched:
        raise PermissionDenied("that code is not right: enter the code your app shows now")


def _code_matches(secret: str, code: str, now: datetime) -> bool:
    import pyotp

    digits = "".join(c for c in code if c.isdigit())
    return len(digits) == 6 and bool(pyotp.TOTP(secret).verify(digits, for_time=now, valid_window=1))


def begin_second_factor() -> str:
    """A new secret for an authenticator app (shown to the user, kept only once they confirm a code)."""
    import pyotp

    return str(pyotp.random_base32())


def turn_on_second_factor(
    db: Database, actor: Actor, secret: str, code: str, *, now: datetime | None = None
) -> None:
    """Keep ``secret`` as ``actor``'s second factor, once a code from it proves their app holds it.
    Every other session of theirs ends."""
    now = now or utcnow()
    if not _code_matches(secret, code, now):
        raise InvalidInput("that code is not right: enter the six-digit code your app shows now")
    with db.write_connection() as connection:
        epoch = connection.scalar(
            select(WEB_CREDENTIALS.c.session_epoch).where(WEB_CREDENTIALS.c.user_id == actor.user_id)
        )
        if epoch is None:
            raise NotFound(f"{actor.username} has no sign-in yet")
        connection.execute(
            update(WEB_CREDENTIALS)
            .where(WEB_CREDENTIALS.c.user_id == actor.user_id)
            .values(totp_secret=secret, session_epoch=epoch + 1, updated_at=now)
        )
        append_to_system(
            connection,
            NewEvent(
                occurred_at=now,
                actor=actor.username,
                kind="web_second_factor_on",
                payload={"username": actor.username},
            ),
        )


# ------------------------------------------------------------------------------------------- sessions


_SESSION = (
    select(
        USERS.c.id,
        USERS.c.username,
        USERS.c.active,
        USERS.c.district_code,
        USERS.c.approval_limit_pence,
        USER_ROLES.c.role,
    )
    .join(WEB_CREDENTIALS, WEB_CREDENTIALS.c.user_id == USERS.c.id)
    .outerjoin(USER_ROLES, USER_ROLES.c.user_id == USERS.c.id)
)


def session_actor(db: Database, user_id: int, session_epoch: int) -> Actor:
    """The user a signed cookie speaks for, if it is still good: same epoch, still active. One query."""
    with db.read_connection() as connection:
        rows = connection.execute(
            _SESSION.where(and_(USERS.c.id == user_id, WEB_CREDENTIALS.c.session_epoch == session_epoch))
        ).all()
    if not rows or not rows[0].active:
        raise PermissionDenied("your session has ended: sign in again")
    user = rows[0]
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(r.role for r in rows if r.role is not None),
        district=user.district_code,
        approval_limit_pence=user.approval_limit_pence,
    )


def has_second_factor(db: Database, actor: Actor) -> bool:
    with db.read_connection() as connection:
        secret = connection.scalar(
            select(WEB_CREDENTIALS.c.totp_secret).where(WEB_CREDENTIALS.c.user_id == actor.user_id)
        )
    return secret is not None


def end_sessions(db: Database, user_id: int, *, now: datetime | None = None) -> None:
    """Sign a user out everywhere: every cookie issued to them stops working."""
    now = now or utcnow()
    with db.write_connection() as connection:
        end_sessions_in(connection, user_id, now=now)


def end_sessions_in(connection: Connection, user_id: int, *, now: datetime) -> None:
    """:func:`end_sessions` in the caller's transaction (a deactivation ends them with the account)."""
    connection.execute(
        update(WEB_CREDENTIALS)
        .where(WEB_CREDENTIALS.c.user_id == user_id)
        .values(session_epoch=WEB_CREDENTIALS.c.session_epoch + 1, updated_at=now)
    )
