"""The letter register: every letter produced, originals and copies, with its PDF exactly as produced;
and reprinting a copy, rendered again from the same step's data and dated as the original was.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, select

from dfg.errors import InvalidInput, NotFound
from dfg.letters.render import render_pdf
from dfg.rules.clock import local_day, utcnow
from dfg.services.access import record_access
from dfg.services.case_reading import show_case
from dfg.services.cases import check_district, normalise_reference
from dfg.services.letter_batch import pdf_identity, record_letter
from dfg.services.letter_contexts import build_letters
from dfg.services.letter_queue import (
    LETTER_PRODUCED,
    PRODUCERS,
    LetterQueue,
    LetterRecord,
    officer_names,
    queue_scope,
    read_steps,
)
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, LETTERS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role


def _letter_rows(connection: Connection, *conditions: ColumnElement[bool]) -> list[Any]:
    return list(
        connection.execute(
            select(*(col for col in LETTERS.c if col.name != "pdf"), CASES.c.reference, CASES.c.district_code)
            .join(CASES, CASES.c.id == LETTERS.c.case_id)
            .where(*conditions)
            .order_by(LETTERS.c.id)
        )
    )


def _as_record(row: Any) -> LetterRecord:
    return LetterRecord(
        row.id,
        row.reference,
        row.event_id,
        row.kind,
        row.recipient_name,
        row.recipient_role,
        row.template_version,
        row.created_by,
        row.created_at,
        row.sha256,
        row.copy_of,
    )


def list_letters(db: Database, actor: Actor, reference: str) -> list[LetterRecord]:
    """Every letter in the register for the case, originals and copies, oldest first."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # NotFound, and the district check
    with db.read_connection() as connection:
        return [_as_record(row) for row in _letter_rows(connection, CASES.c.reference == reference)]


def letter_record(db: Database, actor: Actor, letter_id: int) -> LetterRecord:
    """One letter of the register; NotFound, or PermissionDenied for another district's."""
    with db.read_connection() as connection:
        rows = _letter_rows(connection, LETTERS.c.id == letter_id)
    if not rows:
        raise NotFound(f"no letter {letter_id}")
    check_district(actor, rows[0].reference, rows[0].district_code)
    return _as_record(rows[0])


def letter_pdf(db: Database, actor: Actor, letter_id: int) -> bytes:
    """The letter's PDF exactly as it was produced (its SHA-256 is in the register and the audit chain);
    the read is on the case's access record."""
    record = letter_record(db, actor, letter_id)
    with db.read_connection() as connection:
        pdf = cast(bytes, connection.scalar(select(LETTERS.c.pdf).where(LETTERS.c.id == letter_id)))
    record_access(db, actor, record.reference, "letter")
    return pdf


def _letter_date(connection: Connection, original: LetterRecord) -> date:
    """The date ``original`` carries, as its ``letter_produced`` event recorded it; a letter produced
    before letters were dated by their step carried the day it was produced."""
    events = connection.execute(
        select(EVENTS.c.payload).where(
            EVENTS.c.case_id
            == select(CASES.c.id).where(CASES.c.reference == original.reference).scalar_subquery(),
            EVENTS.c.kind == LETTER_PRODUCED,
        )
    ).scalars()
    for payload in map(json.loads, events):
        if payload.get("letter") == original.id and isinstance(payload.get("letter_date"), str):
            return date.fromisoformat(payload["letter_date"])
    return local_day(original.created_at)


def reprint(db: Database, actor: Actor, letter_id: int, *, now: datetime | None = None) -> LetterRecord:
    """A copy of a letter, marked COPY on every page, recorded as a new letter with ``copy_of``.

    The copy is rendered again from the same step's data and dated as the original was; a copy of a copy
    is a copy of its original. Raises :class:`InvalidInput` if the case no longer holds what the letter
    shows.
    """
    role = require_role(actor, *PRODUCERS)
    original = letter_record(db, actor, letter_id)
    if original.copy_of is not None:
        original = letter_record(db, actor, original.copy_of)
    queue_where = queue_scope(actor, EVENTS.c.id == original.event_id)
    with db.read_connection() as connection:
        steps = read_steps(connection, queue_where)
        officers = officer_names(connection, queue_where)
        dated = _letter_date(connection, original)
    built = build_letters(db, actor, LetterQueue([(steps[0], original.kind)], officers), dated)
    if not built.ready:
        problem = (built.waiting + built.failed)[0]
        raise InvalidInput(f"letter {original.id} cannot be reprinted: {problem.reason}")
    step, kind, context = built.ready[0]
    pdf = render_pdf(
        kind,
        context,
        letter_id=pdf_identity(step.event_id, kind, copy=True),
        created_at=original.created_at,
        copy=True,
    )
    record = record_letter(db, actor, role, step, kind, context, pdf, now or utcnow(), copy_of=original.id)
    assert record is not None, "a copy is never refused as a duplicate"
    return record
