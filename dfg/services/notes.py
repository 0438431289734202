"""Notes and the contact log: calls, e-mails, visits and letters received on a case, with who it was with.

A note is an event on the case's chain (``note_recorded``): never edited, shown in the history, and its
summary is personal text, sealed beside the chain (``dfg.store.personal``) so it goes when the file is
disposed of. A correction is a new note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dfg.errors import InvalidInput
from dfg.rules.clock import local_day, utcnow
from dfg.services.case_history import history
from dfg.services.cases import Recorded, record_change
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

NOTE_RECORDED = "note_recorded"
#: How the contact happened.
CONTACTS = ("call", "email", "visit", "letter_received", "meeting", "other")
#: Who it was with.
PARTIES = ("applicant", "advocate", "ot", "contractor", "landlord", "other")
#: Who keeps the log: everyone who works on cases.
NOTE_TAKERS = ("grant_officer", "ot", "technical_officer", "approver", "manager")
LONGEST_SUMMARY = 4000


@dataclass(frozen=True)
class Note:
    seq: int
    on: date
    contact: str
    party: str
    summary: str
    recorded_by: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "on": self.on.isoformat(),
            "contact": self.contact,
            "with": self.party,
            "summary": self.summary,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }


def add_note(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    contact: str,
    party: str,
    summary: str,
    on: date | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Record a contact on the case: every mistake at once, in one message."""
    role = require_role(actor, *NOTE_TAKERS)
    now = now or utcnow()
    on = on or local_day(now)
    summary = summary.strip()
    problems = note_problems(contact=contact, party=party, summary=summary, on=on, now=now)
    if problems:
        raise problems
    return record_change(
        db, actor, reference, role=role, kind=NOTE_RECORDED, now=now,
        payload={"contact": contact, "with": party, "on": on, "notes": summary},
    )  # fmt: skip


def note_problems(
    *, contact: str, party: str, summary: str, on: date | None, now: datetime | None = None
) -> InvalidInput | None:
    """Everything wrong with a note, without recording it (a form shows these beside its own)."""
    now = now or utcnow()
    on = on or local_day(now)
    summary = summary.strip()
    problems, words = [], {}
    if contact not in CONTACTS:
        problems.append(f"contact: '{contact}' is not one of {', '.join(CONTACTS)}")
        words["contact"] = "Choose how the contact happened"
    if party not in PARTIES:
        problems.append(f"with: '{party}' is not one of {', '.join(PARTIES)}")
        words["party"] = "Choose who it was with"
    if not summary:
        problems.append("summary: say what was said or done")
        words["summary"] = "Say what was said or done"
    elif len(summary) > LONGEST_SUMMARY:
        problems.append(f"summary: at most {LONGEST_SUMMARY:,} characters (attach a document for more)")
        words["summary"] = (
            f"The note must be {LONGEST_SUMMARY:,} characters or fewer: attach a document for more"
        )
    if on > local_day(now):
        problems.append(f"on: {on:%d/%m/%Y} is in the future")
        words["on"] = "The date of the contact must be today or in the past"
    return InvalidInput("; ".join(problems), fields=words) if problems else None


def notes_of(db: Database, actor: Actor, reference: str) -> list[Note]:
    """The case's notes, oldest first."""
    return [
        Note(
            entry.seq,
            date.fromisoformat(said["on"]),
            said["contact"],
            said["with"],
            str(said["notes"]),
            entry.actor,
            entry.occurred_at,
        )
        for entry in history(db, actor, reference, view="notes")
        if entry.kind == NOTE_RECORDED
        for said in [entry.as_dict()["payload"]]
    ]
