"""Single sign-on through OpenID Connect (a council's Entra ID, or any provider that publishes its
configuration): the authorization code flow with PKCE, through Authlib's Flask client.

Authlib keeps ``state``, ``nonce`` and the PKCE verifier in the signed session cookie between the two
requests, and checks the ID token's signature against the provider's published keys. The claims it
checks only when told are told here: the issuer must be the configured one and the audience this
application. Who the token proves is then the services' question (:func:`check_sign_on`): the issuer
and subject an administrator mapped to a user.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from dfg.errors import InvalidInput, PermissionDenied
from dfg.services.sign_in import NotMapped, check_sign_on
from dfg.web.security import begin_session, database, safe_next, settings
from dfg.web.settings import WebSettings

sso = Blueprint("sso", __name__)
log = logging.getLogger(__name__)

Page = str | Response | tuple[str, int]
_CLIENT = "dfg.oidc"
_NEXT = "sso_next"
LEEWAY_SECONDS = 60  # clocks differ a little between the provider and here; an expired token is refused
# A provider's keys and configuration answer quickly or not at all: a sign-in waits no longer than this
TIMEOUT_SECONDS = 10


@sso.record_once
def _register(state: BlueprintSetupState) -> None:
    """The provider's client, made once with the application (its configuration and keys are fetched on
    the first sign-in and kept)."""
    app, configured = state.app, state.app.extensions["dfg.settings"]
    if isinstance(app, Flask) and configured.single_sign_on:
        app.extensions[_CLIENT] = _client_for(app, configured)


def _client_for(app: Flask, configured: WebSettings) -> Any:
    issuer = str(configured.oidc_issuer)
    return OAuth(app).register(
        "council",
        client_id=configured.oidc_client_id,
        client_secret=configured.oidc_client_secret,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile email",
            "code_challenge_method": "S256",
            "timeout": TIMEOUT_SECONDS,
        },
    )


def _client() -> Any:
    client = current_app.extensions.get(_CLIENT)
    if client is None:
        abort(404)  # single sign-on is not set up here
    return client


@sso.route("/sign-in/sso")
def start() -> Page:
    client = _client()
    next_page = request.args.get("next")
    try:
        client.load_server_metadata()
    except (requests.RequestException, ValueError) as failure:
        log.warning("single sign-on: the identity provider's configuration could not be read: %s", failure)
        return _unavailable()
    session.pop(_NEXT, None)
    if next_page:
        session[_NEXT] = next_page
    scheme = "https" if settings().secure_cookies else "http"  # behind the TLS proxy, as registered
    response: Response = client.authorize_redirect(url_for("sso.callback", _external=True, _scheme=scheme))
    return response


@sso.route("/sign-in/sso/callback")
def callback() -> Page:
    client = _client()
    configured = settings()
    next_page = session.get(_NEXT)
    try:
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": configured.oidc_issuer},
                "aud": {
                    "essential": True,
                    "value": configured.oidc_client_id,
                },  # Authlib checks it only if told
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            leeway=LEEWAY_SECONDS,
        )
    except (AuthlibBaseError, JoseError) as refusal:
        log.warning("single sign-on refused: %s", refusal)
        return _refused()
    except (requests.RequestException, ValueError) as failure:
        log.warning("single sign-on: the identity provider could not be reached: %s", failure)
        return _unavailable()
    claims = token.get("userinfo")
    if not claims:  # the provider answered with no ID token
        log.warning("single sign-on refused: no ID token in the provider's answer")
        return _refused()
    try:
        checked = check_sign_on(database(), str(claims["iss"]), str(claims["sub"]))
    except NotMapped as unmapped:
        return render_template(
            "sso_not_mapped.html",
            title="Your account is not set up yet",
            issuer=claims["iss"],
            subject=claims["sub"],
            map_command=unmapped.map_command,
            known_as=claims.get("preferred_username") or claims.get("email"),
        ), 403
    except (PermissionDenied, InvalidInput) as refusal:
        return render_template(
            "sso_refused.html", title="You cannot sign in", problem="denied", message=refusal.message
        ), 403
    begin_session(checked)
    return redirect(safe_next(next_page))


def _refused() -> tuple[str, int]:
    return render_template("sso_refused.html", title="Sign-in was not completed", problem="refused"), 401


def _unavailable() -> tuple[str, int]:
    return render_template(
        "sso_refused.html", title="Sign-in is not available at the moment", problem="unavailable"
    ), 503
