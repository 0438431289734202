"""Signed checkpoints: the tree hash is RFC 6962's, a checkpoint catches the rewrites a chain cannot (an
event edited and its stream rehashed, events deleted and the stream rehashed, a case deleted with all its
events), later events are no alarm, and a note not signed by the key is refused."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, delete, insert, select, text, update

from cli import main
from dfg.errors import AuditFailure, InvalidInput, PermissionDenied
from dfg.rules.clock import utcnow
from dfg.services.audit import verify_audit
from dfg.services.cases import advance
from dfg.services.checkpoints import (
    make_audit_keys,
    take_checkpoint,
    verify_against_checkpoint,
    write_checkpoint,
)
from dfg.store.audit import GENESIS, SYSTEM_STREAM, NewEvent, append_to_system, event_hash
from dfg.store.checkpoint import leaf_hash, tree_hash
from dfg.store.database import Database
from dfg.store.tables import CASES, EVENTS, METADATA, PROPERTIES
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step

# ---------------------------------------------------------------------- the tree hash


def _reference_tree_hash(data: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 as written: split at the largest power of two below the count."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + _reference_tree_hash(data[:k]) + _reference_tree_hash(data[k:])).digest()


# The inputs and roots of the RFC 6962 test vectors used by Certificate Transparency's implementations.
RFC6962_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_tree_hash_is_rfc6962s() -> None:
    data = [bytes.fromhex(value) for value in RFC6962_INPUTS]
    leaves = [hashlib.sha256(b"\x00" + d).digest() for d in data]
    assert tree_hash([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert [tree_hash(leaves[:n]).hex() for n in range(1, 9)] == RFC6962_ROOTS
    many = [os.urandom(n % 7) for n in range(70)]
    for n in range(len(many)):
        assert tree_hash([hashlib.sha256(b"\x00" + d).digest() for d in many[:n]]) == _reference_tree_hash(
            many[:n]
        )


def test_a_leaf_is_the_stream_the_seq_and_the_events_hash() -> None:
    digest = "ab" * 32
    assert (
        leaf_hash("CAN-2026-0001", 12, digest)
        == hashlib.sha256(b"\x00CAN-2026-0001\n12\n" + digest.encode()).digest()
    )


# ---------------------------------------------------------------------- on a database


class Keys(NamedTuple):
    private: Path
    public: Path


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    pair = Keys(tmp_path / "audit.key", tmp_path / "audit.pub")
    make_audit_keys(pair.private, pair.public, "staffs-audit")
    return pair


@pytest.fixture
def walked(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    take_step(db, cast, reference, "record_assessment", "ot", TriggerInput())
    return reference  # 3 events: opened, accepted, assessed


def _checkpoint(db: Database, cast: dict[str, Actor], keys: Keys, tmp_path: Path, name: str = "cp") -> Path:
    path = tmp_path / f"{name}.note"
    write_checkpoint(path, take_checkpoint(db, cast["manager"], keys.private).note)
    return path


def _against(db: Database, cast: dict[str, Actor], note: Path, public: Path) -> list[str]:
    return [str(p) for p in verify_against_checkpoint(db, cast["manager"], note, public).problems]


def _chains(db: Database, cast: dict[str, Actor]) -> list[str]:
    return [str(p) for p in verify_audit(db, cast["manager"]).problems]


@contextmanager
def _as_the_database_administrator(db: Database) -> Iterator[Connection]:
    """A transaction with every append-only guard (and, on PostgreSQL, every foreign key) switched off."""
    with db.write_engine.begin() as connection:
        if db.is_sqlite:
            names = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            for name in list(names):
                connection.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        yield connection


def _rewrite(db: Database, stream: str, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """A consistent rewrite: edit a case's events, chain and hash them all again, and move its head."""
    with _as_the_database_administrator(db) as connection:
        query = select(EVENTS).where(EVENTS.c.stream == stream).order_by(EVENTS.c.seq)
        # new ids, as a forger's inserts would get
        rows = edit(
            [{k: v for k, v in row.items() if k != "id"} for row in connection.execute(query).mappings()]
        )
        prev = GENESIS
        for seq, row in enumerate(rows, start=1):
            row.update(seq=seq, prev_hash=prev)
            row["hash"] = prev = event_hash(row)
        connection.execute(delete(EVENTS).where(EVENTS.c.stream == stream))
        connection.execute(insert(EVENTS), rows)
        connection.execute(
            update(CASES).where(CASES.c.reference == stream).values(audit_seq=len(rows), audit_head=prev)
        )


