"""Administration in the browser: invitations, changing and deactivating users, districts."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from dfg.services.database import Database
from dfg.services.sign_in import accept_invitation
from dfg.services.users import list_users
from dfg.workflow.actor import Actor
from tests.web.conftest import PASSWORD, hidden_fields, post_form, sign_in

SignedIn = Callable[[str], FlaskClient]


def _user(db: Database, username: str):  # type: ignore[no-untyped-def]
    return next(u for u in list_users(db) if u.username == username)


def test_only_administrators_reach_administration(signed_in: SignedIn) -> None:
    assert signed_in("officer").get("/admin/users").status_code == 403


def test_an_invitation_from_the_page_lets_the_user_set_a_password(
    signed_in: SignedIn, app: Flask, db: Database
) -> None:
    client = signed_in("admin")
    page = client.get("/admin/users/manager").get_data(as_text=True)
    fields = hidden_fields(page)
    shown = client.post("/admin/users/manager/invite", data={"csrf_token": fields["csrf_token"]}).get_data(
        as_text=True
    )
    code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', shown)
    assert code and "This code is shown once" in shown
    assert accept_invitation(db, code.group(1), PASSWORD) == "manager"
    assert "Sign out" in sign_in(app.test_client(), "manager")


def test_changing_a_users_roles_and_limit(signed_in: SignedIn, db: Database) -> None:
    client = signed_in("admin")
    response = post_form(
        client, "/admin/users/officer",
        {"full_name": "Olive Officer", "roles": ["grant_officer", "approver"], "district": "CAN", "limit": "15,000"},
        follow_redirects=True,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert "officer: " in page and "£15,000" in page
    changed = _user(db, "officer")
    assert changed.roles == ("approver", "grant_officer") and changed.approval_limit_pence == 15_000_00


def test_a_bad_change_says_each_problem_and_changes_nothing(signed_in: SignedIn, db: Database) -> None:
    client = signed_in("admin")
    response = post_form(
        client, "/admin/users/officer", {"full_name": "x", "district": "CAN", "limit": "lots"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose at least one role" in page and "Enter the delegated limit in pounds" in page
    assert _user(db, "officer").full_name == "Officer"


def test_deactivating_ends_the_users_sessions(signed_in: SignedIn, db: Database) -> None:
    officer = signed_in("officer")
    admin = signed_in("admin")
    fields = hidden_fields(admin.get("/admin/users/officer").get_data(as_text=True))
    page = admin.post(
        "/admin/users/officer/active", data={"csrf_token": fields["csrf_token"], "active": "0", "reason": "Left"},
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "officer is deactivated" in page
    assert not _user(db, "officer").active
    assert officer.get("/work").status_code == 302


def test_deactivating_without_a_reason_is_refused(signed_in: SignedIn, db: Database) -> None:
    admin = signed_in("admin")
    fields = hidden_fields(admin.get("/admin/users/officer").get_data(as_text=True))
    page = admin.post(
        "/admin/users/officer/active", data={"csrf_token": fields["csrf_token"], "active": "0", "reason": ""},
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "Give the reason" in page and "--reason" not in page
    assert _user(db, "officer").active


def test_the_last_administrator_stays(signed_in: SignedIn, db: Database) -> None:
    admin = signed_in("admin")
    fields = hidden_fields(admin.get("/admin/users/admin").get_data(as_text=True))
    page = admin.post(
        "/admin/users/admin/active", data={"csrf_token": fields["csrf_token"], "active": "0", "reason": "Test"},
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "administrator" in page.lower() and _user(db, "admin").active


def test_adding_a_user_and_a_district(signed_in: SignedIn, db: Database, cast: dict[str, Actor]) -> None:
    admin = signed_in("admin")
    post_form(admin, "/admin/districts", {"code": "tam", "name": "Tamworth"})
    response = post_form(
        admin, "/admin/users/new",
        {"username": "tam.officer", "full_name": "Tam Officer", "roles": ["grant_officer"], "district": "TAM"},
        follow_redirects=True,
    )  # fmt: skip
    assert "tam.officer added" in response.get_data(as_text=True)
    assert _user(db, "tam.officer").district == "TAM"
