"""Render the first page of each manager's report to docs/samples/reports/ (budget-1.png,
repayments-1.png, pipeline.png, performance.png, closures.png, data-return.png).

Run from the repository root after changing a report or the report stylesheet:

    .venv/bin/python tools/render_report_samples.py                  # a fresh demo database
    .venv/bin/python tools/render_report_samples.py --db sqlite:///dfg-demo.sqlite budget

The data is a demonstration database, as ``dfg demo`` makes it. ``--db`` names one already made;
without it one is made in a temporary folder with ``--cases`` per district and ``--seed`` (the demo's
own defaults close too few cases for the repayments report, and it dates its cases back from today, so
another day may need another seed). The demo records no decision on a disposal, so when the database
has none this records one on every closed case with a land charge, as the approver: demands in part,
waivers and demands in full in turn, with varied factors. Pages are rendered at 70 dpi, as the other
report samples are. Needs ``pdftoppm`` (Debian package poppler-utils).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "samples" / "reports"
MAX_BYTES = 150_000
#: Each report, and the name of its sample (the budget's and the repayments' say which page they are).
REPORTS = {
    "budget": "budget-1",
    "repayments": "repayments-1",
    "pipeline": "pipeline",
    "performance": "performance",
    "closures": "closures",
    "data-return": "data-return",
}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dfg.store.database import Database  # noqa: E402  (after the path is set)

#: The decisions recorded in turn: (decision, factors). A demand in part is for half, to the pound.
DECISIONS = (
    ("part", ["hardship"]),
    ("waive", ["care", "health"]),
    ("full", ["none"]),
    ("waive", ["employment"]),
)


def record_decisions(db: Database) -> int:
    """A decision on a disposal today for every closed case with a land charge, if there is none yet;
    how many were recorded."""
    from sqlalchemy import func, select

    from dfg.rules.clock import local_day, utcnow
    from dfg.services.identity import user_actor
    from dfg.services.land_charge import record_repayment_decision
    from dfg.store.models import CASES, LAND_CHARGES, REPAYMENT_DECISIONS

    with db.read_connection() as connection:
        if connection.scalar(select(func.count()).select_from(REPAYMENT_DECISIONS)):
            return 0
        charged = connection.execute(
            select(CASES.c.reference, LAND_CHARGES.c.repayable_pence)
            .join(LAND_CHARGES, LAND_CHARGES.c.case_id == CASES.c.id)
            .where(CASES.c.state == "closed")
            .order_by(CASES.c.reference)
        ).all()
    approver, today = user_actor(db, "approver"), local_day(utcnow())
    for number, (reference, repayable) in enumerate(charged):
        decision, factors = DECISIONS[number % len(DECISIONS)]
        amount = repayable // 200 * 100 if decision == "part" else None
        record_repayment_decision(
            db,
            approver,
            reference,
            disposal_on=today,
            decision=decision,
            amount_pence=amount,
            factors=factors,
            reason="Sample decision for the documentation",
        )
    return len(charged)


def render(db: Database, names: list[str], folder: Path) -> list[str]:
    """Each report's first page as a PNG in OUT; the names of those larger than MAX_BYTES."""
    from dfg.reports.budget import budget_report
    from dfg.reports.closures import closures
    from dfg.reports.data_return import data_return
    from dfg.reports.performance import performance
    from dfg.reports.pipeline import pipeline
    from dfg.reports.repayments import repayments
    from dfg.services.identity import user_actor

    manager = user_actor(db, "manager")
    makers: dict[str, Callable[..., Any]] = {
        "budget": budget_report,
        "repayments": repayments,
        "pipeline": pipeline,
        "performance": performance,
        "closures": closures,
        "data-return": data_return,
    }
    too_big = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        pdf = folder / f"{name}.pdf"
        pdf.write_bytes(makers[name](db, manager).as_pdf())
        png = OUT / f"{REPORTS[name]}.png"
        # -singlefile writes <prefix>.png for page 1 only.
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-singlefile", str(pdf), str(png.with_suffix(""))], check=True
        )
        size = png.stat().st_size
        print(f"{png.relative_to(ROOT)}  {size // 1000} KB")
        if size > MAX_BYTES:
            too_big.append(name)
    return too_big


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"Which reports: {', '.join(REPORTS)} (default: all)."
    )
    parser.add_argument("--db", help="A demo database already made by 'dfg demo' (default: make one).")
    parser.add_argument(
        "--cases", type=int, default=20, help="Cases per district in a new demo (default 20)."
    )
    parser.add_argument("--seed", type=int, default=24, help="The new demo's random seed (default 24).")
    given = parser.parse_args()
    unknown = [name for name in given.names if name not in REPORTS]
    if unknown:
        parser.error(f"no report {unknown[0]!r} (known: {', '.join(REPORTS)})")
    if shutil.which("pdftoppm") is None:
        print("pdftoppm not found: apt-get install poppler-utils", file=sys.stderr)
        return 1
    from dfg.services.demo import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(given.db or f"sqlite:///{Path(tmp) / 'demo.sqlite'}", check=False)
        try:
            if given.db is None:
                run_demo(db, per_district=given.cases, seed=given.seed)
            recorded = record_decisions(db)
            if recorded:
                print(f"recorded {recorded} repayment decision(s) for the sample", file=sys.stderr)
            too_big = render(db, given.names or list(REPORTS), Path(tmp))
        finally:
            db.dispose()
    if too_big:
        print(f"larger than {MAX_BYTES // 1000} KB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
