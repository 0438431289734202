"""The browser application under Flask's test client, on the same real databases as every other test."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from dfg.services.database import Database
from dfg.services.sign_in import accept_invitation, invite
from dfg.web import create_app
from dfg.web.settings import WebSettings
from dfg.workflow.actor import Actor
from tests.conftest import walk_to

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key-that-is-long-enough-for-the-app"

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def make_web_app(db: Database, **settings: object) -> Flask:
    app = create_app(WebSettings(database=db.url, secret_key=SECRET, secure_cookies=False, **settings))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(db: Database, cast: dict[str, Actor]) -> Iterator[Flask]:
    made = make_web_app(db)
    yield made
    made.extensions["dfg.database"].dispose()


def csrf_token(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


def give_password(db: Database, admin: Actor, username: str, password: str = PASSWORD) -> None:
    """As an administrator and then the user would: an invitation, and the user choosing a password."""
    accept_invitation(db, invite(db, admin, username).code, password)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the page; returns the page it lands on."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=True,
    )
    return response.get_data(as_text=True)


@pytest.fixture
def signed_in(app: Flask, db: Database, cast: dict[str, Actor]) -> Callable[[str], FlaskClient]:
    """A client signed in as one of the cast (a password set for them first)."""

    def client_for(username: str) -> FlaskClient:
        give_password(db, cast["admin"], username)
        client = app.test_client()
        page = sign_in(client, username)
        assert "Sign out" in page, page
        return client

    return client_for


@pytest.fixture
def case_at(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> Callable[[str], str]:
    """A Cannock case walked along the main path to a state, through the real services."""

    def make(state: str) -> str:
        reference = open_sample()
        walk_to(db, cast, reference, state)
        return reference

    return make


_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTRIBUTE = re.compile(r'(name|value)="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (the CSRF token, the version of the case it was read at)."""
    fields = {}
    for tag in _HIDDEN.findall(page):
        found = dict(_ATTRIBUTE.findall(tag))
        if "name" in found:
            fields[found["name"]] = found.get("value", "")
    return fields


def post_form(client: FlaskClient, url: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
    """Post a form as the browser would: with the hidden fields of the form's own page."""
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    return client.post(url, data={**fields, **data}, **kwargs)
