"""Documents on a case: the OT's report, photographs, quotes, invoices, plans.

Each is checked from its content (PDF, JPEG, PNG, DOCX or XLSX; never by its name), kept under a name
made from its SHA-256 in the documents folder (``dfg.store.documents``), registered in ``documents``
and recorded on the case's chain with its SHA-256 (``document_added``), so ``audit verify`` can tell
a replaced file. The file name as given is personal text, sealed like the rest. At disposal the files
go with the file.

A document added in error (the wrong case, the wrong person's report) is *withdrawn*, with a reason: an
event on the chain (``document_withdrawn``, the reason sealed) and nothing else, so the register row, the
file and the history stay. A withdrawn document is left out of the list and cannot be fetched unless
asked for by name (``dfg document list --all``, ``dfg document get --withdrawn``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from dfg.errors import GuardFailed, InvalidInput, NotFound
from dfg.rules.clock import utcnow
from dfg.rules.documents import DEFAULT_LIMIT_MB, DOCUMENT_KINDS, MEDIA_TYPES, document_type, safe_file_name
from dfg.services.access import record_access
from dfg.services.case_reading import show_case
from dfg.services.cases import case_id_of, normalise_reference, record_change
from dfg.store import documents as files
from dfg.store.audit import AuditProblem, disposed_cases
from dfg.store.database import Database
from dfg.store.personal import reason_digest, values_of
from dfg.store.tables import CASES, DOCUMENTS, EVENTS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

DOCUMENT_ADDED = "document_added"
DOCUMENT_WITHDRAWN = "document_withdrawn"
#: The longest reason for a withdrawal (kept, sealed, on its event).
REASON_LONGEST = 2000
#: Who may attach and read documents: everyone who works on cases.
DOCUMENT_ROLES = ("grant_officer", "ot", "technical_officer", "approver", "manager")


def size_limit() -> int:
    """The largest document accepted, in bytes: ``DFG_DOCUMENTS_MAX_MB`` megabytes (default 20)."""
    text = os.environ.get("DFG_DOCUMENTS_MAX_MB", str(DEFAULT_LIMIT_MB))
    try:
        megabytes = int(text)
    except ValueError:
        raise InvalidInput(f"DFG_DOCUMENTS_MAX_MB: '{text}' is not a whole number of megabytes") from None
    return megabytes * 1024 * 1024


@dataclass(frozen=True)
class Withdrawal:
    """Who withdrew a document, when, and why."""

    by: str
    at: datetime
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at.isoformat(), "reason": self.reason}


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    reference: str
    kind: str
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    added_by: str
    added_at: datetime
    withdrawal: Withdrawal | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "reference": self.reference, "kind": self.kind, "file_name": self.file_name,
            "media_type": self.media_type, "size_bytes": self.size_bytes, "sha256": self.sha256,
            "added_by": self.added_by, "added_at": self.added_at.isoformat(),
            "withdrawn": self.withdrawal.as_dict() if self.withdrawal else None,
        }  # fmt: skip


def add_document(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    name: str,
    content: bytes,
    kind: str,
    now: datetime | None = None,
) -> DocumentRecord:
    """Attach a file to a case; every problem with it said at once, and nothing kept if there is one."""
    role = require_role(actor, *DOCUMENT_ROLES)
    now = now or utcnow()
    problems, words = [], {}
    if kind not in DOCUMENT_KINDS:
        problems.append(f"kind: '{kind}' is not one of {', '.join(DOCUMENT_KINDS)}")
        words["kind"] = "Choose what kind of document it is"
    limit = size_limit()
    if len(content) > limit:
        problems.append(
            f"the file is {len(content) / 1024 / 1024:.1f} MB: at most {limit // 1024 // 1024} MB"
        )
    elif not content:
        problems.append("the file is empty")
    found = document_type(content) if content else None
    if content and found is None:
        problems.append("the file is not a PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx) document")
    about_file = "; ".join(p for p in problems if not p.startswith("kind:"))
    if about_file:
        words["file"] = about_file[0].upper() + about_file[1:]
    if problems:
        raise InvalidInput("; ".join(problems), fields=words)
    assert found is not None
    digest = hashlib.sha256(content).hexdigest()
    safe = safe_file_name(name, found)
    folder = files.documents_folder(db)
    made: dict[str, Any] = {}

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        stored_as = f"{case_id}/{digest}"
        files.keep(folder, stored_as, content)  # before the row: never a row without its file
        values = {
            "case_id": case_id, "kind": kind, "file_name": safe, "media_type": MEDIA_TYPES[found],
            "size_bytes": len(content), "sha256": digest, "stored_as": stored_as, "added_by": actor.username,
            "added_at": now,
        }  # fmt: skip
        made["id"] = connection.execute(insert(DOCUMENTS).returning(DOCUMENTS.c.id), values).scalar_one()
        return {"document": made["id"], "kind": kind, "file_name": safe, "media_type": MEDIA_TYPES[found],
                "size_bytes": len(content), "sha256": digest}  # fmt: skip

    recorded = record_change(
        db, actor, reference, role=role, kind=DOCUMENT_ADDED, write_details=write, now=now
    )
    return DocumentRecord(
        made["id"],
        recorded.reference,
        kind,
        safe,
        MEDIA_TYPES[found],
        len(content),
        digest,
        actor.username,
        now,
    )


def _withdrawals(connection: Connection, case_id: int) -> dict[int, Withdrawal]:
    """The case's withdrawn documents by id, from their events (the reasons unsealed)."""
    rows = connection.execute(
        select(EVENTS.c.payload, EVENTS.c.reason, EVENTS.c.actor, EVENTS.c.occurred_at)
        .where(EVENTS.c.case_id == case_id, EVENTS.c.kind == DOCUMENT_WITHDRAWN)
        .order_by(EVENTS.c.seq)
    ).all()
    kept = values_of(connection, [d for r in rows if (d := reason_digest(r.reason)) is not None])
    return {
        int(json.loads(r.payload)["document"]): Withdrawal(
            r.actor, r.occurred_at, kept.reason(r.reason) or ""
        )
        for r in rows
    }


