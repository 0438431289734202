"""Load: signed-in sessions at once against two WSGI worker processes sharing one PostgreSQL database.

Each session signs in once, then for the whole run repeats what an officer does most: opens My work,
searches, opens a case, and adds a note to it (a write, version-checked against the other sessions on
the same few cases). Reported: requests, throughput, errors (any 5xx, or a page that is not the one
asked for), conflicts (a note refused because another session saved the case first: shown to the user,
never lost), and lost updates (notes acknowledged with "Note added." but missing from the database).

    python bench/web_load.py --db postgresql+psycopg://postgres@127.0.0.1:5432/dfg_bench_load
    python bench/web_load.py --db ... --sessions 20 --seconds 60 --cases 2000
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from population import build  # noqa: E402  (run as a script: bench/ is on the path)
from sqlalchemy import text  # noqa: E402

from dfg.services.identity import user_actor  # noqa: E402
from dfg.services.sign_in import accept_invitation, invite  # noqa: E402
from dfg.services.users import add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402

PASSWORD = "load test password 2026"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Tally:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    notes_added: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Session:
    """One person's browser: a cookie jar over one keep-alive connection to one worker."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        page = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("dfg_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", page


def _worker(port: int, url: str, key: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DFG_DB": url, "DFG_WEB_SECRET_KEY": key, "DFG_WEB_INSECURE_COOKIES": "1",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "waitress", "--threads", "4", f"--listen=127.0.0.1:{port}", "--call",
         "dfg.web:create_app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait_for(port: int) -> None:
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/sign-in")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the worker on port {port} did not start")


def _session_loop(
    n: int, port: int, username: str, cases: list[tuple[str, str]], until: float, tally: Tally
) -> None:
    browser = Session(port)
    status, _, page = browser.request("GET", "/sign-in")
    token = _TOKEN.search(page)
    assert token, "no CSRF token on the sign-in page"
    status, where, _ = browser.request(
        "POST", "/sign-in", {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if status != 302 or where != "/work":
        tally.errors.append(f"session {n}: sign-in answered {status} {where}")
        return
    round_number = 0
    while time.monotonic() < until:
        reference, postcode = cases[(n + round_number) % len(cases)]
        round_number += 1
        steps = [
            ("GET", "/work?mine=0", "My work"),
            ("GET", f"/search?q={urllib.parse.quote(postcode)}", "found"),
            ("GET", f"/cases/{reference}", reference),
            ("GET", f"/cases/{reference}/notes", "Add a note"),
        ]
        for method, path, expected in steps:
            status, _, page = browser.request(method, path)
            with tally.lock:
                tally.requests += 1
                if status != 200 or expected not in page:
                    tally.errors.append(f"{method} {path}: {status}")
        token = _TOKEN.search(page)
        note = {"contact": "call", "party": "applicant", "summary": f"load {n}-{round_number}",
                "csrf_token": token.group(1) if token else ""}  # fmt: skip
        status, where, page = browser.request("POST", f"/cases/{reference}/notes", note)
        if status == 302:
            status, _, page = browser.request("GET", where)
        with tally.lock:
            tally.requests += 1
            if status == 200 and "Note added." in page:
                tally.notes_added += 1
            elif status == 422 and "changed" in page:
                tally.conflicts += 1
            else:
                tally.errors.append(f"POST note: {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an empty PostgreSQL database's URL")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--shared-cases", type=int, default=10, help="cases the sessions write notes on")
    args = parser.parse_args()
    db = Database(args.db)
    build(db, args.cases, today=date(2026, 12, 1), events=True)
    admin = user_actor(db, "admin")
    users = [f"load.{n:02d}" for n in range(args.sessions)]
    for username in users:
        add_user(db, "admin", username=username, full_name=username, roles=["grant_officer"], district="CAN")
        accept_invitation(db, invite(db, admin, username).code, PASSWORD)
    with db.read_connection() as connection:
        cases = [
            (r.reference, r.postcode)
            for r in connection.execute(
                text(
                    "SELECT c.reference, p.postcode FROM cases c JOIN properties p ON p.id = c.property_id "
                    "WHERE c.district_code = 'CAN' ORDER BY c.id DESC LIMIT :n"
                ),
                {"n": args.shared_cases},
            )
        ]
        notes_before = connection.scalar(text("SELECT count(*) FROM events WHERE kind = 'note_recorded'"))
    key = secrets.token_urlsafe(48)
    ports = [8811, 8812]
    workers = [_worker(port, args.db, key) for port in ports]
    try:
        for port in ports:
            _wait_for(port)
        tally = Tally()
        start = time.monotonic()
        until = start + args.seconds
        threads = [
            threading.Thread(target=_session_loop, args=(n, ports[n % 2], users[n], cases, until, tally))
            for n in range(args.sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait()
    with db.read_connection() as connection:
        notes_after = connection.scalar(text("SELECT count(*) FROM events WHERE kind = 'note_recorded'"))
    db.dispose()
    lost = tally.notes_added - (notes_after - notes_before)
    print(
        f"{args.sessions} sessions, 2 workers x 4 threads, {elapsed:.0f} s, {args.cases:,} cases on PostgreSQL: "
        f"{tally.requests:,} requests ({tally.requests / elapsed:.1f}/s), {len(tally.errors)} errors, "
        f"{tally.conflicts} conflicts shown, {tally.notes_added} notes added, {lost} lost updates"
    )
    for error in tally.errors[:10]:
        print(f"  {error}")


if __name__ == "__main__":
    main()
