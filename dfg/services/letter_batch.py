"""Producing the pending letters: build each one's context, render the batch on every core, and record
each letter with its event.

:func:`render_pending` builds each pending letter's context from the case's own data
(:mod:`dfg.services.letter_contexts`), renders the batch on every core
(:func:`dfg.letters.render.render_many`), and records each letter (the PDF, its SHA-256, the template
version) together with a ``letter_produced`` event carrying the hash in the case's audit chain, in one
transaction per letter. A letter is either recorded with its event, or still pending:

- when its context cannot be built, because the case does not hold something the letter must show, it
  stays pending with a reason naming what is missing;
- when its rendering fails, it stays pending with the error, and the other letters are still produced.

Every run tries the pending letters again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from dfg.errors import ConfigurationError, Conflict
from dfg.letters import context as c
from dfg.letters.contracts import contract_for
from dfg.letters.render import LetterJob, render_many, render_pdf
from dfg.paths import letter_templates_dir
from dfg.rules.clock import local_day, utcnow
from dfg.services.cases import record_change
from dfg.services.letter_contexts import build_letters
from dfg.services.letter_queue import (
    LETTER_PRODUCED,
    PRODUCERS,
    LetterRecord,
    LetterStep,
    Pending,
    read_queue,
)
from dfg.services.progress import Progress, unwatched
from dfg.store.database import Database
from dfg.store.models import LETTERS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

#: Fewer letters than this render sooner in this process than in a pool of every core: each worker first
#: spends about a second importing WeasyPrint and loading the fonts (see render_many).
_POOL_FROM = 24

#: Template sources that shape every letter besides the templates themselves (layout and window).
_SHARED_SOURCES = ("letter.css", "layout.toml")


@dataclass(frozen=True)
class RenderReport:
    """What a run of :func:`render_pending` did: the letters produced, those waiting for data the case
    does not hold yet, those that failed (an error while building or rendering them), and how many
    ready letters were left for a later run by its ``limit``."""

    produced: tuple[LetterRecord, ...]
    waiting: tuple[Pending, ...]
    failed: tuple[Pending, ...]
    left: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "produced": [letter.as_dict() for letter in self.produced],
            "waiting": [p.as_dict() for p in self.waiting],
            "failed": [p.as_dict() for p in self.failed],
            "left": self.left,
        }

    def raise_if_failed(self) -> None:
        """:class:`ConfigurationError` if any letter failed: an error in a template or in this code, which
        someone must look at (letters waiting for data are expected, and are not an error)."""
        if self.failed:
            first = self.failed[0]
            raise ConfigurationError(
                f"{len(self.failed)} letter(s) failed and stay pending; the first, {first.reference} "
                f"{first.kind}: {first.reason}"
            )


def template_version(kind: str, templates_dir: Path | None = None) -> str:
    """A digest of the template sources a letter of ``kind`` is made from: its template, every template it
    extends, includes or imports, the stylesheet and the page layout. Recorded with each letter, so the
    register says which version of the wording produced it."""
    return _template_digest(kind, templates_dir or letter_templates_dir())


@cache
def _template_digest(kind: str, root: Path) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(root))
    names: set[str] = set()
    todo = [f"{kind}.html"]
    while todo:
        name = todo.pop()
        if name in names:
            continue
        names.add(name)
        source = (root / name).read_text(encoding="utf-8")
        todo.extend(n for n in meta.find_referenced_templates(env.parse(source)) if n is not None)
    digest = hashlib.sha256()
    for name in (*sorted(names), *_SHARED_SOURCES):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def pdf_identity(event_id: int, kind: str, *, copy: bool = False) -> str:
    """What names a letter inside its PDF (its /ID): the step and kind, so re-rendering an original from
    the same data and creation time gives the same bytes; a copy is a document of its own."""
    return f"dfg-letter/{event_id}/{kind}" + ("/copy" if copy else "")


def _rendered(jobs: Sequence[LetterJob], workers: int | None) -> Iterator[bytes | Exception]:
    """Each job's PDF, or the exception that stopped it, in the order of ``jobs``.

    :func:`render_many` stops at the first failure, and a worker loses the rest of the failing letter's
    chunk; so after a failure the next letters are rendered here, one at a time, until the failing one is
    found, and the pool carries on after it. A configuration error (a resource missing from the templates
    folder) would fail every letter, so it ends the run: the rest stay pending.
    """
    start = 0
    while start < len(jobs):
        done = 0
        try:
            for pdf in render_many(jobs[start:], workers=workers):
                done += 1
                yield pdf
            return
        except Exception:
            start += done
        while start < len(jobs):
            job = jobs[start]
            start += 1
            try:
                yield render_pdf(
                    job.kind, job.context, letter_id=job.letter_id, created_at=job.created_at, copy=job.copy
                )
            except ConfigurationError as exc:
                for _ in range(start - 1, len(jobs)):
                    yield exc
                return
            except Exception as exc:
                yield exc
                break


class _AlreadyProduced(Exception):
    """Another run recorded this original first."""


def record_letter(
    db: Database,
    actor: Actor,
    role: str,
    step: LetterStep,
    kind: str,
    context: c.LetterContext,
    pdf: bytes,
    created_at: datetime,
    copy_of: int | None = None,
) -> LetterRecord | None:
    """Store the letter and append its ``letter_produced`` event, in one transaction; None when another
    run produced the same original first. Retries when the case changed in between (an officer acting)."""
    digest = hashlib.sha256(pdf).hexdigest()
    recipient_role = context.recipient_role(contract_for(kind).recipient)
    version = template_version(kind)
    made: dict[str, int] = {}

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        if copy_of is None and connection.scalar(
            select(LETTERS.c.id).where(
                LETTERS.c.event_id == step.event_id, LETTERS.c.kind == kind, LETTERS.c.copy_of.is_(None)
            )
        ):
            raise _AlreadyProduced
        made["id"] = connection.execute(
            insert(LETTERS).returning(LETTERS.c.id),
            {
                "case_id": case_id,
                "event_id": step.event_id,
                "kind": kind,
                "recipient_name": context.recipient.name,
                "recipient_role": recipient_role,
                "template_version": version,
                "created_by": actor.username,
                "created_at": created_at,
                "pdf": pdf,
                "sha256": digest,
                "copy_of": copy_of,
            },
        ).scalar_one()
        return {"letter": made["id"]}

    said: dict[str, Any] = {
        "kind": kind,
        "step": step.seq,
        "recipient": recipient_role,
        "sha256": digest,
        "template_version": version,
        # The date the letter carries (its step's), for a copy to carry it too; and the day it was
        # produced, which for a decision's notice is the day the applicant was notified (s.34).
        "letter_date": context.letter_date.isoformat(),
        "produced_on": local_day(created_at).isoformat(),
    }
    if copy_of is not None:
        said["copy_of"] = copy_of
    for attempt in range(3):
        try:
            record_change(
                db,
                actor,
                step.case.reference,
                role=role,
                kind=LETTER_PRODUCED,
                write_details=write,
                payload=said,
            )
            break
        except _AlreadyProduced:
            return None
        except (Conflict, IntegrityError):
            # Someone changed the case (or recorded this letter) since it was read: read it again.
            if attempt == 2:
                raise Conflict(f"{step.case.reference} kept changing while its letter was recorded") from None
    return LetterRecord(
        made["id"],
        step.case.reference,
        step.event_id,
        kind,
        context.recipient.name,
        recipient_role,
        version,
        actor.username,
        created_at,
        digest,
        copy_of,
    )


def pending_letters(db: Database, actor: Actor, reference: str | None = None) -> list[Pending]:
    """The letters the workflow asked for that are not in the register (of one case, or every case the
    user may see), oldest step first, each with the reason it cannot be produced now if there is one,
    or whom it is to if there is none.

    The whole queue (no ``reference``) is for those who produce letters (grant officer, manager, admin);
    anyone who may see a case may see its own pending letters.
    """
    if reference is None:
        require_role(actor, *PRODUCERS)
    queue = read_queue(db, actor, reference)
    built = build_letters(db, actor, queue)
    found = (
        [
            replace(step.pending(kind), recipient_name=context.recipient.name)
            for step, kind, context in built.ready
        ]
        + built.waiting
        + built.failed
    )
    return sorted(found, key=lambda p: (p.event_id, p.kind))


def render_pending(
    db: Database,
    actor: Actor,
    *,
    workers: int | None = None,
    progress: Progress = unwatched,
    now: datetime | None = None,
    limit: int | None = None,
) -> RenderReport:
    """Produce every pending letter the user may see: build, render (``workers`` processes; by default
    every core, or this process for a handful of letters), and record each with its ``letter_produced``
    event (roles: grant officer, manager, admin).

    Letters that cannot be built or rendered stay pending and are reported; the others are produced.
    With ``limit``, only the oldest ``limit`` ready letters are rendered (a page cannot wait for a
    whole batch); the report says how many were left.
    """
    role = require_role(actor, *PRODUCERS)
    created_at = now or utcnow()
    built = build_letters(db, actor, read_queue(db, actor))
    ready = built.ready if limit is None else built.ready[: max(limit, 0)]
    jobs = [
        LetterJob(kind, context, pdf_identity(step.event_id, kind), created_at)
        for step, kind, context in ready
    ]
    if workers is None and len(jobs) < _POOL_FROM:
        workers = 1
    progress(0, len(jobs))
    produced: list[LetterRecord] = []
    failed = list(built.failed)
    for (step, kind, context), result in zip(ready, _rendered(jobs, workers), strict=True):
        try:
            if isinstance(result, Exception):
                raise result
            record = record_letter(db, actor, role, step, kind, context, result, created_at)
            if record is not None:
                produced.append(record)
        except Exception as exc:
            failed.append(step.pending(kind, f"{type(exc).__name__}: {exc}"))
        progress(1, len(jobs))
    return RenderReport(
        tuple(produced), tuple(built.waiting), tuple(failed), left=len(built.ready) - len(ready)
    )
