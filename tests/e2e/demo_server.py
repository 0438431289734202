"""The browser application served for real: a demonstration database, waitress on a free loopback port
in a background thread, and fresh cases for journeys that change them.

Shared by the browser tests (tests/e2e/conftest.py) and tools/render_web_samples.py, so the sample
pictures show exactly what the tests drive.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from waitress.server import TcpWSGIServer, create_server

from dfg.services.case_opening import open_case
from dfg.services.case_reading import CaseFilter, list_cases
from dfg.services.database import Database, open_database
from dfg.services.demo import run_demo
from dfg.services.identity import user_actor
from dfg.services.sign_in import DEMO_PASSWORD
from dfg.web import create_app
from dfg.web.settings import WebSettings
from dfg.workflow.actor import Actor
from tests.conftest import sample_case

#: The demonstration users' password (``dfg demo`` gives every user it)
PASSWORD = DEMO_PASSWORD


@dataclass
class DemoSite:
    """A running server over a demonstration database."""

    url: str
    database: Database
    #: The open Cannock case the demo walked furthest: history, clocks and letters to show
    walked: str
    _postcodes: Iterator[str] = field(
        default_factory=lambda: (
            f"WS12 {n}{a}{b}" for n in range(1, 10) for a, b in itertools.product("ABDEFGHJ", "QRSTUWXYZ")
        )
    )

    def actor(self, username: str) -> Actor:
        return user_actor(self.database, username)

    def fresh_case(self, by: str = "can.officer") -> tuple[str, str]:
        """A new Cannock case at referral with a postcode no other case has: (reference, postcode)."""
        postcode = next(self._postcodes)
        reference = open_case(self.database, self.actor(by), sample_case("CAN", postcode=postcode))
        return reference, postcode


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the page, as a person would, and wait for the page it lands on."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@contextmanager
def demo_site(folder: Path, *, per_district: int = 2, seed: int = 2026) -> Iterator[DemoSite]:
    """A demonstration database in ``folder`` (``per_district`` walked cases in each district) served by
    waitress on 127.0.0.1 at a port the system chooses; stopped and closed on leaving."""
    path = folder / "dfg-e2e.sqlite"
    database = open_database(str(path), check=False)
    run_demo(database, per_district=per_district, seed=seed)
    cannock = list_cases(database, user_actor(database, "can.officer"), CaseFilter(closed=False))
    walked = max(cannock, key=lambda case: case.stage or 0).reference
    settings = WebSettings(database=str(path), secret_key=secrets.token_urlsafe(48), secure_cookies=False)
    app = create_app(settings)
    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="dfg-e2e")
    assert isinstance(server, TcpWSGIServer)  # one address, so one server
    port: int = server.effective_port  # type: ignore[attr-defined]  # the stubs omit it
    thread = threading.Thread(target=server.run, name="dfg-e2e-server", daemon=True)
    thread.start()
    try:
        yield DemoSite(f"http://127.0.0.1:{port}", database, walked)
    finally:
        _stop(server)
        thread.join(timeout=10)
        app.extensions["dfg.database"].dispose()
        database.dispose()


def _stop(server: TcpWSGIServer) -> None:
    """Waitress has no stop for a server run in a thread: close every channel (its loop ends when none
    is left) and then the worker threads."""
    logging.getLogger("waitress").setLevel(logging.CRITICAL)  # closing its sockets is not news
    channels: dict[int, Any] = server._map  # type: ignore[attr-defined]  # its socket map
    while channels:
        for channel in list(channels.values()):
            channel.handle_close()
    server.task_dispatcher.shutdown()
