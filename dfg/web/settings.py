"""The browser application's settings, read once from the environment when the application is made.

Everything a worker needs is here or in the database, so any number of workers on any number of machines
can serve one PostgreSQL database: they share ``DFG_DB`` and ``DFG_WEB_SECRET_KEY`` and nothing else.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dfg.errors import ConfigurationError


@dataclass(frozen=True)
class WebSettings:
    #: The database (a SQLite path or a PostgreSQL URL); None: ``DFG_DB`` or ./dfg.sqlite.
    database: str | None
    #: Signs the session cookies: the same on every worker, kept secret, at least 32 characters.
    secret_key: str = field(repr=False)
    #: Cookies only over HTTPS. Off only for ``dfg serve`` on this machine's loopback address.
    secure_cookies: bool = True
    #: A session with no request for this long ends (the user signs in again).
    idle_timeout: timedelta = timedelta(minutes=30)
    #: A session ends this long after signing in, however busy.
    longest_session: timedelta = timedelta(hours=10)
    #: The council or county named in the header for users of every district, and before signing in.
    service_owner: str | None = None
    #: Single sign-on (OpenID Connect): the identity provider's issuer; None turns single sign-on off.
    oidc_issuer: str | None = None
    #: The application's client id and secret, as registered with the identity provider.
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    #: The words on the button: "Sign in with <name>".
    oidc_name: str = "your council account"
    #: Passwords turned off: everyone signs in through the identity provider.
    oidc_only: bool = False

    @property
    def single_sign_on(self) -> bool:
        return self.oidc_issuer is not None

    @classmethod
    def from_environment(
        cls, database: str | None = None, *, secure_cookies: bool | None = None
    ) -> WebSettings:
        """``DFG_DB``, ``DFG_WEB_SECRET_KEY`` (or ``DFG_WEB_SECRET_FILE``, a file holding it),
        ``DFG_WEB_INSECURE_COOKIES=1`` (plain HTTP on loopback only), ``DFG_WEB_IDLE_MINUTES``,
        ``DFG_WEB_SERVICE_OWNER``, and single sign-on's ``DFG_WEB_OIDC_ISSUER``, ``DFG_WEB_OIDC_CLIENT_ID``,
        ``DFG_WEB_OIDC_CLIENT_SECRET`` (or ``DFG_WEB_OIDC_CLIENT_SECRET_FILE``), ``DFG_WEB_OIDC_NAME`` and
        ``DFG_WEB_OIDC_ONLY=1``."""
        key = os.environ.get("DFG_WEB_SECRET_KEY") or _read_secret_file(os.environ.get("DFG_WEB_SECRET_FILE"))
        if not key:
            raise ConfigurationError(
                "set DFG_WEB_SECRET_KEY (the same long random value on every worker) or DFG_WEB_SECRET_FILE; "
                "'dfg serve' makes one for a single machine"
            )
        if len(key) < 32:
            raise ConfigurationError("DFG_WEB_SECRET_KEY must be at least 32 characters")
        if secure_cookies is None:
            secure_cookies = os.environ.get("DFG_WEB_INSECURE_COOKIES") != "1"
        idle = os.environ.get("DFG_WEB_IDLE_MINUTES", "30")
        if not idle.isdigit() or not 1 <= int(idle) <= 600:
            raise ConfigurationError(
                f"DFG_WEB_IDLE_MINUTES must be a whole number of minutes, 1 to 600, not {idle!r}"
            )
        return cls(
            database=database or os.environ.get("DFG_DB"),
            secret_key=key,
            secure_cookies=secure_cookies,
            idle_timeout=timedelta(minutes=int(idle)),
            service_owner=os.environ.get("DFG_WEB_SERVICE_OWNER") or None,
            **_single_sign_on(),
        )


def _single_sign_on() -> dict[str, Any]:
    """The single sign-on settings, each checked: all three of issuer, client id and secret, or none."""
    issuer = os.environ.get("DFG_WEB_OIDC_ISSUER", "").strip() or None  # exactly as the tokens name it
    only = os.environ.get("DFG_WEB_OIDC_ONLY") == "1"
    if issuer is None:
        if only:
            raise ConfigurationError("DFG_WEB_OIDC_ONLY=1 turns passwords off: set DFG_WEB_OIDC_ISSUER too")
        return {}
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ConfigurationError(
            "DFG_WEB_OIDC_ISSUER must be the identity provider's https:// address, for example "
            f"https://login.microsoftonline.com/<tenant>/v2.0, not {issuer!r}"
        )
    client_id = os.environ.get("DFG_WEB_OIDC_CLIENT_ID", "").strip()
    secret = os.environ.get("DFG_WEB_OIDC_CLIENT_SECRET") or _read_secret_file(
        os.environ.get("DFG_WEB_OIDC_CLIENT_SECRET_FILE"), "DFG_WEB_OIDC_CLIENT_SECRET_FILE"
    )
    if not client_id or not secret:
        raise ConfigurationError(
            "single sign-on needs DFG_WEB_OIDC_CLIENT_ID and DFG_WEB_OIDC_CLIENT_SECRET "
            "(or DFG_WEB_OIDC_CLIENT_SECRET_FILE) as well as DFG_WEB_OIDC_ISSUER"
        )
    name = " ".join(os.environ.get("DFG_WEB_OIDC_NAME", "").split())[:60]
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": client_id,
        "oidc_client_secret": secret,
        "oidc_name": name or "your council account",
        "oidc_only": only,
    }


def _read_secret_file(path: str | None, setting: str = "DFG_WEB_SECRET_FILE") -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as error:
        raise ConfigurationError(f"cannot read {setting}: {error.strerror}") from None


def secret_beside(database_file: Path) -> str:
    """The secret key kept beside a single machine's SQLite file (made on first use, readable by its
    owner only), so that ``dfg serve`` needs no setting and sessions outlive a restart."""
    path = database_file.with_name(database_file.name + ".web-secret")
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
