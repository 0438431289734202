"""Benchmark: ``dfg import cases`` of a spreadsheet of N referrals, against a plain ``executemany`` of the
same rows into the same tables (a home, a case and its applicant for each row), in the same run.

The import (dfg.services.case_import) reads the file, checks every row as opening one case checks it
(against the open cases of the district, and against the rows above it), then opens every case in one
transaction with its search terms and its sealed, hash-chained first event. The baseline inserts the
rows' values alone: no checks, no events, no index. Both write to a new SQLite file (or a new
PostgreSQL database); wall-clock seconds, the baseline first, then the import, each measured once per
round, the median of the rounds.

    python bench/import_cases.py                   # 10,000 rows, 3 rounds
    python bench/import_cases.py --rows 100000 --rounds 1
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from dfg.services.case_import import import_cases, read_case_rows  # noqa: E402
from dfg.services.identity import user_actor  # noqa: E402
from dfg.services.users import add_district, add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.store.migrate import upgrade  # noqa: E402
from dfg.store.tables import CASES, EVENTS, PEOPLE, PERSONAL_VALUES, PROPERTIES, SEARCH_TERMS  # noqa: E402

HEADER = ["district", "tenure", "address", "town", "postcode", "title", "given_name", "family_name",
          "date_of_birth", "first_contact", "source"]  # fmt: skip


def _row(n: int) -> list[str]:
    return ["CAN", "owner", f"{n} Mill Lane", "Cannock", f"WS11 {n % 10}{'ABDEFGHJLN'[n // 10 % 10]}"
            f"{'PQRSTUWXYZ'[n // 100 % 10]}", "Mrs", f"Margaret{n}", "Holt", f"{1940 + n % 40}-0{1 + n % 9}-1{n % 9}",
            "2026-11-02", "county OT"]  # fmt: skip


def _database(url: str) -> tuple[Database, object]:
    db = Database(url)
    upgrade(db)
    add_user(db, None, username="admin", full_name="Admin", roles=["admin"])
    add_district(db, user_actor(db, "admin"), "CAN", "Cannock Chase")
    add_user(db, "admin", username="officer", full_name="Officer", roles=["grant_officer"], district="CAN")
    return db, user_actor(db, "officer")


def _plain(db: Database, rows: list[list[str]]) -> float:
    """The same rows' values into the same tables, three executemany statements in one transaction."""
    now = datetime.now(UTC)
    start = time.perf_counter()
    with db.write_connection() as connection:
        first = connection.scalar(select(PROPERTIES.c.id).order_by(PROPERTIES.c.id.desc()).limit(1)) or 0
        connection.execute(
            insert(PROPERTIES),
            [{"id": first + i, "address_line_1": r[2], "town": r[3], "postcode": r[4], "district_code": r[0]}
             for i, r in enumerate(rows, start=1)],
        )  # fmt: skip
        connection.execute(
            insert(CASES),
            [{"id": first + i, "reference": f"CAN-2026-P{i:06d}", "district_code": r[0], "property_id": first + i,
              "workflow_version": "dfg@1", "state": "referral", "priority": "non_urgent", "tenure": r[1],
              "first_contact_date": date.fromisoformat(r[9]), "referral_source": r[10], "audit_seq": 0,
              "audit_head": "", "version": 1, "created_at": now, "updated_at": now}
             for i, r in enumerate(rows, start=1)],
        )  # fmt: skip
        connection.execute(
            insert(PEOPLE),
            [{"case_id": first + i, "title": r[5], "given_name": r[6], "family_name": r[7], "is_applicant": True,
              "is_disabled_occupant": True, "is_relevant_person": True,
              "date_of_birth": date.fromisoformat(r[8])}
             for i, r in enumerate(rows, start=1)],
        )  # fmt: skip
    return time.perf_counter() - start


#: Every table an import writes, in an order their foreign keys allow.
WRITTEN = (PROPERTIES, CASES, PEOPLE, SEARCH_TERMS, EVENTS, PERSONAL_VALUES)


def _written_again(imported: Database, fresh: Database) -> float:
    """Every row the import wrote (homes, cases, people, search terms, events, personal values), read
    back and written into a fresh database with one executemany a table in one transaction: the floor of
    writing what the import writes, without reading, checking, sealing or hashing anything."""
    with imported.read_connection() as connection:
        rows = {
            table: [
                {k: v for k, v in r._mapping.items() if not (table is EVENTS and k == "id")}
                for r in connection.execute(
                    select(table).where(EVENTS.c.case_id.is_not(None)) if table is EVENTS else select(table)
                )
            ]
            for table in WRITTEN
        }  # the case streams' events only: the fresh database has its own users' and districts'

    start = time.perf_counter()
    with fresh.write_connection() as connection:
        for table, values in rows.items():
            if values:
                connection.execute(insert(table), values)
    return time.perf_counter() - start


def _imported(db: Database, officer: object, path: Path) -> float:
    start = time.perf_counter()
    report = import_cases(db, officer, read_case_rows(path))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert not report.problems and len(report.opened) == report.rows, report.problems[:3]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server's URL, without the database (default: SQLite)")
    args = parser.parse_args()
    plain: list[float] = []
    ours: list[float] = []
    again: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "referrals.csv"
        with path.open("w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([HEADER, *(_row(n) for n in range(1, args.rows + 1))])
        rows = read_case_rows(path)[1:]
        for round_ in range(args.rounds):
            url = f"sqlite:///{folder}/import-{round_}.sqlite"
            base = f"sqlite:///{folder}/plain-{round_}.sqlite"
            copy = f"sqlite:///{folder}/again-{round_}.sqlite"
            if args.db:
                from sqlalchemy import create_engine, text

                server = create_engine(f"{args.db}/postgres", isolation_level="AUTOCOMMIT")
                with server.connect() as connection:
                    for name in (
                        f"dfg_bench_import_{round_}",
                        f"dfg_bench_plain_{round_}",
                        f"dfg_bench_again_{round_}",
                    ):
                        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                        connection.execute(text(f"CREATE DATABASE {name}"))
                server.dispose()
                url, base = f"{args.db}/dfg_bench_import_{round_}", f"{args.db}/dfg_bench_plain_{round_}"
                copy = f"{args.db}/dfg_bench_again_{round_}"
            plain.append(_plain(_database(base)[0], [[str(v) for v in r] for r in rows]))
            imported = _database(url)
            ours.append(_imported(*imported, path))
            again.append(_written_again(imported[0], _database(copy)[0]))
            print(f"round {round_ + 1}: plain {plain[-1]:.2f} s, import {ours[-1]:.2f} s, "
                  f"every row written again {again[-1]:.2f} s", file=sys.stderr)  # fmt: skip
    p, o, a = statistics.median(plain), statistics.median(ours), statistics.median(again)
    print(f"{args.rows:,} rows: executemany of the sheet's values {p:.2f} s, of every row the import writes "
          f"{a:.2f} s; dfg import cases {o:.2f} s: {o / p:.1f}x and {o / a:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