def test_a_checkpoint_verifies_and_says_what_it_covers(
    db: Database, cast: dict[str, Actor], walked: str, keys: Keys, tmp_path: Path
) -> None:
    note = _checkpoint(db, cast, keys, tmp_path)
    lines = note.read_text().splitlines()
    assert lines[0].startswith("dfg/") and len(lines[0]) == 4 + 16
    assert int(lines[1]) == 3 + 2 + len(cast)  # the case; the system stream: 2 districts and the users
    assert lines[3].startswith("taken ")
    assert [line.split(" ")[:2] for line in lines[4:6]] == [
        [walked, "3"],
        [SYSTEM_STREAM, str(2 + len(cast))],
    ]
    assert lines[6] == "" and lines[7].startswith("\u2014 staffs-audit ")
    report = verify_against_checkpoint(db, cast["manager"], note, keys.public)
    assert report.problems == ()
    assert "against the checkpoint of" in report.summary and report.summary.endswith(": intact")


def test_an_edited_event_with_its_stream_rehashed_is_caught(
    db: Database, cast: dict[str, Actor], walked: str, keys: Keys, tmp_path: Path
) -> None:
    note = _checkpoint(db, cast, keys, tmp_path)

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[1]["actor"] = "someone"
        return rows

    _rewrite(db, walked, edit)
    assert _chains(db, cast) == []  # every chain still verifies
    assert _against(db, cast, note, keys.public) == [
        f"{walked}: events 1 to 3 differ from the checkpoint (history rewritten)"
    ]
    with pytest.raises(AuditFailure, match="history rewritten"):
        verify_against_checkpoint(db, cast["manager"], note, keys.public).raise_if_broken()


def test_a_deleted_event_with_its_stream_rehashed_is_caught(
    db: Database, cast: dict[str, Actor], walked: str, keys: Keys, tmp_path: Path
) -> None:
    note = _checkpoint(db, cast, keys, tmp_path)
    _rewrite(db, walked, lambda rows: rows[:1] + rows[2:])
    assert _chains(db, cast) == []
    assert _against(db, cast, note, keys.public) == [
        f"{walked}: 2 event(s) where the checkpoint holds 3 (deleted?)"
    ]
    # and one forged in its place to make the count up: rewritten
    _rewrite(db, walked, lambda rows: [*rows, {**rows[-1], "reason": "made up"}])
    assert _chains(db, cast) == []
    assert _against(db, cast, note, keys.public) == [
        f"{walked}: events 1 to 3 differ from the checkpoint (history rewritten)"
    ]


def test_a_case_deleted_with_all_its_events_is_caught(
    db: Database,
    cast: dict[str, Actor],
    walked: str,
    keys: Keys,
    tmp_path: Path,
    open_sample: Callable[..., str],
) -> None:
    doomed = open_sample()
    advance(db, cast["officer"], doomed, "accept_referral")
    note = _checkpoint(db, cast, keys, tmp_path)
    with _as_the_database_administrator(db) as connection:
        case_id, property_id = connection.execute(
            select(CASES.c.id, CASES.c.property_id).where(CASES.c.reference == doomed)
        ).one()
        for table in reversed(METADATA.sorted_tables):  # what refers to the case first
            if "case_id" in table.c:
                connection.execute(delete(table).where(table.c.case_id == case_id))
        connection.execute(delete(CASES).where(CASES.c.id == case_id))
        connection.execute(delete(PROPERTIES).where(PROPERTIES.c.id == property_id))
    assert _chains(db, cast) == []
    assert _against(db, cast, note, keys.public) == [
        f"{doomed}: missing: the checkpoint holds 2 event(s) of it (deleted?)"
    ]


def test_events_added_since_are_no_alarm(
    db: Database,
    cast: dict[str, Actor],
    walked: str,
    keys: Keys,
    tmp_path: Path,
    open_sample: Callable[..., str],
) -> None:
    note = _checkpoint(db, cast, keys, tmp_path)
    take_step(db, cast, walked, "complete_test_of_resources", "officer", TriggerInput())
    advance(db, cast["officer"], open_sample(), "accept_referral")
    assert _against(db, cast, note, keys.public) == []


