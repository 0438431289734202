"""Single sign-on against a small OpenID Connect provider run by the tests on a loopback port.

The provider serves discovery, its keys, an authorize endpoint that sends the browser back with a code,
and a token endpoint that checks the client's secret and the PKCE verifier before it signs an ID token.
The application reaches it over real HTTP (discovery, keys, the code exchange); the browser's two legs
are the Flask test clients of each side, so every redirect is followed as a browser would.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask, jsonify, redirect, request
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response

from dfg.errors import ConfigurationError, InvalidInput, PermissionDenied
from dfg.services.database import Database
from dfg.services.identity import identities, map_identity, principal_for
from dfg.services.sign_in import NotMapped, check_sign_on, session_actor
from dfg.services.users import deactivate_user
from dfg.web.settings import WebSettings
from dfg.workflow.actor import Actor
from tests.web.conftest import PASSWORD, csrf_token, give_password, make_web_app

CLIENT_ID = "dfg-test-client"
CLIENT_SECRET = "a-client-secret-for-the-tests"
SUBJECT = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"  # as Entra ID's pairwise subjects look


@dataclass
class Provider:
    """The identity provider's state, which each test may bend to misbehave."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "one"}))
    subject: str = SUBJECT
    # what the next ID token says (None: the honest value)
    signing_key: RSAKey | None = None
    audience: str | None = None
    nonce: str | None = None
    token_issuer: str | None = None
    lifetime: int = 300
    extra_claims: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def reset(self) -> None:
        self.subject, self.signing_key, self.audience, self.nonce = SUBJECT, None, None, None
        self.token_issuer, self.lifetime, self.extra_claims = None, 300, {}
        self.authorize_requests.clear()

    def id_token(self, granted: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.token_issuer or self.issuer,
            "sub": self.subject,
            "aud": self.audience or CLIENT_ID,
            "iat": now,
            "exp": now + self.lifetime,
            "nonce": self.nonce or granted["nonce"],
            "name": "Jo Smith",
            "preferred_username": "jo.smith@council.example",
            **self.extra_claims,
        }
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def provider_app(provider: Provider) -> Flask:
    app = Flask("test_identity_provider")

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        return jsonify(
            issuer=provider.issuer,
            authorization_endpoint=f"{provider.issuer}/authorize",
            token_endpoint=f"{provider.issuer}/token",
            jwks_uri=f"{provider.issuer}/keys",
            response_types_supported=["code"],
            subject_types_supported=["pairwise"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
        )

    @app.get("/keys")
    def keys() -> Response:
        return jsonify(keys=[provider.key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize() -> Response:
        asked = request.args.to_dict()
        provider.authorize_requests.append(asked)
        back = asked["redirect_uri"]
        if asked.get("error"):  # the test asks the provider to refuse, as a cancelled sign-in is
            return redirect(f"{back}?{urlencode({'error': 'access_denied', 'state': asked['state']})}")
        code = secrets.token_urlsafe(16)
        provider.codes[code] = asked
        return redirect(f"{back}?{urlencode({'code': code, 'state': asked['state']})}")

    @app.post("/token")
    def token() -> Response | tuple[Response, int]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return jsonify(error="invalid_client"), 401
        granted = provider.codes.pop(request.form.get("code", ""), None)  # a code works once
        verifier = request.form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            granted is None
            or request.form.get("grant_type") != "authorization_code"
            or request.form.get("redirect_uri") != granted["redirect_uri"]
            or challenge != granted["code_challenge"]
        ):
            return jsonify(error="invalid_grant"), 400
        return jsonify(
            access_token=secrets.token_urlsafe(16),
            token_type="Bearer",
            expires_in=3600,
            id_token=provider.id_token(granted),
        )

    return app


@pytest.fixture(scope="module")
def running_provider() -> Iterator[Provider]:
    provider = Provider()
    server = make_server("127.0.0.1", 0, provider_app(provider), threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    thread.join(5)


@pytest.fixture
def provider(running_provider: Provider) -> Iterator[Provider]:
    running_provider.reset()
    yield running_provider


@pytest.fixture
def sso_app(db: Database, cast: dict[str, Actor], provider: Provider) -> Iterator[Flask]:
    made = make_web_app(
        db, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
        oidc_name="Staffordshire Council account",
    )  # fmt: skip
    yield made
    made.extensions["dfg.database"].dispose()


def map_subject(db: Database, admin: Actor, username: str, provider: Provider) -> None:
    map_identity(db, admin, username, principal_for("oidc", f"{provider.issuer}|{provider.subject}"))


def go_through_provider(client: FlaskClient, provider: Provider, *, refuse: bool = False) -> str:
    """Start single sign-on and follow the browser to the provider and back: the callback's URL."""
    start = client.get("/sign-in/sso?next=/search")
    assert start.status_code == 302, start.get_data(as_text=True)
    authorize = urlsplit(start.headers["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == provider.issuer
    query = authorize.query + ("&error=1" if refuse else "")
    back = provider_app(provider).test_client().get(f"{authorize.path}?{query}")
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/sign-in/sso/callback"
    return f"{callback.path}?{callback.query}"


def sign_in_with_sso(client: FlaskClient, provider: Provider) -> TestResponse:
    return client.get(go_through_provider(client, provider))


def signed_in_as(client: FlaskClient) -> str | None:
    page = client.get("/search")
    if page.status_code != 200:
        assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
        return None
    return page.get_data(as_text=True)


# ------------------------------------------------------------------------------------ signing in


def test_a_mapped_subject_signs_in_as_its_user(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    map_subject(db, cast["admin"], "officer", provider)
    client = sso_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Staffordshire Council account" in page and 'name="password"' in page

    landed = sign_in_with_sso(client, provider)
    assert landed.status_code == 302 and landed.headers["Location"] == "/search"  # where they were going
    signed_in = signed_in_as(client)
    assert signed_in is not None and "Sign out" in signed_in and "officer" in signed_in.lower()

    # the flow was the code flow with PKCE (S256), a state and a nonce, asking for an ID token
    asked = provider.authorize_requests[-1]
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"] and "openid" in asked["scope"].split()
    assert asked["redirect_uri"] == "http://localhost/sign-in/sso/callback"
    # the session is a password sign-in's: the credential made (with no password) at epoch 1
    assert session_actor(db, cast["officer"].user_id, 1).username == "officer"


def test_signing_out_ends_a_single_sign_on_session(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    map_subject(db, cast["admin"], "officer", provider)
    client = sso_app.test_client()
    sign_in_with_sso(client, provider)
    page = client.get("/search").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(page)})
    assert signed_in_as(client) is None
    with pytest.raises(PermissionDenied):
        session_actor(db, cast["officer"].user_id, 1)
    sign_in_with_sso(client, provider)  # and back in, at the next epoch
    assert signed_in_as(client) is not None
    assert session_actor(db, cast["officer"].user_id, 2).username == "officer"


def test_an_unmapped_subject_is_told_who_to_ask_and_what_to_give_them(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    client = sso_app.test_client()
    refused = sign_in_with_sso(client, provider)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "Your account is not set up yet" in page and "Ask your administrator to link it" in page
    assert provider.issuer in page and SUBJECT in page and "jo.smith@council.example" in page
    assert f"dfg user map USER --oidc &#39;{provider.issuer}|{SUBJECT}&#39;</code>" in page
    assert signed_in_as(client) is None
    # what the page showed is what the administrator maps: then the same person signs in
    map_identity(db, cast["admin"], "approver", principal_for("oidc", f"{provider.issuer}|{SUBJECT}"))
    sign_in_with_sso(client, provider)
    assert signed_in_as(client) is not None


def test_the_email_address_proves_nothing(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    """A mapping names the subject: another subject with the same e-mail address is not that user."""
    map_subject(db, cast["admin"], "officer", provider)
    provider.subject = "someone-else-given-the-same-address"
    client = sso_app.test_client()
    assert sign_in_with_sso(client, provider).status_code == 403
    assert signed_in_as(client) is None


def test_a_deactivated_user_is_refused(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    map_subject(db, cast["admin"], "officer", provider)
    deactivate_user(db, cast["admin"], "officer", reason="Left the council")
    client = sso_app.test_client()
    refused = sign_in_with_sso(client, provider)
    assert refused.status_code == 403
    assert "Your account has been deactivated: ask your administrator." in refused.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_hostile_subject_is_shown_as_text(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    provider.subject = "<script>alert(1)</script>"
    client = sso_app.test_client()
    refused = sign_in_with_sso(client, provider)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "<script>alert" not in page and "&lt;script&gt;" in page
    provider.subject = "ü" * 10_000  # too long to be anyone's: refused, nothing written
    refused = sign_in_with_sso(sso_app.test_client(), provider)
    assert refused.status_code == 403 and "is not a single sign-on subject" in refused.get_data(as_text=True)
    assert not any(name.startswith("oidc:") for names in identities(db).values() for name in names)


# -------------------------------------------------------------------------- tokens that are refused


def _refused(sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider) -> None:
    client = sso_app.test_client()
    response = sign_in_with_sso(client, provider)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert "Sign-in was not completed" in response.get_data(as_text=True)
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "bend",
    [
        pytest.param(lambda p: setattr(p, "signing_key", RSAKey.generate_key(2048, parameters={"kid": "one"})),
                     id="signed-with-another-key"),
        pytest.param(lambda p: setattr(p, "audience", "another-application"), id="wrong-audience"),
        pytest.param(lambda p: (setattr(p, "audience", "another-application"),
                                p.extra_claims.update(azp=CLIENT_ID)), id="wrong-audience-with-our-azp"),
        pytest.param(lambda p: setattr(p, "nonce", "a-nonce-from-another-sign-in"), id="wrong-nonce"),
        pytest.param(lambda p: setattr(p, "token_issuer", "https://attacker.example"), id="wrong-issuer"),
        pytest.param(lambda p: setattr(p, "lifetime", -600), id="expired"),
    ],
)  # fmt: skip
def test_a_token_that_fails_a_check_is_refused(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider, bend: Callable[[Provider], None]
) -> None:
    map_subject(db, cast["admin"], "officer", provider)
    bend(provider)
    _refused(sso_app, db, cast, provider)


def test_a_mismatched_or_replayed_state_is_refused(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    map_subject(db, cast["admin"], "officer", provider)
    client = sso_app.test_client()
    callback = go_through_provider(client, provider)
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    forged = client.get(f"{path}?{urlencode({**params, 'state': 'forged-state'})}")
    assert forged.status_code == 401 and signed_in_as(client) is None

    # another browser given the callback (login CSRF): its session holds no such state
    victim = sso_app.test_client()
    assert victim.get(callback).status_code == 401 and signed_in_as(victim) is None

    callback = go_through_provider(client, provider)
    assert client.get(callback).status_code == 302 and signed_in_as(client) is not None
    again = sso_app.test_client()
    assert again.get(callback).status_code == 401  # the state is spent, and the code with it
    assert client.get(callback).status_code == 401


def test_a_sign_in_the_provider_refused_is_not_completed(
    sso_app: Flask, db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    map_subject(db, cast["admin"], "officer", provider)
    client = sso_app.test_client()
    response = client.get(go_through_provider(client, provider, refuse=True))
    assert response.status_code == 401 and signed_in_as(client) is None


def test_an_unreachable_provider_is_said_so(db: Database, cast: dict[str, Actor]) -> None:
    import socket

    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = make_web_app(db, oidc_issuer=f"http://127.0.0.1:{port}", oidc_client_id=CLIENT_ID,
                       oidc_client_secret=CLIENT_SECRET)  # fmt: skip
    response = app.test_client().get("/sign-in/sso")
    assert response.status_code == 503
    assert "could not be reached" in response.get_data(as_text=True)
    app.extensions["dfg.database"].dispose()


# ------------------------------------------------------------------------------------ configuration


def test_without_an_issuer_there_is_no_single_sign_on(app: Flask) -> None:
    client = app.test_client()
    assert "Sign in with" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/sign-in/sso").status_code == 404
    assert client.get("/sign-in/sso/callback?code=x&state=y").status_code == 404


def test_single_sign_on_only_turns_passwords_off(
    db: Database, cast: dict[str, Actor], provider: Provider
) -> None:
    app = make_web_app(db, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
                       oidc_client_secret=CLIENT_SECRET, oidc_only=True)  # fmt: skip
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with your council account" in page and 'name="password"' not in page
    app.config["WTF_CSRF_ENABLED"] = (
        False  # so that the post reaches the page (it has no form to take a token from)
    )
    give_password(db, cast["admin"], "officer")
    refused = client.post("/sign-in", data={"username": "officer", "password": PASSWORD})
    assert refused.status_code == 404 and signed_in_as(client) is None
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/invitation").status_code == 404
    assert client.get("/sign-in/code").status_code == 404
    map_subject(db, cast["admin"], "officer", provider)
    sign_in_with_sso(client, provider)
    assert signed_in_as(client) is not None
    app.extensions["dfg.database"].dispose()


def test_a_post_to_the_sign_in_page_needs_its_csrf_token_with_sso_on(sso_app: Flask) -> None:
    assert sso_app.test_client().post("/sign-in", data={"username": "a", "password": "b"}).status_code == 400


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Callable[..., WebSettings]:
    def settings_with(**values: str) -> WebSettings:
        monkeypatch.setenv("DFG_WEB_SECRET_KEY", "k" * 40)
        for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE", "NAME", "ONLY"):
            monkeypatch.delenv(f"DFG_WEB_OIDC_{name}", raising=False)
        for name, value in values.items():
            monkeypatch.setenv(f"DFG_WEB_OIDC_{name}", value)
        return WebSettings.from_environment("sqlite:///unused.sqlite")

    return settings_with


ENTRA = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"


def test_the_settings_come_from_the_environment(
    environment: Callable[..., WebSettings], tmp_path: Any
) -> None:
    assert not environment().single_sign_on
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    found = environment(ISSUER=ENTRA, CLIENT_ID="abc", CLIENT_SECRET_FILE=str(secret), NAME="  Staffs\tID ")
    assert (found.oidc_issuer, found.oidc_client_id, found.oidc_client_secret) == (
        ENTRA,
        "abc",
        "from-a-file",
    )
    assert found.oidc_name == "Staffs ID" and not found.oidc_only and "from-a-file" not in repr(found)
    assert environment(ISSUER=ENTRA, CLIENT_ID="abc", CLIENT_SECRET="s").oidc_name == "your council account"
    for bad, words in [
        (
            {"ISSUER": ENTRA, "CLIENT_ID": "abc"},
            "needs DFG_WEB_OIDC_CLIENT_ID and DFG_WEB_OIDC_CLIENT_SECRET",
        ),
        ({"ISSUER": "http://login.example/v2.0", "CLIENT_ID": "a", "CLIENT_SECRET": "s"}, "https://"),
        ({"ISSUER": "login.microsoftonline.com", "CLIENT_ID": "a", "CLIENT_SECRET": "s"}, "https://"),
        ({"ONLY": "1"}, "set DFG_WEB_OIDC_ISSUER too"),
        ({"ISSUER": ENTRA, "CLIENT_ID": "a", "CLIENT_SECRET_FILE": str(tmp_path / "none")}, "cannot read"),
    ]:
        with pytest.raises(ConfigurationError, match=words):
            environment(**bad)


# ------------------------------------------------------------------------------- the service alone


def test_the_service_maps_issuer_and_subject_to_one_user(db: Database, cast: dict[str, Actor]) -> None:
    issuer = "https://login.example/tenant/v2.0"
    with pytest.raises(NotMapped) as unmapped:
        check_sign_on(db, issuer, "abc")
    assert unmapped.value.map_command == f"dfg user map USER --oidc '{issuer}|abc'"
    map_identity(db, cast["admin"], "officer", principal_for("oidc", f"{issuer}|abc"))
    with pytest.raises(InvalidInput, match="is already mapped to 'officer': unmap it there first"):
        map_identity(db, cast["admin"], "approver", principal_for("oidc", f"{issuer}|abc"))
    checked = check_sign_on(db, issuer, "abc")
    assert (checked.username, checked.session_epoch, checked.second_factor) == ("officer", 1, False)
    with pytest.raises(NotMapped):
        check_sign_on(db, "https://login.example/other/v2.0", "abc")  # the same subject of another issuer
    for bad in (
        "no-bar",
        "|abc",
        "ftp://x|abc",
        f"{issuer}|",
        f"{issuer}|two words",
        f"{issuer}|{'a' * 300}",
    ):
        with pytest.raises(InvalidInput, match="is not a single sign-on subject"):
            principal_for("oidc", bad)


def test_the_account_page_offers_no_second_factor_when_the_council_signs_users_in(
    db: Database, cast: dict[str, Actor]
) -> None:
    from tests.web.conftest import give_password, make_web_app, sign_in

    give_password(db, cast["admin"], "officer")
    app = make_web_app(db)
    client = app.test_client()
    sign_in(client, "officer")
    only = make_web_app(
        db, oidc_issuer="https://login.example.test/tenant/v2.0", oidc_client_id="dfg", oidc_only=True
    )
    with only.test_client() as sso_client:
        sso_client.set_cookie("dfg_session", client.get_cookie("dfg_session").value)  # type: ignore[union-attr]
        page = sso_client.get("/account").get_data(as_text=True)
    assert "You sign in with your council account" in page and "setup-key" not in page
