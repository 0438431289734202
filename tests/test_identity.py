"""Proven identity: the command line acts as a user only when the account (SQLite) or login (PostgreSQL)
running it is mapped to that user; the PostgreSQL roles the engine runs as; the access record."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from cli import main
from dfg.errors import PermissionDenied
from dfg.rules.clock import utcnow
from dfg.services.access import access_record
from dfg.services.audit import verify_audit
from dfg.services.case_reading import show_case, view_case
from dfg.services.identity import (
    map_identity,
    mark_demo,
    principal_for,
    resolve_actor,
    running_principal,
    unmap_identity,
)
from dfg.services.letter_batch import render_pending
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.store.tables import EVENTS, IDENTITY_MAPPINGS
from dfg.workflow.actor import Actor
from tests.conftest import CAST, walk_to


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str | None = None, url: str | None = None) -> Result:
        prefix = ["--db", url or db_url] + (["--as", user] if user else [])
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return invoke


def _unmap_all_but(db: Database, cast: dict[str, Actor], *keep: str) -> None:
    principal = running_principal(db)
    for name in [*CAST, "admin"]:
        if name not in keep:
            unmap_identity(db, cast["admin"], name, principal)


def _one_line(result: Result, code: int, line: str) -> None:
    assert (result.exit_code, result.stdout) == (code, ""), result.stderr
    assert result.stderr == f"dfg: {line}\n"


def test_an_unmapped_principal_is_refused_in_one_line(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    principal = running_principal(db)
    _unmap_all_but(db, cast)
    option = "--os-account" if db.is_sqlite else "--db-login"
    result = run("case", "list", user="officer")
    _one_line(result, PermissionDenied.exit_code, f"{principal} is not mapped to any dfg user: an administrator "
              f"maps it with 'dfg user map USER {option} {principal.name}'")  # fmt: skip
    assert run("case", "list").exit_code == PermissionDenied.exit_code  # nor without --as


def test_as_chooses_only_among_the_mapped_users(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    _unmap_all_but(db, cast, "officer", "approver")
    principal = running_principal(db)
    _one_line(
        run("case", "list", user="manager"),
        6,
        f"{principal} may act only as approver, officer, not as 'manager'",
    )
    _one_line(
        run("case", "list", user="nobody"),
        6,
        f"{principal} may act only as approver, officer, not as 'nobody'",
    )
    _one_line(run("case", "list"), 6, "say who you are: --as USER or the DFG_USER environment variable "
              "(you may act as approver, officer)")  # fmt: skip
    assert run("case", "list", user="approver").exit_code == 0


def test_a_principal_mapped_once_needs_no_as(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    _unmap_all_but(db, cast, "officer")
    opened = run("case", "new", "--district", "CAN", "--applicant", "Margaret Holt", "--address", "12 Mill Lane",
                 "--town", "Cannock", "--postcode", "WS11 1AA", "--tenure", "owner")  # fmt: skip
    assert (opened.exit_code, opened.stderr) == (0, "")
    with db.read_connection() as connection:
        actor = connection.scalar(select(EVENTS.c.actor).where(EVENTS.c.stream == opened.stdout.strip()))
    assert actor == "officer"


def test_a_demo_database_lets_as_choose_freely_and_says_so(run: Callable[..., Result], db: Database) -> None:
    mark_demo(db)
    add_user(db, None, username="admin", full_name="Ada Admin", roles=["admin"])
    add_user(db, "admin", username="manager", full_name="Helen Clarke", roles=["manager"])
    listed = run("case", "list", user="manager")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stderr.splitlines()[0] == "dfg: demo database: acting as manager without proof"
    _one_line(run("case", "list", user="ghost"), 3,
              "no user 'ghost' (an administrator adds users with 'dfg user add')")  # fmt: skip


def test_the_first_user_is_mapped_to_the_account_that_adds_them(
    run: Callable[..., Result], db: Database
) -> None:
    added = run("user", "add", "admin", "--name", "Ada Admin", "--role", "admin")
    assert added.exit_code == 0, added.stderr
    principal = running_principal(db)
    listed = json.loads(run("user", "list", "--json").stdout)  # the one mapping: no --as needed
    assert listed[0]["identities"] == [f"{principal.kind}:{principal.name}"]
    second = run("user", "add", "jsmith", "--name", "Jo Smith", "--role", "grant_officer")
    assert second.exit_code == 0, second.stderr
    assert run("case", "list", user="jsmith").exit_code == 6  # added, but not mapped


def test_mapping_and_unmapping_are_events_on_the_system_stream(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    mapped = run("user", "map", "officer", "--os-account", "jsmith", user="admin")
    assert (mapped.exit_code, mapped.stderr) == (
        0,
        "operating-system account 'jsmith' may act as officer\n",
    )
    _one_line(run("user", "map", "officer", "--os-account", "jsmith", user="admin"), 8,
              "operating-system account 'jsmith' is already mapped to 'officer'")  # fmt: skip
    _one_line(run("user", "map", "officer", "--db-login", "jsmith", user="officer"), 6,
              "officer needs the role admin to do this")  # fmt: skip
    _one_line(run("user", "map", "officer", user="admin"), 8,
              "give one of --os-account NAME (a SQLite file), --db-login NAME (PostgreSQL) "
              "or --oidc 'ISSUER|SUBJECT' (single sign-on)")  # fmt: skip
    users = {u["username"]: u for u in json.loads(run("user", "list", "--json").stdout)}
    assert "os:jsmith" in users["officer"]["identities"]
    assert run("user", "unmap", "officer", "--os-account", "jsmith", user="admin").exit_code == 0
    _one_line(run("user", "unmap", "officer", "--os-account", "jsmith", user="admin"), 3,
              "operating-system account 'jsmith' is not mapped to 'officer'")  # fmt: skip
    with db.read_connection() as connection:
        events = connection.execute(
            select(EVENTS.c.actor, EVENTS.c.kind, EVENTS.c.payload)
            .where(EVENTS.c.stream == "system", EVENTS.c.kind.like("identity_%"))
            .order_by(EVENTS.c.seq)
        ).all()
    bootstrap, *_, made, unmade = events
    assert bootstrap.actor == "bootstrap"  # the first administrator, mapped as they were added
    assert (made.actor, made.kind, json.loads(made.payload)) == (
        "admin", "identity_mapped", {"kind": "os", "principal": "jsmith", "username": "officer"})  # fmt: skip
    assert (unmade.kind, json.loads(unmade.payload)["principal"]) == ("identity_unmapped", "jsmith")
    assert verify_audit(db, cast["manager"]).problems == ()


def test_the_owner_makes_the_first_mapping_of_a_database_with_none(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    with db.write_connection() as connection:  # as a database upgraded from before mappings existed
        connection.execute(IDENTITY_MAPPINGS.delete())
    principal = running_principal(db)
    option = "--os-account" if db.is_sqlite else "--db-login"
    first = run("user", "map", "admin", option, principal.name)
    assert first.exit_code == 0, first.stderr
    assert resolve_actor(db, None).username == "admin"
    with db.read_connection() as connection:
        actor = connection.scalar(select(EVENTS.c.actor).order_by(EVENTS.c.id.desc()).limit(1))
    assert actor == f"owner:{principal.name}"
    then = run("user", "map", "officer", option, "jsmith")  # now proven: the one mapping, admin
    assert then.exit_code == 0, then.stderr
    with db.read_connection() as connection:
        assert connection.scalar(select(EVENTS.c.actor).order_by(EVENTS.c.id.desc()).limit(1)) == "admin"


def test_a_single_sign_on_subject_is_mapped_to_one_user(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    subject = "https://login.microsoftonline.com/tenant/v2.0|AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
    mapped = run("user", "map", "officer", "--oidc", subject, user="admin")
    assert (mapped.exit_code, mapped.stderr) == (
        0,
        f"single sign-on subject '{subject}' may act as officer\n",
    )
    _one_line(run("user", "map", "approver", "--oidc", subject, user="admin"), 8,
              f"single sign-on subject '{subject}' is already mapped to 'officer': unmap it there first")  # fmt: skip
    _one_line(run("user", "map", "officer", "--oidc", "jsmith@council.example", user="admin"), 8,
              "'jsmith@council.example' is not a single sign-on subject: give the issuer and subject as "
              "ISSUER|SUBJECT, as the refusal page showed them")  # fmt: skip
    _one_line(run("user", "map", "officer", "--oidc", subject, "--os-account", "jsmith", user="admin"), 8,
              "give one of --os-account NAME (a SQLite file), --db-login NAME (PostgreSQL) "
              "or --oidc 'ISSUER|SUBJECT' (single sign-on)")  # fmt: skip
    users = {u["username"]: u for u in json.loads(run("user", "list", "--json").stdout)}
    assert f"oidc:{subject}" in users["officer"]["identities"]
    assert run("user", "unmap", "officer", "--oidc", subject, user="admin").exit_code == 0
    assert (
        f"oidc:{subject}"
        not in {u["username"]: u for u in json.loads(run("user", "list", "--json").stdout)}["officer"][
            "identities"
        ]
    )
    assert run("user", "map", "approver", "--oidc", subject, user="admin").exit_code == 0  # free again


def test_principal_names_are_checked() -> None:
    assert principal_for("os", " jsmith ").name == "jsmith"
    for bad in ("", "two words", "x" * 121, "tab\there"):
        with pytest.raises(Exception, match=r"is not an account or login name"):
            principal_for("os", bad)


# ---------------------------------------------------------------------- PostgreSQL logins and roles


@pytest.fixture
def officer_login(engine_login: Callable[..., str]) -> Iterator[str]:
    yield engine_login("jsmith")


def test_postgresql_proves_the_login_not_the_name_asked_for(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], officer_login: str
) -> None:
    login = Database(officer_login)
    try:
        with login.read_connection() as connection:
            name = str(connection.scalar(text("SELECT current_user")))
        _one_line(run("case", "list", user="officer", url=officer_login), 6,
                  f"database login '{name}' is not mapped to any dfg user: an administrator maps it with "
                  f"'dfg user map USER --db-login {name}'")  # fmt: skip
        map_identity(db, cast["admin"], "officer", principal_for("db", name))
        assert run("case", "list", user="officer", url=officer_login).exit_code == 0
        assert run("case", "list", url=officer_login).exit_code == 0  # the one mapping
        _one_line(run("case", "list", user="approver", url=officer_login), 6,
                  f"database login '{name}' may act only as officer, not as 'approver'")  # fmt: skip
        assert run("case", "list", user="officer").exit_code == 0  # the test's own login, mapped to all
    finally:
        login.dispose()


def test_the_engine_role_cannot_rewrite_history(db: Database, engine_login: Callable[..., str],
                                                cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:  # fmt: skip
    open_sample()
    login = Database(engine_login("mallory"))
    try:
        for sql in ("ALTER TABLE events DISABLE TRIGGER USER", "UPDATE events SET reason = 'x'",
                    "DELETE FROM events", "TRUNCATE events", "DELETE FROM access_records",
                    "DROP TABLE events", "INSERT INTO identity_mappings (kind, principal, user_id, mapped_by, "
                    "mapped_at) VALUES ('db', 'mallory', 1, 'mallory', now())", "UPDATE users SET active = true"):  # fmt: skip
            refused = pytest.raises(DBAPIError, match=r"must be owner|permission denied")
            with refused, login.write_connection() as connection:
                connection.execute(text(sql))
    finally:
        login.dispose()


def test_a_whole_case_runs_as_the_engine_role(
    db: Database, engine_login: Callable[..., str], cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    login = Database.open(engine_login("officer"))
    try:
        reference = open_sample()
        walk_to(login, cast, reference, "closed")
        render_pending(login, cast["officer"], workers=1)
        view_case(login, cast["officer"], reference)
        assert verify_audit(login, cast["manager"]).problems == ()
        assert show_case(login, cast["officer"], reference).state == "closed"
    finally:
        login.dispose()


def test_administrators_login_may_map(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], engine_login: Callable[..., str]
) -> None:
    admin_url, officer_url = engine_login("ada", admin=True), engine_login("jo")
    for url, user in ((admin_url, "admin"), (officer_url, "officer")):
        probe = Database(url)
        with probe.read_connection() as connection:
            name = str(connection.scalar(text("SELECT current_user")))
        probe.dispose()
        map_identity(db, cast["admin"], user, principal_for("db", name))
    assert run("user", "map", "manager", "--db-login", "someone", user="admin", url=admin_url).exit_code == 0
    refused = run("user", "map", "manager", "--db-login", "else", user="officer", url=officer_url)
    assert refused.exit_code == 6  # the engine's own check, before the database's


# ---------------------------------------------------------------------- the access record


def test_reads_of_a_case_are_on_its_access_record(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "awaiting_assessment")  # show_case only: the engine's own reads
    assert access_record(db, cast["manager"], reference) == []
    assert run("case", "show", reference, user="officer").exit_code == 0
    assert run("case", "history", reference, user="lichfield").exit_code == 6  # refused: not a read
    assert run("case", "history", reference, user="officer").exit_code == 0
    render_pending(db, cast["officer"], workers=1)
    listed = json.loads(run("letters", "list", reference, "--json", user="officer").stdout)
    letter = str(listed["letters"][0]["id"] if isinstance(listed, dict) else listed[0]["id"])
    shown = run("letters", "show", letter, "--output", str(db.sqlite_path or "x") + ".pdf", user="technical")
    assert shown.exit_code == 0, shown.stderr
    result = run("audit", "access", reference, "--json", user="manager")
    assert result.exit_code == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [(e["username"], e["view"]) for e in entries] == [
        ("technical", "letter"), ("officer", "history"), ("officer", "case")]  # fmt: skip
    read_at = [e["read_at"] for e in entries]
    assert read_at == sorted(read_at, reverse=True)
    text_out = run("audit", "access", reference, user="admin").stdout.splitlines()
    assert text_out[0].split() == ["when", "(UTC)", "who", "view"]
    assert "Technical (technical)" in text_out[2]
    _one_line(
        run("audit", "access", reference, user="officer"),
        6,
        "officer needs the role manager or admin to do this",
    )


def test_the_access_record_is_append_only(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    view_case(db, cast["officer"], reference, now=utcnow() - timedelta(minutes=1))
    for sql in ("UPDATE access_records SET view = 'case'", "DELETE FROM access_records"):
        with pytest.raises(DBAPIError, match="append-only"), db.write_engine.begin() as connection:
            connection.execute(text(sql))
    assert len(access_record(db, cast["manager"], reference)) == 1
    with db.read_connection() as connection:  # off the hash chain: no event for a read
        assert connection.scalar(text("SELECT count(*) FROM events WHERE kind LIKE '%access%'")) == 0
