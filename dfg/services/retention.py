"""Retention and disposal: which closed files are due, and disposing of them as the law asks.

Disposal takes two people. A manager authorises the files due (``disposal_authorised`` on the system
stream); an administrator, not the same person, then disposes of those still due and not held by a live
land charge. Each disposal erases the case's personal data (``dfg.store.personal.erase_case``: its
sealed values, people, address, free text and letters' PDFs) in one transaction with its tombstone,
``case_disposed`` on the system stream: which case, when, by whom, authorised by whom, under which rule.
``dfg audit verify`` reads the tombstone to tell the gap it leaves from tampering.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from dfg.errors import GuardFailed, InvalidInput, PermissionDenied
from dfg.rules.clock import local_day, utcnow
from dfg.rules.retention import Retention, RetentionPolicy, load_retention_policy, retention
from dfg.services.cases import normalise_reference
from dfg.services.documents import forget_files
from dfg.services.search_index import index_case
from dfg.store.audit import CASE_DISPOSED, SYSTEM_STREAM, NewEvent, append_to_system, disposed_cases
from dfg.store.database import Database
from dfg.store.personal import SEALED_FORMAT, erase_case
from dfg.store.tables import CASES, EVENTS, LAND_CHARGES
from dfg.store.text_index import compact_text_index
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

DISPOSAL_AUTHORISED = "disposal_authorised"


@dataclass(frozen=True)
class FileDue:
    """A closed case and where it stands against its district's retention policy."""

    reference: str
    district: str
    closed_on: date
    standing: Retention
    rule: str
    authorised_by: str | None

    @property
    def due(self) -> bool:
        return self.standing.held_by is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "closed_on": self.closed_on.isoformat(),
            "retention_starts_on": self.standing.starts_on.isoformat(),
            "due_on": self.standing.due_on.isoformat(),
            "held_by": self.standing.held_by,
            "rule": self.rule,
            "authorised_by": self.authorised_by,
        }


@dataclass(frozen=True)
class Disposal:
    reference: str
    authorised_by: str
    disposed_by: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "authorised_by": self.authorised_by,
            "disposed_by": self.disposed_by,
            "rule": self.rule,
        }


def files_due(db: Database, actor: Actor, *, today: date | None = None) -> list[FileDue]:
    """The closed files due for disposal on ``today`` (those a live land charge holds are listed too,
    with what holds them), oldest due first. Managers and administrators, in their own district."""
    require_role(actor, "manager", "admin")
    today = today or local_day(utcnow())
    with db.read_connection() as connection:
        return [f for f in _standing(connection, actor, today) if f.standing.due_on <= today]


def authorise_disposal(
    db: Database, actor: Actor, references: Iterable[str], *, now: datetime | None = None
) -> list[str]:
    """A manager's authority to dispose of these files (each must be due); returns them as recorded."""
    role = require_role(actor, "manager")
    now = now or utcnow()
    wanted = sorted({normalise_reference(r) for r in references})
    if not wanted:
        raise InvalidInput("name the files to authorise (see 'dfg retention due')")
    with db.writing() as session:
        connection = session.connection()
        due = {f.reference: f for f in _standing(connection, actor, local_day(now))}
        for reference in wanted:
            found = due.get(reference)
            if found is None or found.standing.due_on > local_day(now):
                raise GuardFailed(
                    f"{reference} is not a closed file due for disposal (see 'dfg retention due')"
                )
            if not found.due:
                raise GuardFailed(f"{reference} may not be disposed of: {found.standing.held_by}")
        append_to_system(
            session,
            NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind=DISPOSAL_AUTHORISED,
                payload={"references": wanted},
            ),
        )
    return wanted


