"""Verify the audit trail, as a user may ask it to be verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dfg.errors import AuditFailure, NotFound
from dfg.services.cases import normalise_reference
from dfg.store.audit import AuditProblem, verify
from dfg.store.database import Database
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
            "problems": [{"stream": p.stream, "seq": p.seq, "problem": p.problem} for p in self.problems],
        }
        if self.checkpoint:
            checked["checkpoint"] = self.checkpoint
        return checked

    def raise_if_broken(self) -> None:
        if self.problems:
            raise AuditFailure(f"the audit trail is broken: {self.problems[0]}")


def verify_audit(db: Database, actor: Actor, reference: str | None = None) -> AuditReport:
    """Check the hash chains of every stream, or of one case. Managers and administrators only."""
    require_role(actor, "manager", "admin")
    with db.reading() as session:
        streams, events, problems = verify(session, normalise_reference(reference) if reference else None)
    if reference and not streams:
        raise NotFound(f"no case {normalise_reference(reference)}")
    return AuditReport(streams, events, tuple(problems))
