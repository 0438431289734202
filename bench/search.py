"""Benchmark: ``dfg case find`` against listing the same cases (``dfg case list``), in the same run.

Search matches in Python over the cases the list's filters leave (dfg.services.case_search), so its
cost is the list's plus reading the people and homes and folding their text. N cases in one district on
SQLite; CPU seconds, the median of the rounds.

    python bench/search.py               # 5,000 cases, 7 rounds
    python bench/search.py --cases 1000
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

from dfg.services.case_opening import NewCase, NewPerson, open_case  # noqa: E402
from dfg.services.case_reading import CaseFilter, list_cases  # noqa: E402
from dfg.services.case_search import find_cases  # noqa: E402
from dfg.services.identity import resolve_actor  # noqa: E402
from dfg.services.users import add_district, add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.store.migrate import upgrade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/search.sqlite")
        upgrade(db)
        add_user(db, None, username="admin", full_name="Admin", roles=["admin"])
        add_district(db, resolve_actor(db, "admin"), "CAN", "Cannock Chase")
        add_user(
            db, "admin", username="officer", full_name="Officer", roles=["grant_officer"], district="CAN"
        )
        officer = resolve_actor(db, "officer")
        for n in range(args.cases):
            person = NewPerson(title="Mrs", given_name=f"Given{n}", family_name=f"Family{n % 997}",
                               date_of_birth=date(1950, 1, 1), is_applicant=True, is_disabled_occupant=True)  # fmt: skip
            open_case(db, officer, NewCase(district="CAN", priority="non_urgent", tenure="owner",
                                           first_contact_date=date(2026, 1, 5), address_line_1=f"{n} Mill Lane",
                                           town="Cannock", postcode=f"WS11 {n % 10}AA", people=(person,)))  # fmt: skip
        listing, finding = [], []
        for _ in range(args.rounds):
            start = time.process_time()
            listed = list_cases(db, officer, CaseFilter(limit=10_000_000))
            listing.append(time.process_time() - start)
            start = time.process_time()
            found = find_cases(db, officer, "family42")
            finding.append(time.process_time() - start)
        assert len(listed) == args.cases and found
        db.dispose()
    lists, finds = statistics.median(listing), statistics.median(finding)
    print(f"{args.cases} cases: case list {lists * 1000:.0f} ms, case find {finds * 1000:.0f} ms, "
          f"{finds / lists:.2f}x the list")  # fmt: skip


if __name__ == "__main__":
    main()
