"""A synthetic population of DFG cases with realistic stage mixes and histories, inserted in bulk.

Each case is *planned* first: a referral on a day in the last few years, then the main path step by
step (assessment, test of resources, application, decision, works, certified date, payment, closure),
each step taking a right-skewed number of days (urgent cases faster; a few steps stuck for months),
with exits along the way (not eligible, withdrawn, cancelled with a coded reason, refused), holds that
delay the next step, and time running out on the day of the population: whatever has not happened by
then has not happened, so recent cases are open at every stage and old ones are mostly closed.

The plan (:class:`PlannedCase`) is the truth the tests compute their expectations from, independently
of the reports; :func:`insert_population` writes it with Core ``insert()`` of lists of dicts in large
transactions (the ORM would be ~6x slower). With ``events=True`` every step is also written as a real,
hash-chained event (what ``advance`` would have written), so the clocks, the worklist and
``dfg audit verify`` work on the population too.

    python bench/population.py --cases 1000000 --db /tmp/population.sqlite
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from dfg.rules.search_text import Home, Named, case_terms  # noqa: E402
from dfg.services.identity import user_actor  # noqa: E402
from dfg.services.users import add_district, add_user  # noqa: E402
from dfg.store.audit import GENESIS, NewEvent, chained  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.store.migrate import upgrade  # noqa: E402
from dfg.store.models import CASES, EVENTS, PEOPLE, District, Property  # noqa: E402
from dfg.store.tables import SEARCH_TERMS  # noqa: E402

#: The eight Staffordshire housing authorities, with their rough share of cases.
DISTRICTS = {
    "CAN": ("Cannock Chase", 0.12),
    "EST": ("East Staffordshire", 0.14),
    "LIC": ("Lichfield", 0.12),
    "NUL": ("Newcastle-under-Lyme", 0.15),
    "SST": ("South Staffordshire", 0.12),
    "STA": ("Stafford", 0.14),
    "SML": ("Staffordshire Moorlands", 0.10),
    "TAM": ("Tamworth", 0.11),
}

WORKFLOW = "dfg@1"

#: How much slower than typical each district is at the two steps that most often queue: the OT
#: assessment (county waiting lists differ by area) and the decision. Gives the districts different
#: pipelines, as real ones have.
DISTRICT_PACE = {
    "CAN": (1.0, 1.0),
    "EST": (1.3, 1.0),
    "LIC": (0.8, 1.2),
    "NUL": (1.9, 1.4),
    "SST": (1.0, 0.9),
    "STA": (1.1, 2.2),
    "SML": (1.6, 1.0),
    "TAM": (0.9, 1.8),
}

# The main path: trigger, the state it leads to, the milestone it records, and the typical days the step
# takes for a non-urgent and an urgent case.
PATH: tuple[tuple[str, str, str | None, int, int], ...] = (
    ("accept_referral", "awaiting_assessment", None, 4, 2),
    ("record_assessment", "test_of_resources", "assessment_date", 42, 12),
    ("complete_test_of_resources", "scheme_design", "test_of_resources_date", 21, 8),
    ("receive_application", "application_incomplete", "application_received_date", 45, 18),
    ("validate_application", "application_valid", "valid_application_date", 16, 6),
    ("approve", "approved", "approval_date", 30, 9),
    ("order_works", "works_ordered", "works_ordered_date", 12, 4),
    ("start_on_site", "on_site", "works_started_date", 24, 7),
    ("complete_works", "works_complete", "works_completed_date", 15, 5),
    ("certify", "certified", "certified_date", 8, 3),
    ("pay_final", "paid", "paid_date", 12, 5),
    ("close", "closed", None, 6, 3),
)
STUCK_WEIGHTS = tuple(
    {"record_assessment": 3, "approve": 3, "start_on_site": 2}.get(step[0], 1) for step in PATH
)
CANCEL_CODES = (
    "died",
    "residential_care",
    "property_sold",
    "declined_works",
    "ceased_owner_tenant",
    "no_response",
)
NOT_ELIGIBLE_CODES = ("not_necessary_appropriate", "not_s23_purpose", "signposted")
REFUSAL_CODES = ("not_reasonable_practicable", "not_necessary_appropriate", "works_begun")
HOLD_CODES = ("hospital", "applicant_request", "awaiting_information", "awaiting_consent")
TENURES = (("owner", 0.6), ("tenant", 0.3), ("occupier", 0.03), ("landlord", 0.07))
#: The state each step leaves from (a case opens at referral).
SOURCE = {step[0]: ("referral" if i == 0 else PATH[i - 1][1]) for i, step in enumerate(PATH)}
ROLE_ACTOR = {"officer": "bench.officer", "ot": "bench.ot", "approver": "bench.approver"}


@dataclass(frozen=True)
class PlannedStep:
    """One transition of a planned case, as ``advance`` would record it."""

    trigger: str
    from_state: str
    to_state: str
    on: date
    code: str | None = None
    reason: str | None = None
    #: Columns of the case the step sets (milestone dates, the grant, the hold review date).
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedCase:
    """Everything about one synthetic case: the truth the tests check the reports against."""

    id: int
    reference: str
    district: str
    priority: str
    tenure: str
    first_contact: date
    steps: tuple[PlannedStep, ...]
    applicant_dob: date
    #: The disabled occupant's date of birth when they are not the applicant (a child, a partner).
    occupant_dob: date | None
    occupant_is_applicant: bool
    occupant_dob_recorded: bool = True

    @property
    def state(self) -> str:
        return self.steps[-1].to_state if self.steps else "referral"

    def milestone(self, name: str) -> date | None:
        """The date the case last recorded milestone ``name`` (a column of ``cases``)."""
        value = None
        for step in self.steps:
            if name in step.changes:
                value = step.changes[name]
        return value

    @property
    def closed_date(self) -> date | None:
        return self.milestone("closed_date")

    @property
    def approved_grant_pence(self) -> int | None:
        value: int | None = self.milestone("approved_grant_pence")  # type: ignore[assignment]
        return value

    @property
    def open_hold(self) -> PlannedStep | None:
        """The ``hold`` step still in force today, if the case is on hold."""
        if self.steps and self.steps[-1].trigger == "hold":
            return self.steps[-1]
        return None

    @property
    def disabled_dob(self) -> date | None:
        """The disabled occupant's date of birth, as recorded (None when not recorded)."""
        if not self.occupant_dob_recorded:
            return None
        return self.applicant_dob if self.occupant_is_applicant else self.occupant_dob