def documents_of(
    db: Database, actor: Actor, reference: str, *, withdrawn: bool = False
) -> list[DocumentRecord]:
    """The case's documents, oldest first; those withdrawn too if ``withdrawn``."""
    reference = normalise_reference(reference)
    require_role(actor, *DOCUMENT_ROLES)
    show_case(db, actor, reference)  # NotFound, and the district check
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        rows = connection.execute(
            select(DOCUMENTS).where(DOCUMENTS.c.case_id == case_id).order_by(DOCUMENTS.c.id)
        ).all()
        gone = _withdrawals(connection, case_id)
    found = [
        DocumentRecord(
            r.id, reference, r.kind, r.file_name, r.media_type, r.size_bytes, r.sha256, r.added_by, r.added_at,
            gone.get(r.id),
        )
        for r in rows
    ]  # fmt: skip
    return found if withdrawn else [d for d in found if d.withdrawal is None]


def _document(db: Database, actor: Actor, reference: str, document_id: int) -> DocumentRecord:
    record = next(
        (d for d in documents_of(db, actor, reference, withdrawn=True) if d.id == document_id), None
    )
    if record is None:
        raise NotFound(
            f"{normalise_reference(reference)} has no document {document_id} (see 'dfg document list')"
        )
    return record


def withdraw_document(
    db: Database, actor: Actor, reference: str, document_id: int, reason: str, *, now: datetime | None = None
) -> DocumentRecord:
    """Withdraw a document added in error, with the reason: it stays in the register and the history, and
    is left out of the list from now on."""
    role = require_role(actor, *DOCUMENT_ROLES)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("--reason: say why the document is withdrawn",
                           fields={"reason": "Enter why the document is withdrawn"})  # fmt: skip
    if len(reason) > REASON_LONGEST:
        words = f"The reason must be {REASON_LONGEST:,} characters or fewer"
        raise InvalidInput(
            f"--reason must be {REASON_LONGEST:,} characters or fewer", fields={"reason": words}
        )
    now = now or utcnow()
    record = _document(db, actor, reference, document_id)

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        # read again once the case is claimed: two officers withdrawing at once record it once
        if document_id in _withdrawals(connection, case_id):
            raise GuardFailed(f"document {document_id} is already withdrawn")
        return {"document": document_id}

    record_change(db, actor, record.reference, role=role, kind=DOCUMENT_WITHDRAWN, write_details=write,
                  reason=reason, now=now)  # fmt: skip
    return _document(db, actor, record.reference, document_id)


