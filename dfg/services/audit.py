"""Verify the audit trail, as a user may ask it to be verified: the events' hash chains, and the tables
against what the events say (:mod:`dfg.services.audit_tables`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dfg.errors import AuditFailure, NotFound
from dfg.services.audit_tables import table_problems
from dfg.services.cases import normalise_reference
from dfg.services.documents import document_problems
from dfg.store.audit import AuditProblem, verify
from dfg.store.database import Database
from dfg.store.tables import CASES
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role


@dataclass(frozen=True)
class AuditReport:
    streams: int
    events: int
    problems: tuple[AuditProblem, ...]
    checkpoint: str | None = None  # which signed checkpoint the events were also checked against

    @property
    def verdict(self) -> str:
        return "intact" if not self.problems else f"{len(self.problems)} problem(s)"

    @property
    def summary(self) -> str:
        against = f" and against {self.checkpoint}" if self.checkpoint else ""
        return f"{self.streams} stream(s), {self.events} event(s) checked{against}: {self.verdict}"

    def as_dict(self) -> dict[str, Any]:
        checked: dict[str, Any] = {
            "streams": self.streams,
            "events": self.events,
            "intact": not self.problems,
            "problems": [p.as_dict() for p in self.problems],
        }
        if self.checkpoint:
            checked["checkpoint"] = self.checkpoint
        return checked

    def raise_if_broken(self) -> None:
        if self.problems:
            raise AuditFailure(f"the audit trail is broken: {self.problems[0]}")


def verify_audit(db: Database, actor: Actor, reference: str | None = None) -> AuditReport:
    """Check the hash chains of every stream, or of one case, and the rows of the tables against what
    the events say (of one case: only its rows). Managers and administrators only."""
    require_role(actor, "manager", "admin")
    reference = normalise_reference(reference) if reference else None
    with db.reading() as session:
        streams, events, problems = verify(session, reference)
        if reference and not streams:
            raise NotFound(f"no case {reference}")
        case_id = (
            session.scalar(select(CASES.c.id).where(CASES.c.reference == reference)) if reference else None
        )
        if reference is None or case_id is not None:  # a case's row gone is a chain problem already
            problems.extend(table_problems(session, case_id))
            problems.extend(document_problems(db, session, case_id))
    return AuditReport(streams, events, tuple(problems))
