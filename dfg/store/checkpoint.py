"""Signed checkpoints of the audit trail: a Merkle tree over every event, written as a signed note that
the council's internal audit keeps outside the database, so that a *consistent* rewrite (an event edited
and its stream rehashed with the head moved, events deleted and the stream rehashed, a case deleted with
all its events) is caught even though every chain still verifies.

Pure: no SQL. The format follows C2SP's signed note and tlog-checkpoint, so tools that read those can
read a dfg checkpoint too.

**Leaves.** One leaf per event. Its data is the UTF-8 text ``<stream> LF <seq in decimal> LF <hash>``
(``<hash>`` the event's stored SHA-256 as 64 lowercase hex digits, which covers its content and the
event before it). The leaf hash is ``SHA-256(0x00 || data)`` and a node's ``SHA-256(0x01 || left ||
right)``: the tree hash of RFC 6962 / RFC 9162 section 2.1, an odd node carried up a level unchanged.

**Order.** Leaves are ordered by stream (by code point, never by a database's collation, which differs
between SQLite and PostgreSQL and between locales), then by ``seq``; not by ``id``. On PostgreSQL ids come
from a sequence taken before the transaction commits, so an event committed later can hold a lower id
than one already visible, and a tree cut at "every id up to N" would half-include it. A stream's events
up to its head are committed together with the head, so a stream read in one snapshot is always whole:
the checkpoint records each stream's size, read in one consistent snapshot (on PostgreSQL a REPEATABLE
READ read-only transaction; on SQLite a single read transaction), and verification cuts each stream at
that size. Events appended later, in any stream, lie beyond the cut and change nothing.

**The note.** Its text is, one item a line::

    dfg/<installation>          the origin: which database (see services.checkpoints)
    <tree size>                 how many events, in decimal
    <root>                      the tree hash over every leaf, base64
    taken <instant>             when, in UTC (ISO 8601, seconds)
    <stream> <size> <root>      one line per stream, in the leaves' order: its events and the tree
                                hash over its own leaves alone, base64, so a difference is pinned to
                                the stream it is in

then a blank line and the signature: ``— <key name> <base64(4-byte key id || 64-byte Ed25519
signature over the text)>``. The key id is the first four bytes of ``SHA-256(key name || 0x0A || 0x01
|| public key)``. Keys are written as signed notes' keys are: the public key (a *verifier key*)
``<name>+<key id hex>+<base64(0x01 || 32-byte public key)>``, and the private key
``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from dfg.errors import AuditFailure, InvalidInput

ED25519 = b"\x01"  # the signature type of signed notes
SIGNATURE_MARK = "\u2014 "  # an em dash and a space open each signature line
TAKEN = "taken "


# ---------------------------------------------------------------------- the tree


def leaf_hash(stream: str, seq: int, event_hash: str) -> bytes:
    """The leaf of one event."""
    return hashlib.sha256(b"\x00" + f"{stream}\n{seq}\n{event_hash}".encode()).digest()


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962's Merkle tree hash over leaf hashes (in order), level by level: pairs are hashed, and an
    odd one at the end is carried up as it is, which gives the same tree as splitting at the largest
    power of two below the count."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        upper = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            upper.append(level[-1])
        level = upper
    return level[0]


@dataclass(frozen=True)
class StreamSize:
    """A stream as a checkpoint records it: how many events it held, and the tree hash over them."""

    stream: str
    size: int
    root: bytes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    taken: datetime
    root: bytes
    streams: tuple[StreamSize, ...]

    @property
    def size(self) -> int:
        return sum(s.size for s in self.streams)

    def sizes(self) -> dict[str, int]:
        return {s.stream: s.size for s in self.streams}


def stream_leaves(events: Iterable[tuple[str, int, str]]) -> dict[str, list[bytes]]:
    """Each stream's leaves in ``seq`` order, from (stream, seq, hash) of its events in any order."""
    by_stream: dict[str, list[tuple[int, str]]] = {}
    for stream, seq, event_hash in events:
        by_stream.setdefault(stream, []).append((seq, event_hash))
    return {
        stream: [leaf_hash(stream, seq, h) for seq, h in sorted(rows)] for stream, rows in by_stream.items()
    }


