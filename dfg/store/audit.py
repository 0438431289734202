"""The audit trail: append-only events, hash-chained per stream, and their verification.

Each case is one stream (named by its reference); changes that belong to no case (users, districts) go
to the ``system`` stream. An event's hash covers its content and the previous event's hash, so editing,
deleting, inserting or reordering an event breaks the chain; the stream's head (kept on the case row,
or in ``audit_heads``) also catches a deleted last event. The database refuses UPDATE and DELETE on
``events`` (triggers made by the first migration), so tampering needs someone to drop those first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session

from dfg.errors import Conflict
from dfg.store.personal import SEALED_FORMAT, digest_of, digests_in, reason_digest, seal
from dfg.store.prepared import DriverConnection, Prepared
from dfg.store.tables import AUDIT_HEADS, CASES, EVENTS, PERSONAL_VALUES

SYSTEM_STREAM = "system"
GENESIS = ""

# The fields a hash covers, in order. Changing a list invalidates every chain of its format: never do it.
HASHED_FIELDS = (
    "stream", "seq", "case_id", "occurred_at", "actor", "role", "kind", "trigger", "from_state", "to_state",
    "reason", "code", "payload", "workflow_version", "prev_hash",
)  # fmt: skip
# Format 2 (personal values sealed, dfg.store.personal) covers its format too.
HASHED_FIELDS_2 = (*HASHED_FIELDS, "format")
_HASHED_BY_FORMAT = {1: HASHED_FIELDS, SEALED_FORMAT: HASHED_FIELDS_2}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot record {type(value).__name__} in an event payload")


# One encoder for every call: json.dumps with options builds a new one each time (a fifth of its cost
# for an event's payload). The text is the same byte for byte, which the hashes depend on.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The one text form of a payload: sorted keys, no spaces, dates as ISO 8601."""
    return _CANONICAL.encode(payload)


