"""The browser application: a second face beside the command line, over the same services.

``create_app()`` is a WSGI application for any server (``dfg serve`` runs it with waitress). It keeps no
state between requests: the signed session cookie says who is signed in, the database says everything
else, so several workers or machines can serve one PostgreSQL database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from dfg.web.settings import WebSettings

__all__ = ["create_app"]


def create_app(settings: WebSettings | None = None) -> Flask:
    """The application, configured by ``settings`` (default: from the environment, see
    :class:`~dfg.web.settings.WebSettings`)."""
    from dfg.web.app import make_app
    from dfg.web.settings import WebSettings

    return make_app(settings or WebSettings.from_environment())