def _weighted(rng: random.Random, pairs: Iterable[tuple[str, float]]) -> str:
    names, weights = zip(*pairs, strict=True)
    chosen: str = rng.choices(names, weights)[0]
    return chosen


def _days(rng: random.Random, typical: int, stuck: bool) -> int:
    """A right-skewed step length (gamma, shape 2.5) around ``typical`` days; a stuck step takes 8x."""
    days = rng.gammavariate(2.5, typical / 2.5) * (8 if stuck else 1)
    return max(1, round(days))


def _date_of_birth(rng: random.Random, on: date, low: int, high: int) -> date:
    age_days = rng.randint(low * 365 + 1, high * 365 + 300)
    return on - timedelta(days=age_days)


def plan_case(
    rng: random.Random, case_id: int, reference: str, district: str, first_contact: date, today: date
) -> PlannedCase:
    """Plan one case from first contact to wherever it has got by ``today``."""
    urgent = rng.random() < 0.25
    tenure = _weighted(rng, TENURES)
    steps: list[PlannedStep] = []
    on, state = first_contact, "referral"
    # A step stuck for months: most often the OT assessment, the decision or getting a contractor on site.
    stuck_at = rng.choices(range(len(PATH)), STUCK_WEIGHTS)[0] if rng.random() < 0.08 else -1
    hold_at = rng.randrange(1, len(PATH) - 2) if rng.random() < 0.12 else -1

    def add(trigger: str, to_state: str, day: date, **kwargs: Any) -> None:
        nonlocal state
        steps.append(PlannedStep(trigger, state, to_state, day, **kwargs))
        state = to_state

    def leave(trigger: str, to_state: str, day: date, code: str | None, reason: str, **changes: Any) -> None:
        add(trigger, to_state, day, code=code, reason=reason, changes={**changes, "closed_date": day})

    for index, (trigger, dest, milestone, slow, fast) in enumerate(PATH):
        if index == hold_at:
            start = on + timedelta(days=rng.randint(1, 10))
            length = _days(rng, 50, False)
            if start > today:
                break
            review = start + timedelta(days=28)
            add(
                "hold",
                state,
                start,
                code=rng.choice(HOLD_CODES),
                reason="Synthetic hold",
                changes={"hold_review_date": review},
            )
            if start + timedelta(days=length) > today:
                break  # still on hold today
            on = start + timedelta(days=length)
            add("resume", state, on, changes={"hold_review_date": None})
        if index < 6 and rng.random() < 0.012:
            day = on + timedelta(days=_days(rng, 20, False))
            if day <= today:
                leave("withdraw", "withdrawn", day, None, "Applicant withdrew")
            break
        if index < 9 and rng.random() < 0.01:
            day = on + timedelta(days=_days(rng, 25, False))
            if day <= today:
                leave("cancel", "cancelled", day, rng.choice(CANCEL_CODES), "Synthetic cancellation")
            break
        pace = {"record_assessment": DISTRICT_PACE[district][0], "approve": DISTRICT_PACE[district][1]}
        typical = round((fast if urgent else slow) * pace.get(trigger, 1.0))
        day = on + timedelta(days=_days(rng, typical, index == stuck_at))
        if day > today:
            break
        if trigger == "record_assessment" and rng.random() < 0.05:
            code = rng.choice(NOT_ELIGIBLE_CODES)
            leave("assess_not_eligible", "closed", day, code, "Synthetic: not eligible", assessment_date=day)
            break
        if trigger == "approve" and rng.random() < 0.06:
            add(
                "refuse",
                "refused",
                day,
                code=rng.choice(REFUSAL_CODES),
                reason="Synthetic refusal",
                changes={"refusal_date": day},
            )
            closing = day + timedelta(days=28 + _days(rng, 10, False))
            if closing <= today:
                add("close_refused", "closed", closing, changes={"closed_date": closing})
            break
        changes: dict[str, Any] = {milestone: day} if milestone else {}
        if trigger == "approve":
            pounds = min(30_000, max(400, round(rng.gammavariate(2.2, 4_300) / 50) * 50))
            changes["approved_grant_pence"] = pounds * 100
        if dest == "closed":
            changes["closed_date"] = day
        add(trigger, dest, day, changes=changes)
        on = day
    occupant_is_applicant = rng.random() < 0.85
    child = not occupant_is_applicant and rng.random() < 0.6
    if occupant_is_applicant:
        applicant_dob = _date_of_birth(rng, first_contact, *((66, 95) if rng.random() < 0.62 else (18, 64)))
        occupant_dob = None
    else:
        applicant_dob = _date_of_birth(rng, first_contact, 25, 60 if child else 90)
        occupant_dob = _date_of_birth(rng, first_contact, *((1, 17) if child else (18, 90)))
    return PlannedCase(
        id=case_id,
        reference=reference,
        district=district,
        priority="urgent" if urgent else "non_urgent",
        tenure=tenure,
        first_contact=first_contact,
        steps=tuple(steps),
        applicant_dob=applicant_dob,
        occupant_dob=occupant_dob,
        occupant_is_applicant=occupant_is_applicant,
        occupant_dob_recorded=rng.random() > 0.01,
    )