def event_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the hashed fields of an event row, by its format (instants as UTC ISO 8601)."""
    fields = _HASHED_BY_FORMAT.get(row.get("format") or 1, HASHED_FIELDS_2)
    values = [row[name].isoformat() if name == "occurred_at" else row[name] for name in fields]
    return hashlib.sha256(canonical_json({"v": values}).encode()).hexdigest()


@dataclass(frozen=True)
class NewEvent:
    """What happened, before it is placed in its stream."""

    occurred_at: datetime
    actor: str
    kind: str
    role: str | None = None
    trigger: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    code: str | None = None
    payload: Mapping[str, Any] | None = None
    workflow_version: str | None = None


def chained(new: NewEvent, *, stream: str, seq: int, prev_hash: str, case_id: int | None) -> dict[str, Any]:
    """The row for ``new`` as event ``seq`` of ``stream``, with its hash (format 1: the system stream,
    which holds no applicant's data)."""
    return _placed(new, stream, seq, prev_hash, case_id, new.payload or {}, new.reason, 1)


def sealed_chained(
    new: NewEvent, *, stream: str, seq: int, prev_hash: str, case_id: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A case event's row (format 2: its personal values sealed) and the values to keep beside it."""
    sealed = seal(new.payload or {}, new.reason, case_id=case_id, encode=canonical_json)
    row = _placed(new, stream, seq, prev_hash, case_id, sealed.payload, sealed.reason, SEALED_FORMAT)
    return row, sealed.values


def _placed(
    new: NewEvent,
    stream: str,
    seq: int,
    prev_hash: str,
    case_id: int | None,
    payload: Mapping[str, Any],
    reason: str | None,
    format: int,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "stream": stream,
        "seq": seq,
        "case_id": case_id,
        "occurred_at": new.occurred_at.astimezone(UTC),
        "actor": new.actor,
        "role": new.role,
        "kind": new.kind,
        "trigger": new.trigger,
        "from_state": new.from_state,
        "to_state": new.to_state,
        "reason": reason,
        "code": new.code,
        "payload": canonical_json(payload),
        "workflow_version": new.workflow_version,
        "prev_hash": prev_hash,
        "format": format,
    }
    row["hash"] = event_hash(row)
    return row


_events = EVENTS
_cases = CASES


_CASE_VERSION_FOR_UPDATE = select(CASES.c.version).where(CASES.c.id == bindparam("case_id")).with_for_update()


def _changed_by_someone_else(reference: str) -> Conflict:
    return Conflict(f"{reference} was changed by someone else after you read it: show it again and retry")


def claim_case(connection: Connection, *, case_id: int, reference: str, version: int) -> None:
    """Before a step writes the records it stands on (an approval, a payment, ...): take the case's row for
    this transaction and check it is still at ``version``, or raise :class:`Conflict` with nothing written.

    Without it, two officers racing on PostgreSQL both insert their records before the version-checked
    UPDATE, and the loser meets a unique index instead of the conflict. With it they queue on the row (on
    SQLite, ``BEGIN IMMEDIATE`` already queues them), and the loser finds the version moved on.
    """
    if connection.execute(_CASE_VERSION_FOR_UPDATE, {"case_id": case_id}).scalar_one_or_none() != version:
        raise _changed_by_someone_else(reference)


def append_to_case(
    connection: DriverConnection,
    *,
    case_id: int,
    reference: str,
    version: int,
    audit_seq: int,
    audit_head: str,
    changes: Mapping[str, Any],
    new: NewEvent,
) -> str:
    """Apply ``changes`` to a case and append ``new`` to its stream, if nobody changed it since it was read.

    ``version``, ``audit_seq`` and ``audit_head`` are as the caller read them. One UPDATE both applies the
    changes and moves the chain's head, guarded by the version: a concurrent writer makes it match no
    row, and :class:`Conflict` is raised before anything is written. The same UPDATE empties the case's
    ``next_due`` (the worklists work it out again). Returns the new event's hash.
    """
    row, personal = sealed_chained(
        new, stream=reference, seq=audit_seq + 1, prev_hash=audit_head, case_id=case_id
    )
    values = {f"new_{name}": value for name, value in changes.items()}
    values.setdefault("new_next_due", None)  # any event may move the case's clocks: worked out again
    values.update(
        case_id=case_id,
        read_version=version,
        new_version=version + 1,
        new_audit_seq=audit_seq + 1,
        new_audit_head=row["hash"],
        new_updated_at=new.occurred_at,
    )
    if _versioned_update(frozenset(changes)).rowcount(connection, values) != 1:
        raise _changed_by_someone_else(reference)
    _INSERT_EVENT.execute(connection, row)
    for value in personal:
        _INSERT_VALUE.execute(connection, value)
    return str(row["hash"])


# Every column of an event but its id, in the order chained() makes them.
_EVENT_COLUMNS = [*HASHED_FIELDS, "format", "hash"]
_INSERT_EVENT = Prepared(insert(_events), column_keys=_EVENT_COLUMNS)
_INSERT_VALUE = Prepared(insert(PERSONAL_VALUES), column_keys=["digest", "case_id", "salt", "value"])
_BEGIN_STREAM = (
    update(_cases)
    .where(_cases.c.id == bindparam("case_id"), _cases.c.audit_seq == 0)
    .values(
        audit_seq=bindparam("seq"),
        audit_head=bindparam("head"),
        version=_cases.c.version + bindparam("seq"),
    )
)


def begin_streams(connection: Connection, streams: Sequence[tuple[int, str, Sequence[NewEvent]]]) -> None:
    """Write the first events of cases just inserted (``case_id``, reference, events), each case's chained
    from the start of its own stream, with a few statements for the lot; then move each case row's head
    and version on by its events, as :func:`append_to_case` would have one event at a time."""
    rows: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    for case_id, reference, events in streams:
        head = GENESIS
        for seq, new in enumerate(events, start=1):
            row, personal = sealed_chained(new, stream=reference, seq=seq, prev_hash=head, case_id=case_id)
            rows.append(row)
            values.extend(personal)
            head = row["hash"]
        heads.append({"case_id": case_id, "seq": len(events), "head": head})
    if rows:
        connection.execute(insert(_events), rows)
    if values:
        connection.execute(insert(PERSONAL_VALUES), values)
    if heads and connection.execute(_BEGIN_STREAM, heads).rowcount not in (len(heads), -1):
        raise Conflict("a case being opened already has events: nothing was opened")


@cache
def _versioned_update(changed: frozenset[str]) -> Prepared:
    """The UPDATE for one set of changed columns, built once: building and compiling a statement costs
    more than running it on the hot path."""
    columns = sorted(changed | {"version", "audit_seq", "audit_head", "updated_at", "next_due"})
    statement = (
        update(_cases)
        .where(_cases.c.id == bindparam("case_id"), _cases.c.version == bindparam("read_version"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )
    return Prepared(statement)


def append_to_system(session: Session | Connection, new: NewEvent) -> None:
    """Append ``new`` to the ``system`` stream (changes that belong to no case)."""
    head = session.execute(
        select(AUDIT_HEADS.c.seq, AUDIT_HEADS.c.hash)
        .where(AUDIT_HEADS.c.stream == SYSTEM_STREAM)
        .with_for_update()
    ).one_or_none()
    seq, prev_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    row = chained(new, stream=SYSTEM_STREAM, seq=seq + 1, prev_hash=prev_hash, case_id=None)
    session.execute(insert(_events), row)
    moved = {"seq": row["seq"], "hash": row["hash"]}
    if head is None:
        session.execute(insert(AUDIT_HEADS).values(stream=SYSTEM_STREAM, **moved))
    else:
        session.execute(update(AUDIT_HEADS).where(AUDIT_HEADS.c.stream == SYSTEM_STREAM).values(**moved))


def hold_system_stream(session: Session | Connection) -> None:
    """Wait for the ``system`` stream's head and hold it until the transaction ends. Every change to the
    users appends to that stream, so holding it first serializes them: a check that reads the other users
    (is this the last administrator?) then sees whatever the change before it committed."""
    session.execute(select(AUDIT_HEADS.c.seq).where(AUDIT_HEADS.c.stream == SYSTEM_STREAM).with_for_update())


# ---------------------------------------------------------------------- verification


@dataclass(frozen=True)
class AuditProblem:
    """What is wrong, in which stream and event. A table's row that disagrees with the events also says
    which table, row and column, the value held and the value the events say."""

    stream: str
    seq: int | None
    problem: str
    table: str | None = None
    row: str | None = None
    column: str | None = None
    held: Any = None
    expected: Any = None

    def __str__(self) -> str:
        where = f"{self.stream} event {self.seq}" if self.seq is not None else self.stream
        return f"{where}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"stream": self.stream, "seq": self.seq, "problem": self.problem}
        if self.table is not None:
            found.update(table=self.table, row=self.row, column=self.column, held=self.held,
                         expected=self.expected)  # fmt: skip
        return found


def verify_stream(
    stream: str, rows: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str
) -> list[AuditProblem]:
    """Check one stream's events (in ``id`` order) against each other and against the stream's head."""
    problems: list[AuditProblem] = []
    expected_seq, expected_prev = 1, GENESIS
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            what = "missing before it (deleted?)" if seq > expected_seq else "out of order or inserted"
            problems.append(AuditProblem(stream, seq, f"expected event {expected_seq}: {what}"))
        if row["prev_hash"] != expected_prev:
            problems.append(AuditProblem(stream, seq, "does not follow the event before it"))
        if event_hash(row) != row["hash"]:
            problems.append(AuditProblem(stream, seq, "content does not match its hash (edited)"))
        expected_seq, expected_prev = seq + 1, row["hash"]
    if expected_seq - 1 != head_seq or expected_prev != head_hash:
        problems.append(
            AuditProblem(
                stream, None, f"the chain ends at event {expected_seq - 1} but {head_seq} were recorded"
            )
            if expected_seq - 1 != head_seq
            else AuditProblem(stream, None, "the last event is not the one recorded as the head (replaced)")
        )
    return problems


#: The system event that records a lawful disposal: the case's kept personal values are gone on purpose.
CASE_DISPOSED = "case_disposed"


def event_hashes(session: Session) -> list[tuple[str, int, str]]:
    """The stream, sequence number and hash of every event, in no order: a checkpoint's leaves."""
    query = select(_events.c.stream, _events.c.seq, _events.c.hash)
    return [(stream, seq, event_hash) for stream, seq, event_hash in session.execute(query)]


def verify(session: Session, reference: str | None = None) -> tuple[int, int, list[AuditProblem]]:
    """Verify every stream (or one case's) and the personal values its events hold by digest; return
    (streams checked, events checked, problems)."""
    heads: dict[str, tuple[int, str]] = {}
    case_query = select(_cases.c.reference, _cases.c.audit_seq, _cases.c.audit_head)
    if reference is not None:
        case_query = case_query.where(_cases.c.reference == reference)
    heads.update({ref: (seq, head) for ref, seq, head in session.execute(case_query)})
    if reference is None:
        heads.update(
            {
                h.stream: (h.seq, h.hash)
                for h in session.execute(select(*AUDIT_HEADS.c[("stream", "seq", "hash")]))
            }
        )
    # A database not yet upgraded to format 2 (a copy checked before its upgrade) has no format column.
    sealing = "format" in {c["name"] for c in inspect(session.connection()).get_columns("events")}
    columns = ("id", "hash", *(("format",) if sealing else ()), *HASHED_FIELDS)
    query = select(*(_events.c[name] for name in columns)).order_by(_events.c.id)
    if reference is not None:
        query = query.where(_events.c.stream == reference)
    by_stream: dict[str, list[Any]] = {}
    for row in session.execute(query).mappings():
        by_stream.setdefault(row["stream"], []).append(row)
    problems: list[AuditProblem] = []
    for stream in sorted(set(heads) | set(by_stream)):
        if stream not in heads:
            problems.append(AuditProblem(stream, None, "events for a stream that has no head (inserted)"))
            continue
        problems.extend(verify_stream(stream, by_stream.get(stream, []), *heads[stream]))
    if sealing:
        problems.extend(_verify_sealed(session, by_stream, one_stream=reference))
    return len(heads), sum(len(rows) for rows in by_stream.values()), problems


def disposed_cases(connection: Connection | Session) -> dict[int, str]:
    """The cases disposed of lawfully (by their tombstones on the system stream): id -> reference."""
    rows = connection.execute(
        select(_events.c.payload).where(_events.c.stream == SYSTEM_STREAM, _events.c.kind == CASE_DISPOSED)
    ).scalars()
    disposed = {}
    for text in rows:
        payload = json.loads(text)
        disposed[int(payload["case_id"])] = str(payload["reference"])
    return disposed


def _verify_sealed(
    session: Session, by_stream: Mapping[str, list[Any]], *, one_stream: str | None
) -> list[AuditProblem]:
    """Each digest a sealed event holds has its value kept (unless the case was disposed of), each kept
    value matches its digest, and no value is kept that no event holds."""
    held: dict[str, tuple[str, int]] = {}  # digest -> (stream, seq)
    case_streams: dict[int, str] = {}
    for stream, rows in by_stream.items():
        for row in rows:
            if row["format"] != SEALED_FORMAT or row["case_id"] is None:
                continue
            case_streams[row["case_id"]] = stream
            step = (stream, row["seq"])
            for sealed in digests_in(row["payload"]):
                held[sealed] = step
            if (in_reason := reason_digest(row["reason"])) is not None:
                held[in_reason] = step
    query = select(*PERSONAL_VALUES.c[("digest", "case_id", "salt", "value")])
    if one_stream is not None:
        query = query.where(PERSONAL_VALUES.c.case_id.in_(list(case_streams) or [-1]))
    kept = {row.digest: row for row in session.connection().execute(query)}
    disposed = set(disposed_cases(session).values())
    problems = []
    for digest, (stream, seq) in held.items():
        row = kept.get(digest)
        if row is None:
            if stream not in disposed:
                problems.append(AuditProblem(stream, seq, "a personal value it holds is missing (deleted?)"))
        elif digest_of(bytes.fromhex(row.salt), row.value) != digest:
            problems.append(AuditProblem(stream, seq, "a personal value it holds was edited"))
    for digest, row in kept.items():
        where = held.get(digest)
        if where is None:
            stream = case_streams.get(row.case_id, f"case {row.case_id}")
            problems.append(AuditProblem(stream, None, "a personal value is kept that no event holds"))
        elif case_streams.get(row.case_id) != where[0]:
            problems.append(
                AuditProblem(where[0], where[1], "a personal value it holds is filed under another case")
            )
    return problems


# ---------------------------------------------------------------------- format 2, for events written before it

FORMAT_UPGRADED = "event_format_upgraded"


def reseal_case_streams(connection: Connection, *, now: datetime) -> None:
    """Rewrite every case stream of format 1 events as format 2 (their personal values sealed and the
    stream rehashed), so that files opened before sealing can be disposed of too. Run once, by the
    migration that brought format 2 in, with the append-only guard lifted for it.

    A stream that does not verify as it stands is left as it was (rehashing it would launder the
    tampering) and named in the system event recording the upgrade, which also carries a digest of every
    previous head so that a copy of the old chain can still be matched to the new one.
    """
    cases = connection.execute(
        select(_cases.c.id, _cases.c.reference, _cases.c.audit_seq, _cases.c.audit_head).order_by(_cases.c.id)
    ).all()
    columns = ("id", "hash", "format", *HASHED_FIELDS)
    resealed, events, left, previous = 0, 0, [], []
    for case in cases:
        rows = [
            dict(row)
            for row in connection.execute(
                select(*(_events.c[name] for name in columns))
                .where(_events.c.stream == case.reference)
                .order_by(_events.c.seq)
            ).mappings()
        ]
        if not rows or any(row["format"] != 1 for row in rows):
            continue
        if verify_stream(case.reference, rows, case.audit_seq, case.audit_head):
            left.append(case.reference)
            continue
        previous.append([case.reference, case.audit_head])
        prev_hash = GENESIS
        for row in rows:
            sealed = seal(json.loads(row["payload"]), row["reason"], case_id=case.id, encode=canonical_json)
            row.update(
                reason=sealed.reason,
                payload=canonical_json(sealed.payload),
                format=SEALED_FORMAT,
                prev_hash=prev_hash,
            )
            row["hash"] = prev_hash = event_hash(row)
            connection.execute(
                update(_events)
                .where(_events.c.id == row["id"])
                .values({name: row[name] for name in ("reason", "payload", "format", "prev_hash", "hash")})
            )
            for value in sealed.values:
                connection.execute(insert(PERSONAL_VALUES).values(value))
            events += 1
        connection.execute(update(_cases).where(_cases.c.id == case.id).values(audit_head=prev_hash))
        resealed += 1
    if not resealed and not left:
        return
    append_to_system(
        connection,
        NewEvent(
            occurred_at=now,
            actor="dfg db upgrade",
            kind=FORMAT_UPGRADED,
            payload={
                "format": SEALED_FORMAT,
                "streams": resealed,
                "events": events,
                "previous_heads_sha256": hashlib.sha256(
                    canonical_json({"heads": previous}).encode()
                ).hexdigest(),
                "left_as_they_were": left,
            },
        ),
    )