def build(leaves: dict[str, list[bytes]], *, origin: str, taken: datetime) -> Checkpoint:
    """The checkpoint of these streams' leaves (as :func:`stream_leaves` gives them)."""
    names = sorted(leaves)  # by code point
    for name in names:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"a stream name cannot be written in a checkpoint: {name!r}")
    return Checkpoint(
        origin=origin,
        taken=taken.astimezone(UTC).replace(microsecond=0),
        root=tree_hash([leaf for name in names for leaf in leaves[name]]),
        streams=tuple(StreamSize(name, len(leaves[name]), tree_hash(leaves[name])) for name in names),
    )


# ---------------------------------------------------------------------- keys


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() or not c.isprintable() for c in name)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class VerifierKey:
    """A public key and its name, as a signature names it."""

    name: str
    public: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, _raw_public(self.public))

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + _raw_public(self.public)).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}\n"


@dataclass(frozen=True)
class SigningKey:
    """A private key and its name."""

    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        if not _valid_name(name):
            raise InvalidInput(f"{name!r} cannot name a key: use letters, digits and punctuation but '+'")
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.private.public_key())

    def text(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}\n"


def _key_parts(text: str, what: str) -> tuple[str, str, bytes]:
    """The name, key id (hex) and raw key of a key's text."""
    try:
        name, key_id, encoded = text.strip().split("+", 2)  # base64 has '+' in it too
        raw = base64.b64decode(encoded, validate=True)
        bytes.fromhex(key_id)
    except (ValueError, binascii.Error):
        raise InvalidInput(f"not {what}") from None
    if not _valid_name(name) or len(key_id) != 8 or len(raw) != 33 or raw[:1] != ED25519:
        raise InvalidInput(f"not {what}")
    return name, key_id.lower(), raw[1:]


def read_verifier_key(text: str) -> VerifierKey:
    """A public key from its text, refused if its id does not match it."""
    name, key_id, raw = _key_parts(text, "a public key (name+id+key, as 'dfg audit keygen' writes it)")
    key = VerifierKey(name, Ed25519PublicKey.from_public_bytes(raw))
    if key.key_id.hex() != key_id:
        raise InvalidInput(f"the public key {name} does not match its key id")
    return key


def read_signing_key(text: str) -> SigningKey:
    """A private key from its text, refused if its id does not match it."""
    what = "a private key (PRIVATE+KEY+name+id+key, as 'dfg audit keygen' writes it)"
    if not text.startswith("PRIVATE+KEY+"):
        raise InvalidInput(f"not {what}")
    name, key_id, raw = _key_parts(text.removeprefix("PRIVATE+KEY+"), what)
    key = SigningKey(name, Ed25519PrivateKey.from_private_bytes(raw))
    if key.verifier.key_id.hex() != key_id:
        raise InvalidInput(f"the private key {name} does not match its key id")
    return key


# ---------------------------------------------------------------------- the note


def note_text(checkpoint: Checkpoint) -> str:
    """The text a checkpoint's signature covers."""
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root).decode(),
        TAKEN + checkpoint.taken.strftime("%Y-%m-%dT%H:%M:%SZ"),
        *(f"{s.stream} {s.size} {base64.b64encode(s.root).decode()}" for s in checkpoint.streams),
    ]
    return "".join(line + "\n" for line in lines)


def sign(checkpoint: Checkpoint, key: SigningKey) -> str:
    """The signed note of a checkpoint."""
    text = note_text(checkpoint)
    signature = key.verifier.key_id + key.private.sign(text.encode())
    return f"{text}\n{SIGNATURE_MARK}{key.name} {base64.b64encode(signature).decode()}\n"


