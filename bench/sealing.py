"""Benchmark: what sealing personal values out of the hash chain costs (dfg.store.personal).

The same engine in the same run, with sealing on and with it switched off (``seal`` replaced by one that
leaves the values in the event, as format 1 did), alternating so both see the same machine: open N cases
(three personal values each and a priority reason), accept each, cancel each with a reason, verify the
trail. CPU seconds (``time.process_time``), the median of the rounds; the ratio is what counts.

    python bench/sealing.py              # 1,000 cases x 5 rounds, prints a Markdown table
    python bench/sealing.py --cases 200 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dfg.store.audit as audit  # noqa: E402
import dfg.store.personal as personal  # noqa: E402
from dfg.services.audit import verify_audit  # noqa: E402
from dfg.services.case_opening import NewCase, NewPerson, open_case  # noqa: E402
from dfg.services.cases import advance  # noqa: E402
from dfg.services.identity import resolve_actor  # noqa: E402
from dfg.services.users import add_district, add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.store.migrate import upgrade  # noqa: E402
from dfg.store.personal import Sealed  # noqa: E402
from dfg.workflow.guards import TriggerInput  # noqa: E402

PHASES = ("open", "accept", "cancel with a reason", "verify")


@contextmanager
def sealing(on: bool) -> Iterator[None]:
    real = personal.seal

    def in_the_clear(payload: Mapping[str, Any], reason: str | None, **_: Any) -> Sealed:
        return Sealed(payload=payload, reason=reason)

    # the chain calls seal() by the name it imported
    setattr(audit, "seal", real if on else in_the_clear)  # noqa: B010
    try:
        yield
    finally:
        setattr(audit, "seal", real)  # noqa: B010


def one_round(cases: int, folder: Path) -> dict[str, float]:
    path = folder / f"bench-{time.monotonic_ns()}.sqlite"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    add_user(db, None, username="admin", full_name="Admin", roles=["admin", "manager"])
    admin = resolve_actor(db, "admin")
    add_district(db, admin, "CAN", "Cannock Chase")
    add_user(db, "admin", username="officer", full_name="Officer", roles=["grant_officer"], district="CAN")
    officer = resolve_actor(db, "officer")
    applicant = NewPerson(title="Mrs", given_name="Margaret", family_name="Holt", date_of_birth=date(1950, 6, 1),
                          is_applicant=True, is_disabled_occupant=True)  # fmt: skip
    new = NewCase(district="CAN", priority="urgent", priority_reason="falls at home", tenure="owner",
                  first_contact_date=date(2026, 1, 5), address_line_1="12 Mill Lane", town="Cannock",
                  postcode="WS11 1AA", people=(applicant,))  # fmt: skip
    figures: dict[str, float] = {}

    def timed(phase: str, work: Callable[[], Any]) -> Any:
        start = time.process_time()
        result = work()
        figures[phase] = time.process_time() - start
        return result

    refs = timed("open", lambda: [open_case(db, officer, new) for _ in range(cases)])
    timed("accept", lambda: [advance(db, officer, r, "accept_referral") for r in refs])
    timed("cancel with a reason", lambda: [advance(db, officer, r, "cancel", TriggerInput(code="died", reason="Died at home")) for r in refs])  # fmt: skip
    report = timed("verify", lambda: verify_audit(db, admin))
    assert not report.problems, report.problems
    db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for on in (False, True):
                with sealing(on):
                    runs[on].append(one_round(args.cases, Path(folder)))
    print(f"{args.cases} cases, median of {args.rounds} rounds, CPU seconds\n")
    print("| Phase | Values in the clear | Sealed | Ratio |\n|---|---:|---:|---:|")
    for phase in PHASES:
        clear = statistics.median(r[phase] for r in runs[False])
        sealed = statistics.median(r[phase] for r in runs[True])
        print(f"| {phase} | {clear:.3f} | {sealed:.3f} | {sealed / clear:.2f}x |")


if __name__ == "__main__":
    main()
