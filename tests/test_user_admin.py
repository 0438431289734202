"""User administration: changing a user's roles, district and limit, deactivating and reactivating them,
the last administrator of the whole installation kept, inviting a user to the browser, and a case opened
onto its officer's list."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from cli import main
from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.services.audit import verify_audit
from dfg.services.case_reading import show_case
from dfg.services.identity import map_identity, resolve_actor, running_principal
from dfg.services.sign_in import INVITATION_LASTS, invite, session_actor
from dfg.services.users import add_user, change_user, deactivate_user, list_users, reactivate_user
from dfg.store.database import Database
from dfg.store.tables import EVENTS, WEB_CREDENTIALS
from dfg.workflow.actor import Actor
from tests.conftest import sample_case


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str | None = "admin") -> Result:
        prefix = ["--db", db_url] + (["--as", user] if user else [])
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return invoke


def _system_events(db: Database, kind: str) -> list[dict[str, Any]]:
    with db.read_connection() as connection:
        rows = connection.scalars(select(EVENTS.c.payload).where(EVENTS.c.kind == kind).order_by(EVENTS.c.id))
        return [json.loads(p) for p in rows]


def _event_count(db: Database) -> int:
    with db.read_connection() as connection:
        return int(connection.scalar(select(func.count()).select_from(EVENTS)) or 0)


def _user(db: Database, username: str) -> dict[str, Any]:
    return next(u.as_dict() for u in list_users(db) if u.username == username)


def _verified(db: Database, cast: dict[str, Actor]) -> list[str]:
    return [str(p) for p in verify_audit(db, cast["manager"]).problems]


def _district_admin(db: Database) -> Actor:
    add_user(db, "admin", username="canadmin", full_name="Cannock Admin", roles=["admin"], district="CAN")
    map_identity(db, resolve_actor(db, "admin"), "canadmin", running_principal(db))
    return resolve_actor(db, "canadmin")


# ---------------------------------------------------------------------------------------- change_user


def test_a_change_is_one_event_with_the_whole_new_view_and_what_changed(
    db: Database, cast: dict[str, Actor]
) -> None:
    done = change_user(
        db, cast["admin"], "officer", roles=["grant_officer", "approver"], district=None,
        approval_limit_pence=10_000_00, full_name="Jo Smith",
    )  # fmt: skip
    assert (
        done.view.as_dict()
        == _user(db, "officer")
        == {
            "username": "officer",
            "full_name": "Jo Smith",
            "roles": ["approver", "grant_officer"],
            "district": None,
            "approval_limit_pence": 10_000_00,
            "active": True,
        }
    )
    assert done.summary() == (
        "name Officer -> Jo Smith; roles grant_officer -> approver, grant_officer; "
        "district CAN -> every district; limit none -> £10,000"
    )
    [event] = _system_events(db, "user_changed")
    assert event == {
        **done.view.as_dict(),
        "changed": {
            "full_name": {"from": "Officer", "to": "Jo Smith"},
            "roles": {"from": ["grant_officer"], "to": ["approver", "grant_officer"]},
            "district": {"from": "CAN", "to": None},
            "approval_limit_pence": {"from": None, "to": 10_000_00},
        },
    }
    assert resolve_actor(db, "officer").approval_limit_pence == 10_000_00  # acts with it at once
    # what is not given stays as it was
    assert change_user(db, cast["admin"], "approver", approval_limit_pence=5_000_00).changed == {
        "approval_limit_pence": (30_000_00, 5_000_00)
    }
    assert _user(db, "approver")["roles"] == ["approver"]
    assert _verified(db, cast) == []


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {},
            InvalidInput,
            "say what to change: --role, --district or --all-districts, --limit or --no-limit, --name",
        ),
        ({"roles": ["grant_officer"]}, InvalidInput, "officer already has those: nothing to change"),
        ({"roles": ["wizard"]}, InvalidInput, "unknown role 'wizard' (known: "),
        ({"approval_limit_pence": 100_00}, InvalidInput, "only an approver has a delegated --limit"),
        ({"district": "XYZ"}, NotFound, "no district 'XYZ' (see 'dfg district list')"),
        ({"full_name": "  "}, InvalidInput, "the name must not be blank"),
    ],
)
def test_a_bad_change_says_why_and_changes_nothing(
    db: Database, cast: dict[str, Actor], changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    before, events = _user(db, "officer"), _event_count(db)
    with pytest.raises(error) as raised:
        change_user(db, cast["admin"], "officer", **changes)
    assert str(raised.value).startswith(message)
    assert (_user(db, "officer"), _event_count(db)) == (before, events)


def test_taking_the_approver_role_away_takes_the_limit_with_it_only_when_told(
    db: Database, cast: dict[str, Actor]
) -> None:
    with pytest.raises(InvalidInput, match="give --no-limit with a change that takes the approver role away"):
        change_user(db, cast["admin"], "approver", roles=["manager"])
    assert _user(db, "approver")["roles"] == ["approver"]
    change_user(db, cast["admin"], "approver", roles=["manager"], approval_limit_pence=None)
    assert (_user(db, "approver")["roles"], _user(db, "approver")["approval_limit_pence"]) == (
        ["manager"],
        None,
    )


def test_only_an_administrator_changes_users(db: Database, cast: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied, match="manager needs the role admin"):
        change_user(db, cast["manager"], "officer", district="LIC")
    with pytest.raises(NotFound, match="no user 'ghost'"):
        change_user(db, cast["admin"], "ghost", district="LIC")


def test_a_district_administrator_changes_only_their_districts_users_and_keeps_them_in_it(
    db: Database, cast: dict[str, Actor]
) -> None:
    canadmin = _district_admin(db)
    change_user(db, canadmin, "technical", roles=["technical_officer", "grant_officer"])
    assert _user(db, "technical")["roles"] == ["grant_officer", "technical_officer"]
    with pytest.raises(PermissionDenied, match=r"canadmin administers district CAN only$"):
        change_user(db, canadmin, "lichfield", roles=["ot"])  # another district's
    with pytest.raises(PermissionDenied, match=r"canadmin administers district CAN only$"):
        change_user(db, canadmin, "ot", roles=["grant_officer"])  # every district's
    for district in ("LIC", None):
        with pytest.raises(
            PermissionDenied, match="canadmin administers district CAN only: officer stays in it"
        ):
            change_user(db, canadmin, "officer", district=district)
    with pytest.raises(PermissionDenied, match=r"administers district CAN only$"):
        deactivate_user(db, canadmin, "lichfield", reason="left")
    assert _user(db, "officer")["district"] == "CAN"


# ------------------------------------------------------------------------------ the last administrator


def test_the_last_administrator_of_the_installation_cannot_be_removed(
    db: Database, cast: dict[str, Actor]
) -> None:
    _district_admin(db)  # an administrator of one district does not count
    admin, events = cast["admin"], _event_count(db)
    last = "admin is the last administrator of every district and cannot be"
    with pytest.raises(PermissionDenied, match=f"{last} deactivated: make another user an administrator"):
        deactivate_user(db, admin, "admin", reason="leaving")
    with pytest.raises(
        PermissionDenied, match=f"{last} taken out of the whole installation's administration"
    ):
        change_user(db, admin, "admin", roles=["manager"])
    with pytest.raises(PermissionDenied, match=last):
        change_user(db, admin, "admin", district="CAN")
    assert _event_count(db) == events and resolve_actor(db, "admin").roles == {"admin"}
    # with a second administrator of every district, either may go
    change_user(db, admin, "manager", roles=["manager", "admin"])
    deactivate_user(db, admin, "admin", reason="left the council")
    manager = resolve_actor(db, "manager")  # an administrator now
    with pytest.raises(PermissionDenied, match="manager is the last administrator of every district"):
        change_user(db, manager, "manager", roles=["manager"])
    # a deactivated administrator is no administrator: bringing one back makes two again
    reactivate_user(db, manager, "admin", reason="back from leave")
    change_user(db, manager, "manager", roles=["manager"])
    assert _verified(db, cast) == []


# ------------------------------------------------------------------------- deactivating, reactivating


def test_a_deactivated_user_can_no_longer_act_and_their_history_stays(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    invite(db, cast["admin"], "officer")  # a browser credential: session epoch 1
    assert session_actor(db, cast["officer"].user_id, 1).username == "officer"
    view = deactivate_user(db, cast["admin"], "officer", reason="  left the council  ")
    assert view.active is False and _user(db, "officer")["active"] is False
    with pytest.raises(PermissionDenied, match="user 'officer' is deactivated"):
        resolve_actor(db, "officer")
    with pytest.raises(PermissionDenied, match="your session has ended"):  # the browser's, too
        session_actor(db, cast["officer"].user_id, 1)
    with db.read_connection() as connection:
        epoch = connection.scalar(
            select(WEB_CREDENTIALS.c.session_epoch).where(
                WEB_CREDENTIALS.c.user_id == cast["officer"].user_id
            )
        )
    assert epoch == 2
    assert _system_events(db, "user_deactivated") == [
        {"username": "officer", "active": False, "reason": "left the council"}
    ]
    # what they did stays, under their name
    assert show_case(db, cast["manager"], reference).assigned_to == "officer"
    with pytest.raises(InvalidInput, match="officer is already deactivated"):
        deactivate_user(db, cast["admin"], "officer", reason="again")
    reactivate_user(db, cast["admin"], "officer", reason="came back")
    assert resolve_actor(db, "officer").roles == {"grant_officer"}
    assert _system_events(db, "user_reactivated") == [
        {"username": "officer", "active": True, "reason": "came back"}
    ]
    with pytest.raises(InvalidInput, match="officer is already active"):
        reactivate_user(db, cast["admin"], "officer", reason="again")
    assert _verified(db, cast) == []


def test_a_deactivation_needs_a_reason(db: Database, cast: dict[str, Actor]) -> None:
    events = _event_count(db)
    with pytest.raises(InvalidInput, match="give a --reason: it is kept in the audit trail"):
        deactivate_user(db, cast["admin"], "officer", reason=" ")
    with pytest.raises(InvalidInput, match="500 characters or fewer"):
        deactivate_user(db, cast["admin"], "officer", reason="x" * 501)
    assert _event_count(db) == events and _user(db, "officer")["active"] is True


# ---------------------------------------------------------------------------- opening onto a list


def test_the_opening_officer_is_assigned_unless_told_otherwise(db: Database, cast: dict[str, Actor]) -> None:
    from dfg.services.case_opening import open_case

    mine = open_case(db, cast["officer"], sample_case())
    nobodys = open_case(db, cast["officer"], sample_case(address_line_1="3 Oak Road", unassigned=True))
    assert show_case(db, cast["officer"], mine).assigned_to == "officer"
    assert show_case(db, cast["officer"], nobodys).assigned_to is None
    assert _verified(db, cast) == []


# ------------------------------------------------------------------------------------- the commands


def test_user_change_on_the_command_line(run: Callable[..., Result], cast: dict[str, Actor]) -> None:
    changed = run("user", "change", "officer", "--role", "grant_officer", "--role", "approver", "--limit", "12000",
                  "--all-districts")  # fmt: skip
    assert (changed.exit_code, changed.stdout) == (0, "")
    assert changed.stderr == (
        "changed officer: roles grant_officer -> approver, grant_officer; district CAN -> every district; "
        "limit none -> £12,000\n"
    )
    as_json = json.loads(run("user", "change", "officer", "--no-limit", "--role", "grant_officer",
                             "--district", "lic", "--json").stdout)  # fmt: skip
    assert as_json["district"] == "LIC" and as_json["approval_limit_pence"] is None
    assert as_json["changed"]["district"] == {"from": None, "to": "LIC"}
    both = run("user", "change", "officer", "--district", "CAN", "--all-districts")
    assert (both.exit_code, both.stderr) == (8, "dfg: give --district or --all-districts, not both\n")
    both = run("user", "change", "officer", "--limit", "1", "--no-limit")
    assert (both.exit_code, both.stderr) == (8, "dfg: give --limit or --no-limit, not both\n")
    last = run("user", "change", "admin", "--role", "manager")
    assert last.exit_code == 6 and last.stderr.startswith(
        "dfg: admin is the last administrator of every district"
    )


def test_user_deactivate_and_reactivate_on_the_command_line(
    run: Callable[..., Result], cast: dict[str, Actor]
) -> None:
    done = run("user", "deactivate", "ot", "--reason", "retired")
    assert (done.exit_code, done.stderr) == (0, "deactivated ot: they can no longer act\n")
    refused = run("case", "list", user="ot")
    assert (refused.exit_code, refused.stderr) == (6, "dfg: user 'ot' is deactivated\n")
    listed = json.loads(run("user", "list", "--json").stdout)
    assert next(u for u in listed if u["username"] == "ot")["active"] is False
    back = json.loads(run("user", "reactivate", "ot", "--reason", "returned", "--json").stdout)
    assert (back["active"], back["reason"]) == (True, "returned")
    assert run("case", "list", user="ot").exit_code == 0
    missing = run("user", "deactivate", "ot")
    assert missing.exit_code == 2 and "--reason" in missing.stderr


def test_user_invite_prints_the_code_when_it_expires_and_where_to_use_it(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor]
) -> None:
    text = run("user", "invite", "officer")
    assert text.exit_code == 0, text.stderr
    code_line, expires_line, where_line = text.stdout.splitlines()
    assert code_line.startswith("invitation code for officer: ") and len(code_line.split(": ")[1]) == 23
    assert expires_line.startswith("it can be used once, until ")
    assert where_line == (
        "officer sets their password with it at the browser application's /invitation page (run by 'dfg serve')"
    )
    issued = json.loads(run("user", "invite", "officer", "--json").stdout)
    assert issued["username"] == "officer" and issued["code"] != code_line.split(": ")[1]
    assert _system_events(db, "web_invitation_issued")[-1]["reset"] is True
    assert INVITATION_LASTS.days == 7
    refused = run("user", "invite", "officer", user="manager")
    assert (refused.exit_code, refused.stderr) == (6, "dfg: manager needs the role admin to do this\n")


def test_case_new_assigns_the_opener_unless_unassigned(
    run: Callable[..., Result], cast: dict[str, Actor]
) -> None:
    home = ["--district", "CAN", "--applicant", "Margaret Holt", "--town", "Cannock", "--postcode", "WS11 1AA",
            "--tenure", "owner"]  # fmt: skip
    mine = run("case", "new", *home, "--address", "12 Mill Lane", user="officer").stdout.strip()
    nobodys = run(
        "case", "new", *home, "--address", "3 Oak Road", "--unassigned", "--duplicate", user="officer"
    )
    assert nobodys.exit_code == 0, nobodys.stderr
    shown = {
        r: json.loads(run("case", "show", r, "--json", user="officer").stdout)
        for r in (mine, nobodys.stdout.strip())
    }
    assert [s["assigned_to"] for s in shown.values()] == ["officer", None]
    listed = json.loads(run("case", "list", "--mine", "--json", user="officer").stdout)
    assert [c["reference"] for c in listed] == [mine]