def _not_a_checkpoint(why: str) -> AuditFailure:
    return AuditFailure(f"the checkpoint cannot be read: {why}")


def open_note(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint in a signed note, if ``key`` signed it; :class:`AuditFailure` if it did not, or the
    note was altered after it was signed."""
    text, blank, signatures = note.rpartition("\n\n")
    if not blank or not signatures.endswith("\n"):
        raise _not_a_checkpoint("it is not a signed note (text, a blank line, signatures)")
    text += "\n"
    ours: list[bytes] = []
    for line in signatures.removesuffix("\n").split("\n"):
        name, _, encoded = line.removeprefix(SIGNATURE_MARK).partition(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            signature = b""
        if not line.startswith(SIGNATURE_MARK) or len(signature) < 5:
            raise _not_a_checkpoint(f"a signature line is malformed: {line[:60]!r}")
        if name == key.name:
            ours.append(signature)
    if not ours:
        raise AuditFailure(f"the checkpoint is not signed by the key {key.name}")
    for signature in ours:
        if signature[:4] != key.key_id:
            continue
        try:
            key.public.verify(signature[4:], text.encode())
        except InvalidSignature:
            raise AuditFailure(
                f"the checkpoint's signature by {key.name} does not verify: the note was altered after it was signed"
            ) from None
        return parse(text)
    raise AuditFailure(f"the checkpoint was signed by another key named {key.name}, not this one")


def parse(text: str) -> Checkpoint:
    """A checkpoint from the text of its note (already verified)."""
    lines = text.removesuffix("\n").split("\n")
    if len(lines) < 4 or not lines[3].startswith(TAKEN):
        raise _not_a_checkpoint("it is not a dfg checkpoint (origin, size, root, taken, streams)")
    try:
        size, root = int(lines[1]), base64.b64decode(lines[2], validate=True)
        taken = datetime.strptime(lines[3].removeprefix(TAKEN), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        streams = []
        for line in lines[4:]:
            name, count, stream_root = line.split(" ")
            streams.append(StreamSize(name, int(count), base64.b64decode(stream_root, validate=True)))
    except (ValueError, binascii.Error):
        raise _not_a_checkpoint("a line of it is malformed") from None
    names = [s.stream for s in streams]
    if names != sorted(set(names)) or sum(s.size for s in streams) != size or len(root) != 32:
        raise _not_a_checkpoint("its streams do not add up to its size")
    return Checkpoint(origin=lines[0], taken=taken, root=root, streams=tuple(streams))


# ---------------------------------------------------------------------- verification


def compare(checkpoint: Checkpoint, events: Iterable[tuple[str, int, str]]) -> list[tuple[str, str]]:
    """What differs between a checkpoint and today's events (stream, seq, hash), each stream cut at the
    size the checkpoint recorded: (stream, what) for each stream that is missing, shorter or rewritten.
    Streams the checkpoint does not know, and events beyond the cut, were added since: nothing to say."""
    sizes = checkpoint.sizes()
    leaves = stream_leaves((s, seq, h) for s, seq, h in events if s in sizes and seq <= sizes[s])
    found: list[tuple[str, str]] = []
    for recorded in checkpoint.streams:
        today = leaves.get(recorded.stream, [])
        if not today:
            found.append(
                (recorded.stream, f"missing: the checkpoint holds {recorded.size} event(s) of it (deleted?)")
            )
        elif len(today) < recorded.size:
            found.append(
                (
                    recorded.stream,
                    f"{len(today)} event(s) where the checkpoint holds {recorded.size} (deleted?)",
                )
            )
        elif tree_hash(today) != recorded.root:
            found.append(
                (
                    recorded.stream,
                    f"events 1 to {recorded.size} differ from the checkpoint (history rewritten)",
                )
            )
    whole = [leaf for name in sorted(leaves) for leaf in leaves[name]]
    if not found and tree_hash(whole) != checkpoint.root:  # cannot happen if its streams agree, unless forged
        found.append(("checkpoint", "its tree root does not match its streams' events"))
    return found