def document_content(
    db: Database, actor: Actor, reference: str, document_id: int, *, withdrawn: bool = False
) -> tuple[DocumentRecord, bytes]:
    """A document and its bytes, checked against the SHA-256 it was registered with. A withdrawn one
    only if ``withdrawn`` (asked for as such)."""
    record = _document(db, actor, reference, document_id)
    if record.withdrawal is not None and not withdrawn:
        raise NotFound(
            f"document {document_id} was withdrawn on {record.withdrawal.at:%d/%m/%Y}: "
            "'dfg document get --withdrawn' fetches it"
        )
    with db.read_connection() as connection:
        stored_as = connection.scalar(select(DOCUMENTS.c.stored_as).where(DOCUMENTS.c.id == document_id))
    content = files.read(files.documents_folder(db), str(stored_as))
    if content is None or hashlib.sha256(content).hexdigest() != record.sha256:
        raise NotFound(
            f"document {document_id}'s file is missing or not the one registered (see 'dfg audit verify')"
        )
    record_access(db, actor, record.reference, "document")
    return record, content


def forget_files(db: Database, case_id: int) -> None:
    """Delete a disposed case's document files (its register rows are erased with the disposal)."""
    with db.read_connection() as connection:
        stored = (
            connection.execute(select(DOCUMENTS.c.stored_as).where(DOCUMENTS.c.case_id == case_id))
            .scalars()
            .all()
        )
    if stored:
        folder = files.documents_folder(db)
        for name in stored:
            files.remove(folder, name)


def document_problems(db: Database, session: Session, case_id: int | None = None) -> list[AuditProblem]:
    """Each document's file against the SHA-256 its event put on the chain: a file replaced, missing, or a
    register row no event records (a disposed case's files are gone on purpose)."""
    query = select(
        DOCUMENTS.c.id, DOCUMENTS.c.case_id, DOCUMENTS.c.sha256, DOCUMENTS.c.stored_as, CASES.c.reference
    ).join(CASES, CASES.c.id == DOCUMENTS.c.case_id)
    said = select(EVENTS.c.stream, EVENTS.c.seq, EVENTS.c.payload).where(EVENTS.c.kind == DOCUMENT_ADDED)
    if case_id is not None:
        query, said = query.where(DOCUMENTS.c.case_id == case_id), said.where(EVENTS.c.case_id == case_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    on_chain = {}
    for stream, seq, payload in session.execute(said):
        recorded = json.loads(payload)
        on_chain[recorded["document"]] = (stream, seq, recorded["sha256"])
    disposed = disposed_cases(session)
    folder = files.documents_folder(db)
    problems = []
    for row in rows:
        if row.case_id in disposed:
            continue
        where = on_chain.get(row.id)
        if where is None:
            problems.append(
                AuditProblem(row.reference, None, f"document {row.id}: no event records it (inserted?)")
            )
            continue
        stream, seq, sha256 = where
        content = files.read(folder, row.stored_as)
        if row.sha256 != sha256:
            problems.append(
                AuditProblem(stream, seq, f"document {row.id}: its register row's SHA-256 was changed")
            )
        if content is None:
            problems.append(AuditProblem(stream, seq, f"document {row.id}: its file is missing"))
        elif hashlib.sha256(content).hexdigest() != sha256:
            problems.append(
                AuditProblem(stream, seq, f"document {row.id}: its file is not the one added (replaced?)")
            )
    return problems
