"""Printing for the post room: every letter produced since a day, merged into one PDF to print in one go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import ColumnElement, select

from dfg.errors import NotFound
from dfg.letters.render import merge_pdfs
from dfg.rules.clock import ENGLAND
from dfg.services.letter_queue import PRODUCERS
from dfg.services.people import letter_arrangements
from dfg.store.database import Database
from dfg.store.models import CASES, LETTERS, PEOPLE
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role


@dataclass(frozen=True)
class Arrangement:
    """A letter of the batch that needs more than printing and posting: what to arrange for it."""

    letter_id: int
    reference: str
    kind: str
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "letter": self.letter_id,
            "reference": self.reference,
            "kind": self.kind,
            "notes": list(self.notes),
        }


def _since(actor: Actor, since: date) -> list[ColumnElement[bool]]:
    conditions = [LETTERS.c.created_at >= datetime.combine(since, time(), tzinfo=ENGLAND)]
    if actor.district:
        conditions.append(CASES.c.district_code == actor.district)
    return conditions


def batch_arrangements(db: Database, actor: Actor, since: date) -> list[Arrangement]:
    """The letters to applicants produced on or after ``since`` whose applicant needs a format the engine
    cannot print (Braille, audio, an interpreter) or a copy to their advocate, oldest first; for the post
    room to set aside beside :func:`print_batch` (roles: grant officer, manager, admin)."""
    require_role(actor, *PRODUCERS)
    with db.read_connection() as connection:
        rows = connection.execute(
            select(LETTERS.c.id, LETTERS.c.kind, CASES.c.reference, PEOPLE)
            .join(CASES, CASES.c.id == LETTERS.c.case_id)
            .join(PEOPLE, (PEOPLE.c.case_id == CASES.c.id) & PEOPLE.c.is_applicant.is_(True))
            .where(*_since(actor, since), LETTERS.c.recipient_role == "applicant")
            .order_by(LETTERS.c.id)
        ).all()
    return [
        Arrangement(row.id, row.reference, row.kind, tuple(notes))
        for row in rows
        if (notes := letter_arrangements(dict(row._mapping)))
    ]


def print_batch(db: Database, actor: Actor, since: date) -> bytes:
    """One PDF of every letter (originals and copies) produced on or after ``since``, oldest first, for the
    post room to print in one go (roles: grant officer, manager, admin)."""
    require_role(actor, *PRODUCERS)
    conditions = _since(actor, since)
    with db.read_connection() as connection:
        pdfs = list(
            connection.scalars(
                select(LETTERS.c.pdf)
                .join(CASES, CASES.c.id == LETTERS.c.case_id)
                .where(*conditions)
                .order_by(LETTERS.c.id)
            )
        )
    if not pdfs:
        raise NotFound(f"no letters were produced on or after {since:%d/%m/%Y}")
    return merge_pdfs(pdfs)
