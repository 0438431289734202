"""The access record: who read a case's personal data, when, and through which view.

A face records a read by calling the service that shows it (``view_case``, ``history``, ``letter_pdf``),
so the command line and the browser leave the same trace. The record is append-only (the database
refuses to change or delete a row) but kept off the hash chain: it grows with every look at a case, and
an event per read would make the audit trail mostly reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, insert, select

from dfg.errors import NotFound
from dfg.rules.clock import utcnow
from dfg.services.cases import check_district, normalise_reference
from dfg.store.database import Database
from dfg.store.tables import ACCESS_RECORDS, CASES, USERS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

# One statement: the case's id is found by the INSERT itself, so a read costs one round trip more.
_RECORD = insert(ACCESS_RECORDS).from_select(
    ["case_id", "user_id", "view", "read_at"],
    select(
        CASES.c.id,
        bindparam("user_id", type_=Integer),
        bindparam("view", type_=String),
        bindparam("read_at", type_=ACCESS_RECORDS.c.read_at.type),
    ).where(CASES.c.reference == bindparam("reference")),
)


def record_access(
    db: Database, actor: Actor, reference: str, view: str, *, now: datetime | None = None
) -> None:
    """Record that ``actor`` has just read case ``reference`` through ``view`` (case, history, letter)."""
    with db.write_connection() as connection:
        connection.execute(
            _RECORD,
            {"user_id": actor.user_id, "view": view, "read_at": now or utcnow(), "reference": reference},
        )


def record_accesses(
    db: Database, actor: Actor, references: list[str], view: str, *, now: datetime | None = None
) -> None:
    """Record one read through ``view`` of each case in ``references`` (the cases a search showed)."""
    if not references:
        return
    read_at = now or utcnow()
    with db.write_connection() as connection:
        connection.execute(
            _RECORD,
            [
                {"user_id": actor.user_id, "view": view, "read_at": read_at, "reference": r}
                for r in references
            ],
        )


@dataclass(frozen=True)
class AccessEntry:
    read_at: datetime
    username: str
    full_name: str
    view: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "read_at": self.read_at.isoformat(),
            "username": self.username,
            "full_name": self.full_name,
            "view": self.view,
        }


def access_record(db: Database, actor: Actor, reference: str) -> list[AccessEntry]:
    """Who has read the case, newest first. Managers and administrators only (of the case's district)."""
    require_role(actor, "manager", "admin")
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        case = connection.execute(
            select(CASES.c.id, CASES.c.district_code).where(CASES.c.reference == reference)
        ).one_or_none()
        if case is None:
            raise NotFound(f"no case {reference}")
        check_district(actor, reference, case.district_code)
        rows = connection.execute(
            select(ACCESS_RECORDS.c.read_at, USERS.c.username, USERS.c.full_name, ACCESS_RECORDS.c.view)
            .join(USERS, USERS.c.id == ACCESS_RECORDS.c.user_id)
            .where(ACCESS_RECORDS.c.case_id == case.id)
            .order_by(ACCESS_RECORDS.c.id.desc())
        ).all()
    return [AccessEntry(r.read_at, r.username, r.full_name, r.view) for r in rows]
