"""Benchmark: the browser application's server time for My work, Search and the case page, each against
a bare page rendering the same layout for the same signed-in user, in the same run; and a page's weight.

The population is ``bench/population.py``'s (with its event logs, so clocks and histories are real); the
user is a grant officer of Cannock Chase (about an eighth of the cases). Requests go through the WSGI
application in this process (Flask's test client: the server's own time, no network), one at a time,
alternating the pages round by round; wall-clock milliseconds, median and 95th percentile.

    python bench/web.py                      # 20,000 cases on SQLite, 41 rounds
    python bench/web.py --cases 1000000      # the issue's population (building it takes a while)
    python bench/web.py --db postgresql+psycopg://postgres@127.0.0.1:5432/dfg_bench_web
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Blueprint, Flask, render_template  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from population import build  # noqa: E402  (run as a script: bench/ is on the path)
from sqlalchemy import text  # noqa: E402

from dfg.services.identity import user_actor  # noqa: E402
from dfg.services.sign_in import accept_invitation, invite  # noqa: E402
from dfg.services.users import add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.web import create_app  # noqa: E402
from dfg.web.settings import WebSettings  # noqa: E402

PASSWORD = "benchmark password 2026"


def _bare_page() -> Blueprint:
    """The floor: the same layout, signed in (the session checked against the database), no data."""
    bare = Blueprint("bare", __name__)

    @bare.route("/bench/bare")
    def page() -> str:
        return render_template("layout.html", title="Bare")

    return bare


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    landed = client.post(
        "/sign-in", data={"username": "bench.can", "password": PASSWORD, "csrf_token": token}
    )
    assert landed.status_code == 302, landed.get_data(as_text=True)[:500]
    return client


def _timed(client: FlaskClient, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed * 1000


def _fetched(client: FlaskClient, path: str, headers: dict[str, str]) -> bytes:
    with client.get(path, headers=headers) as response:
        return response.get_data()


def _summary(name: str, times: list[float], floor: float) -> str:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name:<12} median {median:7.1f} ms  p95 {p95:7.1f} ms  {median / floor:6.1f}x the bare page"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--db", help="an empty PostgreSQL database's URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/web.sqlite"
        db = Database(url)
        start = time.perf_counter()
        build(db, args.cases, today=date(2026, 12, 1), events=True)
        print(f"{args.cases:,} cases built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        add_user(
            db,
            "admin",
            username="bench.can",
            full_name="Bench Officer",
            roles=["grant_officer"],
            district="CAN",
        )
        accept_invitation(db, invite(db, user_actor(db, "admin"), "bench.can").code, PASSWORD)
        with db.read_connection() as connection:
            case_id, reference, postcode = connection.execute(
                text(
                    "SELECT c.id, c.reference, p.postcode FROM cases c JOIN properties p ON p.id = c.property_id "
                    "WHERE c.district_code = 'CAN' ORDER BY c.audit_seq DESC, c.id LIMIT 1"
                )
            ).one()
        app = create_app(WebSettings(database=url, secret_key="b" * 48, secure_cookies=False))
        app.register_blueprint(_bare_page())
        client = _signed_in(app)
        pages: dict[str, str] = {
            "bare": "/bench/bare",
            "my work": "/work?mine=0",
            "search": f"/search?q={postcode.replace(' ', '+')}",
            # the applicant's family name (population.py's "Applicant N"), and a part of it (N's first digits)
            "search name": f"/search?q=applicant+{case_id}",
            "search part": f"/search?q=plicant+{str(case_id)[:-1]}",
            "case page": f"/cases/{reference}",
        }
        times: dict[str, list[float]] = {name: [] for name in pages}
        first = {name: _timed(client, page) for name, page in pages.items()}  # warm: templates compiled, ...
        print(
            f"first requests (templates compiled, statements prepared; My work works out the district's next "
            f"due days): {', '.join(f'{name} {ms:.0f} ms' for name, ms in first.items())}",
            file=sys.stderr,
        )
        for _ in range(args.rounds):
            for name, page in pages.items():
                times[name].append(_timed(client, page))
        floor = statistics.median(times["bare"])
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{args.cases:,} cases on {backend}, {args.rounds} rounds (district CAN, case {reference}):")
        for name in pages:
            print(_summary(name, times[name], floor))
        html = client.get(f"/cases/{reference}").get_data()
        assets = ["/assets/govuk/govuk-frontend.min.css", "/assets/dfg.css", "/assets/govuk/govuk-frontend.min.js",
                  "/assets/dfg.js"]  # fmt: skip
        plain = sum(len(_fetched(client, path, {})) for path in assets)
        sent = sum(len(_fetched(client, path, {"Accept-Encoding": "gzip"})) for path in assets)
        print(
            f"case page weight: HTML {len(html) / 1024:.0f} KB + CSS and JS {plain / 1024:.0f} KB = "
            f"{(len(html) + plain) / 1024:.0f} KB; as sent to a browser that accepts gzip (the assets are served "
            f"gzipped, the page is not): {(len(html) + sent) / 1024:.0f} KB; fonts not counted (cached, 54 KB each)"
        )
        app.extensions["dfg.database"].dispose()
        db.dispose()


if __name__ == "__main__":
    main()