def plan_population(
    count: int, *, today: date, seed: int = 2026, years: float = 8.0, first_id: int = 1
) -> Iterator[PlannedCase]:
    """``count`` planned cases with first contact spread evenly over the ``years`` before ``today``.

    The same arguments always give the same population. Case ids start at ``first_id``.
    """
    rng = random.Random(seed)
    span = round(years * 365)
    weights = [(code, share) for code, (_, share) in DISTRICTS.items()]
    numbers: dict[tuple[str, int], int] = {}
    for case_id in range(first_id, first_id + count):
        district = _weighted(rng, weights)
        first_contact = today - timedelta(days=rng.randrange(span))
        number = numbers[(district, first_contact.year)] = numbers.get((district, first_contact.year), 0) + 1
        reference = f"{district}-{first_contact.year}-{number:04d}"
        yield plan_case(rng, case_id, reference, district, first_contact, today)


# ---------------------------------------------------------------------- writing it


def seed_reference_data(db: Database) -> None:
    """Migrate an empty database and add the districts and the users the events name."""
    upgrade(db)
    add_user(db, None, username="admin", full_name="Administrator", roles=["admin"])
    admin = user_actor(db, "admin")
    for code, (name, _) in DISTRICTS.items():
        add_district(db, admin, code, name)
    for username, roles in (
        ("bench.officer", ["grant_officer"]),
        ("bench.ot", ["ot"]),
        ("bench.approver", ["approver"]),
        ("manager", ["manager"]),
    ):
        add_user(db, "admin", username=username, full_name=username, roles=roles)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