def dispose(db: Database, actor: Actor, *, now: datetime | None = None) -> list[Disposal]:
    """Dispose of every authorised file still due and not held, each in its own transaction with its
    tombstone. An administrator other than the manager who authorised it."""
    role = require_role(actor, "admin")
    now = now or utcnow()
    today = local_day(now)
    done = []
    with db.read_connection() as connection:
        candidates = [
            f for f in _standing(connection, actor, today) if f.authorised_by and f.standing.due_on <= today
        ]
    # refused before any is disposed of: a refusal part way through would leave some done
    own = [f.reference for f in candidates if f.authorised_by == actor.username]
    if own:
        raise PermissionDenied(
            f"{', '.join(own)} {'was' if len(own) == 1 else 'were'} authorised by {actor.username}: "
            f"another person must dispose of {'it' if len(own) == 1 else 'them'}"
        )
    for found in candidates:
        if not found.due:
            continue  # a land charge registered since it was authorised holds it
        with db.writing() as session:
            connection = session.connection()
            case = connection.execute(
                select(CASES.c.id, CASES.c.closed_date)
                .where(CASES.c.reference == found.reference)
                .with_for_update()
            ).one()
            if case.id in disposed_cases(connection) or case.closed_date is None:
                continue  # someone else got there first, or it was reopened
            if connection.execute(_CLEAR_EVENTS, {"case_id": case.id}).scalar():
                raise GuardFailed(
                    f"{found.reference} has events whose personal values could not be sealed (its stream did not "
                    "verify when the database was upgraded): check the audit trail before disposing of it ('dfg audit verify')"
                )
            erase_case(connection, case.id, now=now)
            index_case(connection, case.id)  # found by its reference still, by nothing personal
            append_to_system(
                session,
                NewEvent(
                    occurred_at=now,
                    actor=actor.username,
                    role=role,
                    kind=CASE_DISPOSED,
                    payload={
                        "case_id": case.id,
                        "reference": found.reference,
                        "disposed_on": today,
                        "authorised_by": found.authorised_by,
                        "rule": found.rule,
                        "due_on": found.standing.due_on,
                    },
                ),
            )
        forget_files(db, case.id)  # after the commit: a crash before it leaves files, never a gap
        done.append(Disposal(found.reference, found.authorised_by or "", actor.username, found.rule))
    if done:  # the disposed-of terms leave the text index's pages too, not only its answers
        with db.write_connection() as connection:
            compact_text_index(connection)
    return done


_CLEAR_EVENTS = select(func.count()).where(
    EVENTS.c.case_id == bindparam("case_id"), EVENTS.c.format != SEALED_FORMAT
)


def _standing(connection: Connection, actor: Actor, today: date) -> list[FileDue]:
    """Every closed, not yet disposed case the actor may see, with its standing."""
    charge_ends = (
        select(LAND_CHARGES.c.case_id, func.max(LAND_CHARGES.c.expires_on).label("ends_on"))
        .group_by(LAND_CHARGES.c.case_id)
        .subquery()
    )
    query = (
        select(
            CASES.c.id, CASES.c.reference, CASES.c.district_code, CASES.c.closed_date, charge_ends.c.ends_on
        )
        .outerjoin(charge_ends, charge_ends.c.case_id == CASES.c.id)
        .where(CASES.c.closed_date.is_not(None))
        .order_by(CASES.c.closed_date, CASES.c.reference)
    )
    if actor.district is not None:
        query = query.where(CASES.c.district_code == actor.district)
    disposed = disposed_cases(connection)
    authorised = _authorisations(connection)
    policies: dict[str, RetentionPolicy] = {}
    found = []
    for row in connection.execute(query):
        if row.id in disposed:
            continue
        policy = policies.get(row.district_code)
        if policy is None:
            policy = policies[row.district_code] = load_retention_policy(row.district_code)
        standing = retention(policy, closed_on=row.closed_date, charge_ends_on=row.ends_on, today=today)
        found.append(
            FileDue(
                row.reference,
                row.district_code,
                row.closed_date,
                standing,
                policy.rule,
                authorised.get(row.reference),
            )
        )
    return sorted(found, key=lambda f: (f.standing.due_on, f.reference))


def _authorisations(connection: Connection) -> dict[str, str]:
    """Who authorised each file's disposal (the latest authority counts)."""
    rows = connection.execute(
        select(EVENTS.c.actor, EVENTS.c.payload)
        .where(EVENTS.c.stream == SYSTEM_STREAM, EVENTS.c.kind == DISPOSAL_AUTHORISED)
        .order_by(EVENTS.c.seq)
    )
    return {reference: row.actor for row in rows for reference in json.loads(row.payload)["references"]}