def test_a_checkpoint_of_another_database_says_so(
    db: Database, cast: dict[str, Actor], walked: str, keys: Keys, tmp_path: Path
) -> None:
    note = _checkpoint(db, cast, keys, tmp_path)
    with _as_the_database_administrator(db) as connection:
        connection.execute(
            update(EVENTS).where(EVENTS.c.stream == SYSTEM_STREAM, EVENTS.c.seq == 1).values(hash="0" * 64)
        )
    problems = _against(db, cast, note, keys.public)
    assert (
        f"{SYSTEM_STREAM}: the checkpoint is of {note.read_text().split()[0]} but this database is dfg/0000000000000000: "
        "another database, or its first event was rewritten"
    ) in problems
    assert (
        problems[-1]
        == f"{SYSTEM_STREAM}: events 1 to {2 + len(cast)} differ from the checkpoint (history rewritten)"
    )


def _forged(note: Path, old: str, new: str) -> Path:
    forged = note.with_name("forged.note")
    forged.write_text(note.read_text().replace(old, new, 1))
    return forged


def test_a_note_not_signed_by_the_key_is_refused(
    db: Database, cast: dict[str, Actor], walked: str, keys: Keys, tmp_path: Path
) -> None:
    note = _checkpoint(db, cast, keys, tmp_path)
    # the text altered after signing: a stream made shorter so a deletion would pass
    altered = _forged(note, f"{walked} 3 ", f"{walked} 2 ")
    with pytest.raises(AuditFailure, match="does not verify: the note was altered after it was signed"):
        verify_against_checkpoint(db, cast["manager"], altered, keys.public)
    # another key of the same name (a forger signing his own note), and a key of another name
    other = Keys(tmp_path / "other.key", tmp_path / "other.pub")
    make_audit_keys(other.private, other.public, "staffs-audit")
    with pytest.raises(AuditFailure, match="signed by another key named staffs-audit, not this one"):
        verify_against_checkpoint(db, cast["manager"], note, other.public)
    forged = _checkpoint(db, cast, other, tmp_path, "forged-by-other")
    with pytest.raises(AuditFailure, match="signed by another key"):
        verify_against_checkpoint(db, cast["manager"], forged, keys.public)
    stranger = Keys(tmp_path / "stranger.key", tmp_path / "stranger.pub")
    make_audit_keys(stranger.private, stranger.public, "stranger")
    with pytest.raises(AuditFailure, match="not signed by the key stranger"):
        verify_against_checkpoint(db, cast["manager"], note, stranger.public)
    # not a note at all, and a malformed signature line
    for text_of_it in ("hello\n", note.read_text().replace("\u2014 ", "- ")):
        (tmp_path / "junk.note").write_text(text_of_it)
        with pytest.raises(AuditFailure, match="the checkpoint cannot be read"):
            verify_against_checkpoint(db, cast["manager"], tmp_path / "junk.note", keys.public)
    with pytest.raises(InvalidInput, match="not a public key"):
        verify_against_checkpoint(db, cast["manager"], note, keys.private)


def test_a_broken_trail_is_not_checkpointed_and_only_managers_may(
    db: Database, cast: dict[str, Actor], walked: str, keys: Keys
) -> None:
    with pytest.raises(PermissionDenied):
        take_checkpoint(db, cast["officer"], keys.private)
    with _as_the_database_administrator(db) as connection:
        connection.execute(
            update(EVENTS).where(EVENTS.c.stream == walked, EVENTS.c.seq == 2).values(actor="x")
        )
    with pytest.raises(AuditFailure, match="edited"):
        take_checkpoint(db, cast["admin"], keys.private)


def test_keys_are_made_for_their_owner_and_never_overwritten(tmp_path: Path, keys: Keys) -> None:
    assert stat.S_IMODE(keys.private.stat().st_mode) == 0o600
    assert keys.private.read_text().startswith("PRIVATE+KEY+staffs-audit+")
    assert keys.public.read_text().startswith("staffs-audit+")
    with pytest.raises(InvalidInput, match="already exists"):
        make_audit_keys(keys.private, tmp_path / "new.pub", "staffs-audit")
    assert not (tmp_path / "new.pub").exists()
    with pytest.raises(InvalidInput, match="cannot name a key"):
        make_audit_keys(tmp_path / "a", tmp_path / "b", "two words")


