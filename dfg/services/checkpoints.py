"""Signed checkpoints of the audit trail (the tree and the note are in :mod:`dfg.store.checkpoint`): make a
key pair, take a checkpoint for internal audit to keep, and verify the trail against one.

A checkpoint names its database by its *origin*, ``dfg/`` and the first 16 hex digits of the hash of the
``system`` stream's first event. That event is written when the installation is set up (its first user),
so the name stays the same for as long as the database lives, whatever its file or server is called and
in its backups and restores, and no two installations share it. A checkpoint of another database is
told apart from a rewritten trail by it (a rewritten first event changes it too, and says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dfg.errors import AuditFailure, InvalidInput
from dfg.rules.clock import utcnow
from dfg.services.audit import AuditReport
from dfg.services.audit_tables import table_problems
from dfg.store.audit import SYSTEM_STREAM, AuditProblem, event_hashes, verify
from dfg.store.backup import new_file
from dfg.store.checkpoint import (
    SigningKey,
    build,
    compare,
    open_note,
    read_signing_key,
    read_verifier_key,
    sign,
    stream_leaves,
)
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

ORIGIN_PREFIX = "dfg/"


def make_audit_keys(private: Path, public: Path, name: str) -> str:
    """Write a new key pair: the private key readable by its owner only, the public one by anyone.
    Neither file may exist already (a key is never written over another). Returns the public key."""
    key = SigningKey.generate(name)
    try:  # a name too long for the file system fails here already
        if private.resolve() == public.resolve():
            raise InvalidInput("--private and --public must be two different files")
        for path in (private, public):
            if path.exists():
                raise InvalidInput(f"{path} already exists: a key is never written over another")
    except OSError as error:
        raise InvalidInput(f"cannot write {error.filename}: {error.strerror}") from None
    written: list[Path] = []
    try:
        for path, text, mode in ((private, key.text(), 0o600), (public, key.verifier.text(), 0o644)):
            with new_file(path, mode) as file:
                written.append(path)
                file.write(text.encode())
    except OSError as error:
        for path in written:
            path.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {error.filename}: {error.strerror}") from None
    return key.verifier.text().strip()


def _origin(events: list[tuple[str, int, str]]) -> str | None:
    first = next((h for stream, seq, h in events if stream == SYSTEM_STREAM and seq == 1), None)
    return None if first is None else ORIGIN_PREFIX + first[:16]


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"{what} {path} cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {path} is not UTF-8 text") from None


@dataclass(frozen=True)
class SignedCheckpoint:
    note: str  # the signed note, as it is written
    events: int
    streams: int


def take_checkpoint(db: Database, actor: Actor, key_file: Path) -> SignedCheckpoint:
    """A signed checkpoint of every event with the private key in ``key_file`` (see :func:`sign_checkpoint`)."""
    require_role(actor, "manager", "admin")
    return sign_checkpoint(db, actor, _read(key_file, "the private key"))


def sign_checkpoint(db: Database, actor: Actor, private_key: str) -> SignedCheckpoint:
    """A signed checkpoint of every event, read in one snapshot, after checking every chain in that same
    snapshot: a checkpoint over a broken trail would vouch for the tampering. ``private_key`` is the key
    file's text (a page's upload is used and forgotten, never kept). Managers and admins."""
    require_role(actor, "manager", "admin")
    key = read_signing_key(private_key)
    with db.snapshot() as session:
        streams, events, problems = verify(session)
        problems.extend(table_problems(session))
        events_now = event_hashes(session)
    AuditReport(streams, events, tuple(problems)).raise_if_broken()
    origin = _origin(events_now)
    if origin is None:
        raise InvalidInput("the audit trail has no events yet: there is nothing to checkpoint")
    checkpoint = build(stream_leaves(events_now), origin=origin, taken=utcnow())
    return SignedCheckpoint(sign(checkpoint, key), checkpoint.size, len(checkpoint.streams))


def write_checkpoint(path: Path, note: str) -> None:
    """Write a checkpoint to a new file: one kept checkpoint is never written over by another."""
    try:
        with new_file(path, 0o644) as file:
            file.write(note.encode())
    except FileExistsError:
        raise InvalidInput(f"{path} already exists: a checkpoint is never written over another") from None
    except OSError as error:
        raise InvalidInput(f"cannot write {path}: {error.strerror}") from None


def verify_against_checkpoint(db: Database, actor: Actor, note_file: Path, key_file: Path) -> AuditReport:
    """Every chain, and today's events against the checkpoint in ``note_file`` signed by the key in
    ``key_file`` (see :func:`verify_against_note`). Managers and admins."""
    require_role(actor, "manager", "admin")
    key = _read(key_file, "the public key")
    try:
        note = note_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AuditFailure(
            f"the checkpoint {note_file} is not a signed note (it is not UTF-8 text)"
        ) from None
    except OSError as error:
        raise InvalidInput(f"the checkpoint {note_file} cannot be read: {error.strerror}") from None
    return verify_against_note(db, actor, note, key)


def verify_against_note(db: Database, actor: Actor, note: str, public_key: str) -> AuditReport:
    """Every chain, and today's events against a checkpoint (the signed note's text) signed by
    ``public_key`` (the key file's text): a stream the checkpoint holds that is missing, shorter, or whose
    events differ. An altered note, or one signed by another key, is refused (AuditFailure) before
    anything else is checked. Managers and admins."""
    require_role(actor, "manager", "admin")
    checkpoint = open_note(note, read_verifier_key(public_key))
    with db.snapshot() as session:
        streams, events, problems = verify(session)
        problems.extend(table_problems(session))
        events_now = event_hashes(session)
    origin = _origin(events_now)
    if origin != checkpoint.origin:
        problems.append(
            AuditProblem(
                SYSTEM_STREAM,
                None,
                f"the checkpoint is of {checkpoint.origin} but this database is {origin}: "
                "another database, or its first event was rewritten",
            )
        )
    problems.extend(AuditProblem(stream, None, what) for stream, what in compare(checkpoint, events_now))
    taken = checkpoint.taken.strftime("%Y-%m-%d %H:%M:%S UTC")
    return AuditReport(
        streams, events, tuple(problems), checkpoint=f"the checkpoint of {taken} ({checkpoint.size} events)"
    )
