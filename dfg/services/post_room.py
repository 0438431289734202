"""Printing for the post room: every letter produced since a day, merged into one PDF to print in one go."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from dfg.errors import NotFound
from dfg.letters.render import merge_pdfs
from dfg.rules.clock import ENGLAND
from dfg.services.letter_queue import PRODUCERS
from dfg.store.database import Database
from dfg.store.models import CASES, LETTERS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role


def print_batch(db: Database, actor: Actor, since: date) -> bytes:
    """One PDF of every letter (originals and copies) produced on or after ``since``, oldest first, for the
    post room to print in one go (roles: grant officer, manager, admin)."""
    require_role(actor, *PRODUCERS)
    start = datetime.combine(since, time(), tzinfo=ENGLAND)
    conditions = [LETTERS.c.created_at >= start]
    if actor.district:
        conditions.append(CASES.c.district_code == actor.district)
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