def test_a_concurrent_uncommitted_append_is_no_false_alarm(
    db: Database,
    cast: dict[str, Actor],
    walked: str,
    keys: Keys,
    tmp_path: Path,
    open_sample: Callable[..., str],
) -> None:
    """On PostgreSQL an event can take a lower id than one committed before it: the checkpoint, cut by
    stream and seq in one snapshot, neither half-includes it nor calls it missing later."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no append can be uncommitted while another commits")
    with db.writing() as session:
        append_to_system(session, NewEvent(occurred_at=utcnow(), actor="admin", kind="user_changed"))
        session.flush()
        later = open_sample()  # another stream's event: a higher id, committed first
        note = _checkpoint(db, cast, keys, tmp_path)
    with db.reading() as session:
        ids = dict(
            session.execute(
                select(EVENTS.c.stream, EVENTS.c.id).where(
                    ((EVENTS.c.stream == SYSTEM_STREAM) & (EVENTS.c.seq == 3 + len(cast)))
                    | ((EVENTS.c.stream == later) & (EVENTS.c.seq == 1))
                )
            ).all()
        )
    assert ids[SYSTEM_STREAM] < ids[later]
    assert f"\n{SYSTEM_STREAM} {2 + len(cast)} " in note.read_text()  # the uncommitted one is not in it
    assert f"\n{later} 1 " in note.read_text()
    assert _against(db, cast, note, keys.public) == []


# ---------------------------------------------------------------------- the command line


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str = "manager") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args], catch_exceptions=False)

    return invoke


def test_the_command_line_round_trip(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], walked: str, tmp_path: Path
) -> None:
    private, public, note = tmp_path / "k", tmp_path / "k.pub", tmp_path / "today.note"
    made = run("audit", "keygen", "--private", str(private), "--public", str(public), "--name", "staffs")
    assert made.exit_code == 0 and made.stdout == public.read_text()
    again = run("audit", "keygen", "--private", str(private), "--public", str(tmp_path / "x"))
    assert (again.exit_code, again.stderr) == (
        8,
        f"dfg: {private} already exists: a key is never written over another\n",
    )
    taken = run("audit", "checkpoint", "--key", str(private), "--output", str(note))
    assert (taken.exit_code, taken.stdout) == (0, "")
    assert taken.stderr == f"checkpoint of {3 + 2 + len(cast)} event(s) in 2 stream(s) written to {note}\n"
    to_stdout = run("audit", "checkpoint", "--key", str(private))
    assert to_stdout.stdout.splitlines()[1:3] == note.read_text().splitlines()[1:3]
    denied = run("audit", "checkpoint", "--key", str(private), user="officer")
    assert denied.exit_code == 6
    over = run("audit", "checkpoint", "--key", str(private), "--output", str(note))
    assert (over.exit_code, over.stderr) == (
        8,
        f"dfg: {note} already exists: a checkpoint is never written over another\n",
    )
    nowhere = run("audit", "checkpoint", "--key", str(private), "--output", str(tmp_path / "no" / "cp.note"))
    assert (nowhere.exit_code, nowhere.stderr.count("\n")) == (8, 1)
    as_json = json.loads(
        run("audit", "verify", "--checkpoint", str(note), "--key", str(public), "--json").stdout
    )
    assert as_json["intact"] and as_json["checkpoint"].endswith(f"({3 + 2 + len(cast)} events)")
    verified = run("audit", "verify", "--checkpoint", str(note), "--key", str(public))
    assert (verified.exit_code, verified.stdout) == (0, "")
    assert verified.stderr.endswith(f"({3 + 2 + len(cast)} events): intact\n")
    _rewrite(db, walked, lambda rows: rows[:-1])
    plain = run("audit", "verify")  # the chains pass; the case row still holds what the deleted step wrote
    assert plain.exit_code == 10 and "cases" in plain.stdout and "(deleted?)" not in plain.stdout
    broken = run("audit", "verify", "--checkpoint", str(note), "--key", str(public))
    assert broken.exit_code == 10
    assert broken.stdout.endswith(f"{walked}: 2 event(s) where the checkpoint holds 3 (deleted?)\n")
    assert broken.stderr.splitlines()[-1].startswith("dfg: the audit trail is broken: ")
    half = run("audit", "verify", "--checkpoint", str(note))
    assert (half.exit_code, half.stderr.count("\n")) == (2, 1)
    forged = tmp_path / "forged.note"
    forged.write_text(note.read_text().replace(f"{walked} 3 ", f"{walked} 2 "))
    refused = run("audit", "verify", "--checkpoint", str(forged), "--key", str(public))
    assert refused.exit_code == 10
    assert refused.stderr == (
        "dfg: the checkpoint's signature by staffs does not verify: the note was altered after it was signed\n"
    )


def test_the_snapshot_is_repeatable_and_read_only(db: Database) -> None:
    with db.snapshot() as session:
        if db.is_sqlite:
            assert session.execute(text("SELECT count(*) FROM events")).scalar() == 0
        else:
            assert session.execute(text("SHOW transaction_isolation")).scalar() == "repeatable read"
            assert session.execute(text("SHOW transaction_read_only")).scalar() == "on"
