"""A case's history: its audit trail as ``dfg case history`` shows it, and the path of states it has been
through (for the diagram of one case)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dfg.rules.money import format_pounds
from dfg.services.access import record_access
from dfg.services.cases import normalise_reference, read_case
from dfg.store.database import Database
from dfg.store.models import Event
from dfg.store.personal import personal_values
from dfg.workflow.actor import Actor
from dfg.workflow.definition import Definition, definition_for
from dfg.workflow.timeline import MIGRATED


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    occurred_at: datetime
    actor: str
    role: str | None
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    reason: str | None
    code: str | None
    payload: str
    workflow_version: str | None

    @property
    def detail(self) -> str:
        """What the step recorded, in a few words, for the text of ``dfg case history``: which check and
        whether it passed, the amount paid or collected, the invoice, the estimate, the grant."""
        said: dict[str, Any] = json.loads(self.payload)
        money = {
            k: format_pounds(int(v)) for k, v in said.items() if k.endswith("_pence") and isinstance(v, int)
        }
        if self.kind == "details_corrected":
            return "corrected: " + ", ".join(str(k).replace("_", " ") for k in said.get("changed", {}))
        if self.kind in ("person_added", "person_removed"):
            roles = ", ".join(str(r).replace("_", " ") for r in said.get("roles", [])) or "household member"
            return f"{self.kind.removeprefix('person_')} {said.get('name')} ({roles})"
        if self.kind == MIGRATED:
            legacy = said.get("legacy_reference")
            return f"brought in from {said.get('file_name')} row {said.get('row')}" + (
                f" (was {legacy})" if legacy else ""
            )
        if self.kind == "note_recorded":
            return f"{str(said['contact']).replace('_', ' ')} with {said['with']}"
        if self.kind == "completion_checked":
            return f"{str(said['check']).replace('_', ' ')} {'passed' if said['passed'] else 'failed'}"
        if self.kind == "estimate_recorded":
            return f"{said['contractor']} {money['price_pence']}"
        if self.trigger in ("pay_interim", "pay_final"):
            # a final payment pays each line to whom it is due: every payee, in the order paid
            paid = said.get("payments") or [said]
            return ", ".join(
                f"{format_pounds(int(p['amount_pence']))} to the {p.get('payee', '')}"
                for p in paid
                if isinstance(p.get("amount_pence"), int)
            ).strip()
        for key in ("amount_pence", "price_pence", "total_assistance_pence", "price_change_pence"):
            if key in money:
                return money[key]
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "kind": self.kind,
            "trigger": self.trigger,
            "from": self.from_state,
            "to": self.to_state,
            "reason": self.reason,
            "code": self.code,
            "payload": json.loads(self.payload),
            "workflow_version": self.workflow_version,
            "detail": self.detail,
        }


def history(db: Database, actor: Actor, reference: str, *, view: str = "history") -> list[HistoryEntry]:
    """The case's audit trail, oldest first; the read is on the case's access record as ``view`` (what
    the user was looking at: the history, the notes, a subject access export)."""
    reference = normalise_reference(reference)
    with db.reading() as session:
        row, _ = read_case(session, reference, actor)
        events = session.scalars(select(Event).where(Event.stream == reference).order_by(Event.seq)).all()
        kept = personal_values(session.connection(), [row.id])
        entries = [
            HistoryEntry(
                e.seq,
                e.occurred_at,
                e.actor,
                e.role,
                e.kind,
                e.trigger,
                e.from_state,
                e.to_state,
                kept.reason(e.reason),
                e.code,
                kept.payload_text(e.payload),
                e.workflow_version,
            )
            for e in events
        ]
    record_access(db, actor, reference, view)
    return entries


def case_path(db: Database, actor: Actor, reference: str) -> tuple[Definition, list[str], str]:
    """The definition a case runs under, the states it has been in (in order), and its state now."""
    reference = normalise_reference(reference)
    with db.reading() as session:
        row, _ = read_case(session, reference, actor)
        states = session.scalars(
            select(Event.to_state)
            .where(Event.stream == reference, Event.to_state.is_not(None))
            .order_by(Event.seq)
        )
        return definition_for(row.workflow_version), [s for s in states if s], row.state