_ACTOR = {
    "record_assessment": ("bench.ot", "ot"),
    "assess_not_eligible": ("bench.ot", "ot"),
    "approve": ("bench.approver", "approver"),
    "refuse": ("bench.approver", "approver"),
}


def _events(plan: PlannedCase) -> tuple[list[dict[str, Any]], str]:
    """The case's event rows as ``advance`` writes them, hash-chained; and the chain's head."""
    rows: list[dict[str, Any]] = []
    head = GENESIS
    opened = NewEvent(
        occurred_at=_at(plan.first_contact, 9),
        actor="bench.officer",
        role="grant_officer",
        kind="case_opened",
        to_state="referral",
        payload={
            "district": plan.district,
            "priority": plan.priority,
            "tenure": plan.tenure,
            "first_contact_date": plan.first_contact,
        },
        workflow_version=WORKFLOW,
    )
    for seq, new in enumerate([opened, *(_transition(plan, s) for s in plan.steps)], start=1):
        row = chained(new, stream=plan.reference, seq=seq, prev_hash=head, case_id=plan.id)
        head = row["hash"]
        rows.append(row)
    return rows, head


def _transition(plan: PlannedCase, step: PlannedStep) -> NewEvent:
    actor, role = _ACTOR.get(step.trigger, ("bench.officer", "grant_officer"))
    return NewEvent(
        occurred_at=_at(step.on, 10),
        actor=actor,
        role=role,
        kind="transition",
        trigger=step.trigger,
        from_state=step.from_state,
        to_state=step.to_state,
        reason=step.reason,
        code=step.code,
        payload={"effective_date": step.on, **step.changes},
        workflow_version=WORKFLOW,
    )


