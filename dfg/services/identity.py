"""Who is acting: the user a command or a page acts as, with their roles, district and delegated limit.

Every action starts here, so it reads with one Core query (the ORM's first query would set up every
mapper) and imports nothing of the store's record classes.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from dfg.errors import NotFound, PermissionDenied
from dfg.store.database import Database
from dfg.store.tables import USER_ROLES, USERS
from dfg.workflow.actor import Actor


def resolve_actor(db: Database, username: str | None) -> Actor:
    """The active user named by ``--as`` / ``DFG_USER``."""
    if not username:
        raise PermissionDenied("say who you are: --as USER or the DFG_USER environment variable")
    with db.read_connection() as connection:
        rows = connection.execute(_USER_AND_ROLES, {"username": username}).all()
    if not rows:
        raise NotFound(f"no user '{username}' (an administrator adds users with 'dfg user add')")
    user = rows[0]
    if not user.active:
        raise PermissionDenied(f"user '{username}' is deactivated")
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(r.role for r in rows if r.role is not None),
        district=user.district_code,
        approval_limit_pence=user.approval_limit_pence,
    )


_USER_AND_ROLES = (
    select(
        USERS.c.id,
        USERS.c.username,
        USERS.c.active,
        USERS.c.district_code,
        USERS.c.approval_limit_pence,
        USER_ROLES.c.role,
    )
    .outerjoin(USER_ROLES, USER_ROLES.c.user_id == USERS.c.id)
    .where(USERS.c.username == bindparam("username"))
)
