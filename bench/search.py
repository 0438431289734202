"""Benchmark: ``dfg case find`` against listing a page of the same user's cases (``dfg case list``, 200
cases), in the same run, by what is searched for.

Search matches in the database (dfg.services.case_search): whole terms through ``search_terms``' index,
parts of names and addresses through the database's trigram index (FTS5 on SQLite, pg_trgm on
PostgreSQL). The population is ``bench/population.py``'s, inserted in bulk with its search terms (no
event logs: a search reads none); the user is a grant officer of Cannock Chase (about an eighth of the
cases). Wall-clock milliseconds, the median of the rounds, each query in turn.

    python bench/search.py                     # 20,000 cases on SQLite, 21 rounds
    python bench/search.py --cases 1000000
    python bench/search.py --db postgresql+psycopg://postgres@127.0.0.1:5432/dfg_bench_search
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from population import build  # noqa: E402  (run as a script: bench/ is on the path)
from sqlalchemy import text  # noqa: E402

from dfg.services.case_reading import CaseFilter, list_cases  # noqa: E402
from dfg.services.case_search import find_cases  # noqa: E402
from dfg.services.identity import user_actor  # noqa: E402
from dfg.services.users import add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402


def _median_ms(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


#: The same lookups as hand-written SQL on the same index (no ranking, no access record, no case rows):
#: the floor of each search.
_WHOLE = (
    "SELECT DISTINCT t.case_id FROM search_terms t JOIN cases c ON c.id = t.case_id "
    "WHERE t.kind IN ({kinds}) AND t.term = :term AND c.district_code = 'CAN' LIMIT 200"
)


def _hand_written(sqlite: bool) -> dict[str, tuple[str, Callable[[str], str]]]:
    from dfg.rules.search_text import compact, folded

    # the pattern bound whole, as the search binds it: a pattern built in SQL hides it from the planner
    part = (
        "t.id IN (SELECT rowid FROM search_terms_text WHERE term GLOB :term)"
        if sqlite
        else "t.term LIKE :term"
    )
    around = "*{}*" if sqlite else "%{}%"
    return {
        "reference": (_WHOLE.format(kinds="'reference'"), compact),
        "postcode": (_WHOLE.format(kinds="'postcode'"), compact),
        "name": (_WHOLE.format(kinds="'name', 'titled', 'family'"), folded),
        "part of a name": (
            "SELECT DISTINCT t.case_id FROM search_terms t JOIN cases c ON c.id = t.case_id "
            f"WHERE t.kind IN ('titled', 'address') AND {part} AND c.district_code = 'CAN' LIMIT 200",
            lambda words: around.format(folded(words)),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--db", help="an empty PostgreSQL database's URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/search.sqlite"
        db = Database(url)
        start = time.perf_counter()
        build(db, args.cases, today=date(2026, 12, 1))
        print(f"{args.cases:,} cases built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        add_user(db, "admin", username="bench.can", full_name="Bench Officer", roles=["grant_officer"],
                 district="CAN")  # fmt: skip
        officer = user_actor(db, "bench.can")
        with db.read_connection() as connection:
            if not db.is_sqlite:
                connection.exec_driver_sql("ANALYZE")
            case_id, reference, postcode = connection.execute(
                text(
                    "SELECT c.id, c.reference, p.postcode FROM cases c JOIN properties p ON p.id = c.property_id "
                    "WHERE c.district_code = 'CAN' ORDER BY c.id DESC LIMIT 1"
                )
            ).one()
        queries = {
            "reference": reference,
            "postcode": postcode,
            "name": f"applicant {case_id}",  # population.py's applicants are "Synthetic Applicant N"
            "part of a name": f"plicant {str(case_id)[:-1]}",  # N without its last digit: about 11 cases
            "part of a postcode": postcode[:4],  # the outward code: a fifth of the district
        }
        by_hand = _hand_written(db.is_sqlite)
        listing = _median_ms(lambda: list_cases(db, officer, CaseFilter()), args.rounds)
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{args.cases:,} cases on {backend}, {args.rounds} rounds (district CAN):")
        print(f"{'case list (200)':<20} median {listing:7.1f} ms")
        for name, words in queries.items():
            found = len(find_cases(db, officer, words))
            ms = _median_ms(lambda words=words: find_cases(db, officer, words), args.rounds)  # type: ignore[misc]
            line = f"{'find ' + name:<20} median {ms:7.1f} ms  {ms / listing:5.2f}x the list  ({found} found)"
            if name in by_hand:
                sql, term = by_hand[name]
                wanted = term(words)

                def hand(sql: str = sql, wanted: str = wanted) -> object:
                    with db.read_connection() as connection:
                        return connection.execute(text(sql), {"term": wanted}).all()

                raw = _median_ms(hand, args.rounds)
                line += f"; by hand {raw:.1f} ms ({len(hand())} found)"  # type: ignore[arg-type]
            print(line)
        db.dispose()


if __name__ == "__main__":
    main()