def _rows(
    plan: PlannedCase, events: bool
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    created = _at(plan.first_contact, 9)
    hold = plan.open_hold
    milestones = (
        "assessment_date",
        "test_of_resources_date",
        "application_received_date",
        "valid_application_date",
        "approval_date",
        "refusal_date",
        "works_ordered_date",
        "works_started_date",
        "works_completed_date",
        "certified_date",
        "paid_date",
        "closed_date",
    )
    event_rows, head = _events(plan) if events else ([], GENESIS)
    last = plan.steps[-1].on if plan.steps else plan.first_contact
    case = {
        "id": plan.id,
        "reference": plan.reference,
        "district_code": plan.district,
        "property_id": plan.id,
        "workflow_version": WORKFLOW,
        "state": plan.state,
        "priority": plan.priority,
        "priority_reason": "Synthetic urgent need" if plan.priority == "urgent" else None,
        "referral_source": "county OT",
        "tenure": plan.tenure,
        "assigned_to": None,
        "hold_since": _at(hold.on, 10) if hold else None,
        "hold_review_date": hold.changes["hold_review_date"] if hold else None,
        "first_contact_date": plan.first_contact,
        **{m: plan.milestone(m) for m in milestones},
        "approved_grant_pence": plan.approved_grant_pence,
        "audit_seq": len(event_rows),
        "audit_head": head,
        "version": 1 + len(event_rows),
        "created_at": created,
        "updated_at": _at(last, 10),
    }
    home = {
        "id": plan.id,
        "address_line_1": f"{plan.id % 180 + 1} Mill Lane",
        "town": "Stafford",
        # about twenty homes to a postcode, as in a town (a search by one finds its few cases)
        "postcode": f"ST{16 + plan.id % 5} {plan.id // 5 % 9 + 1}{chr(65 + plan.id // 45 % 26)}{chr(65 + plan.id // 1170 % 26)}",
        "district_code": plan.district,
    }
    people = [
        {
            "case_id": plan.id,
            "given_name": "Synthetic",
            "family_name": f"Applicant {plan.id}",
            "date_of_birth": plan.applicant_dob
            if (plan.occupant_dob_recorded or not plan.occupant_is_applicant)
            else None,
            "is_applicant": True,
            "is_disabled_occupant": plan.occupant_is_applicant,
            "is_relevant_person": True,
        }
    ]
    if not plan.occupant_is_applicant:
        people.append(
            {
                "case_id": plan.id,
                "given_name": "Synthetic",
                "family_name": f"Occupant {plan.id}",
                "date_of_birth": plan.occupant_dob if plan.occupant_dob_recorded else None,
                "is_applicant": False,
                "is_disabled_occupant": True,
                "is_relevant_person": True,
            }
        )
    return case, home, people, event_rows


def _search_terms(
    cases: list[dict[str, Any]], homes: list[dict[str, Any]], people: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The search index's rows for these cases, as opening each case would have written them."""
    named: dict[int, list[Named]] = {}
    for p in people:
        named.setdefault(p["case_id"], []).append(Named(None, p["given_name"], p["family_name"], None))
    return [
        {"case_id": case["id"], "kind": kind, "term": term}
        for case, home in zip(cases, homes, strict=True)
        for kind, term in case_terms(
            case["reference"],
            Home(home["address_line_1"], None, home["town"], home["postcode"]),
            named.get(case["id"], []),
        )
    ]


def insert_population(
    db: Database, plans: Iterable[PlannedCase], *, events: bool = False, chunk: int = 20_000
) -> int:
    """Write ``plans`` (cases, their properties and people, and with ``events`` their event log) in
    transactions of ``chunk`` cases. Returns the number of cases written."""
    written = 0
    batch: list[PlannedCase] = []

    def flush() -> None:
        cases, homes, people, event_rows = [], [], [], []
        for plan in batch:
            case, home, persons, rows = _rows(plan, events)
            cases.append(case)
            homes.append(home)
            people.extend(persons)
            event_rows.extend(rows)
        with db.write_connection() as connection:
            connection.execute(insert(Property), homes)
            connection.execute(insert(CASES), cases)
            connection.execute(insert(PEOPLE), people)
            connection.execute(insert(SEARCH_TERMS), _search_terms(cases, homes, people))
            if event_rows:
                connection.execute(insert(EVENTS), event_rows)
        batch.clear()

    for plan in plans:
        batch.append(plan)
        written += 1
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    return written


def build(db: Database, count: int, *, today: date, seed: int = 2026, events: bool = False) -> int:
    """A fresh population of ``count`` cases in an empty database; returns the number written."""
    seed_reference_data(db)
    with db.read_connection() as connection:
        assert connection.scalar(select(func.count()).select_from(District)) == len(DISTRICTS)
    return insert_population(db, plan_population(count, today=today, seed=seed), events=events)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--db", required=True, help="a new SQLite file, or a SQLAlchemy URL of an empty database"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--today", type=date.fromisoformat, default=date.today(), help="the population's 'today'"
    )
    parser.add_argument("--events", action="store_true", help="also write each case's hash-chained event log")
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}"
    db = Database(url)
    start = time.perf_counter()
    written = build(db, args.cases, today=args.today, seed=args.seed, events=args.events)
    db.dispose()
    print(f"{written:,} cases in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
