"""Signing in is proof: invitation, password, second factor, lock, sessions that end, and the headers."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from dfg.errors import InvalidInput, PermissionDenied
from dfg.services.audit import verify_audit
from dfg.services.database import Database
from dfg.services.sign_in import (
    LOCK_AFTER,
    accept_invitation,
    check_password,
    end_sessions,
    invite,
    session_actor,
)
from dfg.workflow.actor import Actor
from tests.web.conftest import PASSWORD, csrf_token, give_password, make_web_app, sign_in


def test_an_invitation_sets_a_password_once(db: Database, cast: dict[str, Actor]) -> None:
    invitation = invite(db, cast["admin"], "officer")
    assert accept_invitation(db, invitation.code.lower().replace("-", " "), PASSWORD) == "officer"
    with pytest.raises(InvalidInput, match="not right, or has been used"):
        accept_invitation(db, invitation.code, PASSWORD)
    checked = check_password(db, "officer", PASSWORD)
    assert session_actor(db, checked.user_id, checked.session_epoch).username == "officer"


def test_only_an_administrator_invites(db: Database, cast: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied, match="admin"):
        invite(db, cast["manager"], "officer")


def test_passwords_too_short_or_holding_the_username_are_refused(
    db: Database, cast: dict[str, Actor]
) -> None:
    code = invite(db, cast["admin"], "officer").code
    with pytest.raises(InvalidInput, match="at least 12"):
        accept_invitation(db, code, "short")
    with pytest.raises(InvalidInput, match="username"):
        accept_invitation(db, code, "my-officer-password")
    assert accept_invitation(db, code, PASSWORD) == "officer"  # the refusals spent nothing


def test_an_expired_invitation_is_refused(db: Database, cast: dict[str, Actor]) -> None:
    invitation = invite(db, cast["admin"], "officer")
    with pytest.raises(InvalidInput, match="expired"):
        accept_invitation(db, invitation.code, PASSWORD, now=invitation.expires_at + timedelta(seconds=1))


def test_the_same_answer_whether_the_user_or_the_password_is_wrong(
    db: Database, cast: dict[str, Actor]
) -> None:
    give_password(db, cast["admin"], "officer")
    with pytest.raises(PermissionDenied) as no_user:
        check_password(db, "nobody", PASSWORD)
    with pytest.raises(PermissionDenied) as wrong:
        check_password(db, "officer", "not the password")
    assert no_user.value.message == wrong.value.message == "the username or password is not right"


def test_attempts_lock_the_account_then_it_opens_again(db: Database, cast: dict[str, Actor]) -> None:
    give_password(db, cast["admin"], "officer")
    for _ in range(LOCK_AFTER):
        with pytest.raises(PermissionDenied, match="not right"):
            check_password(db, "officer", "guess")
    with pytest.raises(PermissionDenied, match="too many attempts"):
        check_password(db, "officer", PASSWORD)  # even the right password, while locked
    later = check_password(db, "officer", PASSWORD, now=_now() + timedelta(minutes=16))
    assert later.username == "officer"


def _now():  # type: ignore[no-untyped-def]
    from dfg.rules.clock import utcnow

    return utcnow()


def test_a_new_invitation_ends_every_session(db: Database, cast: dict[str, Actor]) -> None:
    give_password(db, cast["admin"], "officer")
    checked = check_password(db, "officer", PASSWORD)
    invite(db, cast["admin"], "officer")
    with pytest.raises(PermissionDenied, match="session has ended"):
        session_actor(db, checked.user_id, checked.session_epoch)
    with pytest.raises(PermissionDenied, match="not right"):
        check_password(db, "officer", PASSWORD)  # the old password went with it


def test_the_audit_trail_stays_intact_and_holds_no_secret(db: Database, cast: dict[str, Actor]) -> None:
    give_password(db, cast["admin"], "officer")
    assert verify_audit(db, cast["manager"]).problems == ()
    with db.read_connection() as connection:
        payloads = " ".join(r[0] or "" for r in connection.exec_driver_sql("SELECT payload FROM events"))
    assert "argon2" not in payloads and PASSWORD not in payloads


# ------------------------------------------------------------------------------------------ the pages


def test_every_page_but_sign_in_asks_for_sign_in(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/work")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=/work")
    assert client.get("/cases/CAN-2026-0001").status_code == 302
    assert client.get("/sign-in").status_code == 200


def test_a_wrong_password_shows_one_error_and_signs_no_one_in(
    app: Flask, db: Database, cast: dict[str, Actor]
) -> None:
    give_password(db, cast["admin"], "officer")
    client = app.test_client()
    page = sign_in(client, "officer", "wrong password here")
    assert "There is a problem" in page and "The username or password is not right." in page
    assert "Sign out" not in page
    assert client.get("/work").status_code == 302


def test_an_empty_form_shows_every_mistake_at_once(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"csrf_token": token, "username": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#username">Enter your username' in page and 'href="#password">Enter your password' in page


def test_a_post_without_its_csrf_token_is_refused(app: Flask, db: Database, cast: dict[str, Actor]) -> None:
    give_password(db, cast["admin"], "officer")
    response = app.test_client().post("/sign-in", data={"username": "officer", "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this service" in response.get_data(as_text=True)


def test_signing_out_ends_the_session_everywhere(signed_in: Callable[[str], FlaskClient], app: Flask) -> None:
    client = signed_in("officer")
    other = app.test_client()
    sign_in(other, "officer")
    token = csrf_token(client.get("/work").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/work").status_code == 302
    assert other.get("/work").status_code == 302  # the other device's cookie ended too


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(
    signed_in: Callable[[str], FlaskClient], db: Database, app: Flask
) -> None:
    client = signed_in("officer")
    with db.write_connection() as connection:
        connection.exec_driver_sql("UPDATE users SET active = false WHERE username = 'officer'")
    assert client.get("/work").status_code == 302
    page = sign_in(app.test_client(), "officer")
    assert "deactivated" in page and "Sign out" not in page


def test_an_idle_session_ends(db: Database, cast: dict[str, Actor]) -> None:
    app = make_web_app(db, idle_timeout=timedelta(seconds=1))
    give_password(db, cast["admin"], "officer")
    client = app.test_client()
    assert "Sign out" in sign_in(client, "officer")
    time.sleep(2.1)
    response = client.get("/work", follow_redirects=True)
    assert "You were signed out because you had not used the service for a while" in response.get_data(
        as_text=True
    )


def test_the_second_factor(app: Flask, db: Database, cast: dict[str, Actor]) -> None:
    client = app.test_client()
    give_password(db, cast["admin"], "officer")
    sign_in(client, "officer")
    account = client.get("/account").get_data(as_text=True)
    secret = account.split('id="setup-key">')[1].split("<")[0].replace(" ", "")
    wrong = client.post("/account", data={"csrf_token": csrf_token(account), "code": "000000"})
    assert wrong.status_code == 422 and "that code is not right" in wrong.get_data(as_text=True).lower()
    account = client.get("/account").get_data(as_text=True)
    done = client.post("/account", data={"csrf_token": csrf_token(account), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302  # and every session ended: sign in again with the code
    page = sign_in(client, "officer")
    assert "Enter your security code" in page and "Sign out" not in page
    form = client.get("/sign-in/code").get_data(as_text=True)
    landed = client.post(
        "/sign-in/code",
        data={"csrf_token": csrf_token(form), "code": pyotp.TOTP(secret).now()},
        follow_redirects=True,
    )
    assert "Sign out" in landed.get_data(as_text=True)


def test_security_headers_on_every_page(app: Flask) -> None:
    response = app.test_client().get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_never_leaves_the_service(app: Flask, db: Database, cast: dict[str, Actor]) -> None:
    give_password(db, cast["admin"], "officer")
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in?next=//evil.example/x",
        data={"username": "officer", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/work"


def test_sessions_end_when_ended(db: Database, cast: dict[str, Actor]) -> None:
    give_password(db, cast["admin"], "officer")
    checked = check_password(db, "officer", PASSWORD)
    end_sessions(db, checked.user_id)
    with pytest.raises(PermissionDenied):
        session_actor(db, checked.user_id, checked.session_epoch)


def test_assets_are_public_and_travel_gzipped(app: Flask) -> None:
    client = app.test_client()
    with client.get("/assets/govuk/govuk-frontend.min.css", headers={"Accept-Encoding": "gzip"}) as packed:
        assert packed.headers["Content-Encoding"] == "gzip"
        unpacked = gzip.decompress(packed.data)
    with client.get("/assets/govuk/govuk-frontend.min.css") as plain:
        assert unpacked == plain.data and len(packed.data) < len(plain.data) / 4
        assert "GDS Transport" not in plain.get_data(as_text=True)  # the GOV.UK typeface is not the council's
    with client.get("/assets/fonts/AtkinsonHyperlegible-Regular.ttf") as font:
        assert font.status_code == 200


def test_the_vendored_frontend_is_what_its_record_says_and_unbranded() -> None:
    import hashlib
    import tomllib
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "dfg" / "web" / "static" / "govuk"
    record = tomllib.loads((folder / "VENDORED.toml").read_text())
    assert record["package"] == "govuk-frontend" and record["version"].startswith("6.")
    for name, digest in record["sha256"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    css = (folder / "govuk-frontend.min.css").read_text()
    assert "GDS Transport" not in css and "govuk-crest" not in css and "Margaret Calvert" not in css
    assert not list(folder.glob("*.woff*")) and not (folder / "assets").exists()
