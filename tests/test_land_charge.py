"""The local land charge: the £5,000 floor and £10,000 cap at their boundaries, registration and its
dates, and the council's decision after a disposal within the charge period; bad input changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import String, func, select

from dfg.errors import DfgError, InvalidInput, InvalidTransition, PermissionDenied
from dfg.reports.closures import closures
from dfg.rules.clock import local_day, utcnow
from dfg.rules.rates import REPAYMENT_FACTORS as FACTORS
from dfg.rules.rates import add_years, land_charge_for
from dfg.services.budget import allocate
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.cases import Advanced
from dfg.services.land_charge import (
    REGISTRY_REFERENCE_LENGTH,
    land_charge_view,
    record_repayment_decision,
    register_land_charge,
)
from dfg.store.audit import verify
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, LAND_CHARGES, REPAYMENT_DECISIONS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput, land_charge_due_pence
from tests.conftest import APPROVED_GRANT, MAIN_PATH, approve, take_step, walk_to

APPROVED_ON = date(2026, 5, 11)
THRESHOLDS = [
    # (mandatory grant, the repayable amount the charge secures)
    pytest.param(5_000_00, 0, id="grant-5000.00-none"),
    pytest.param(5_000_01, 1, id="grant-5000.01-one-penny"),
    pytest.param(15_000_00, 10_000_00, id="grant-15000.00-cap"),
    pytest.param(15_000_01, 10_000_00, id="grant-15000.01-cap"),
]


def today() -> date:
    return local_day(utcnow())


# ---------------------------------------------------------------------- the rule alone


@pytest.mark.parametrize(("grant", "due"), THRESHOLDS)
def test_floor_and_cap_at_their_boundaries(grant: int, due: int) -> None:
    assert land_charge_due_pence("owner", grant, APPROVED_ON) == due


@pytest.mark.parametrize("tenure", ["tenant", "occupier", "landlord"])
def test_only_owners_applications_carry_a_charge(tenure: str) -> None:
    assert land_charge_due_pence(tenure, 25_000_00, APPROVED_ON) == 0


def test_the_terms_and_the_store_agree() -> None:
    terms = land_charge_for(APPROVED_ON)
    assert (terms.floor_pence, terms.cap_pence, terms.years, terms.tenures) == (
        5_000_00,
        10_000_00,
        10,
        frozenset({"owner"}),
    )
    column = LAND_CHARGES.c.registry_reference.type
    assert isinstance(column, String) and column.length == REGISTRY_REFERENCE_LENGTH
    assert set(FACTORS) == {"hardship", "health", "care", "employment", "none"}
    assert all(label.strip() for label in FACTORS.values())


# ---------------------------------------------------------------------- cases to work on


@pytest.fixture
def certified(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> Callable[..., str]:
    """A case walked through the real services to the certified date, with the mandatory grant given."""

    def make(grant: int = APPROVED_GRANT, *, on: date | None = None, **case: object) -> str:
        reference = open_sample(**case)
        walk_to(db, cast, reference, "application_valid", on=on)
        approve(db, cast, reference, grant, on=on)
        after_approval = [step for step in MAIN_PATH if step[0] in ("order_works", "start_on_site",
                                                                    "complete_works", "certify")]  # fmt: skip
        for trigger, who in after_approval:
            take_step(db, cast, reference, trigger, who, TriggerInput(on=on))
        assert show_case(db, cast["officer"], reference).state == "certified"
        return reference

    return make


def _certified_on(db: Database, cast: dict[str, Actor], reference: str) -> date:
    certified_on = show_case(db, cast["officer"], reference).milestones["certified_date"]
    assert certified_on is not None
    return certified_on


def _counts(db: Database, reference: str) -> tuple[int, int, int, int]:
    """Land charges, repayment decisions, events and the case's version: what bad input must not move."""
    with db.read_connection() as connection:
        return (
            int(connection.scalar(select(func.count()).select_from(LAND_CHARGES)) or 0),
            int(connection.scalar(select(func.count()).select_from(REPAYMENT_DECISIONS)) or 0),
            int(connection.scalar(select(func.count()).select_from(EVENTS)) or 0),
            int(connection.scalar(select(CASES.c.version).where(CASES.c.reference == reference)) or 0),
        )


def _refused(
    db: Database, reference: str, error: type[DfgError], message: str, attempt: Callable[[], Any]
) -> None:
    before = _counts(db, reference)
    with pytest.raises(error) as raised:
        attempt()
    assert raised.value.message == message
    assert _counts(db, reference) == before


def _last_event(db: Database, actor: Actor, reference: str) -> dict[str, Any]:
    return history(db, actor, reference)[-1].as_dict()


def _audit_verifies(db: Database) -> None:
    with db.reading() as session:
        _, events, problems = verify(session)
    assert events > 0 and problems == []


# ---------------------------------------------------------------------- registration


@pytest.mark.parametrize(("grant", "due"), THRESHOLDS)
def test_thresholds_through_the_service(
    db: Database, cast: dict[str, Actor], certified: Callable[..., str], grant: int, due: int
) -> None:
    reference = certified(grant)
    view = land_charge_view(db, cast["officer"], reference)
    assert (view.applies, view.due_pence, view.grant_pence, view.registered) == (due > 0, due, grant, False)

    def attempt() -> Advanced:
        return register_land_charge(
            db, cast["officer"], reference, registered_on=today(), registry_reference="LLC/2026/001"
        )

    if due == 0:
        expected = f"no land charge applies to {reference}: its mandatory grant of £5,000.00 is not more than £5,000.00"
        assert view.why_not == expected
        _refused(db, reference, InvalidInput, expected, attempt)
        return
    assert view.why_not is None
    attempt()
    registration = land_charge_view(db, cast["officer"], reference).registration
    assert registration is not None and registration["repayable_pence"] == due
    assert _last_event(db, cast["officer"], reference)["payload"]["repayable_pence"] == due


def test_a_tenants_application_carries_no_charge(
    db: Database, cast: dict[str, Actor], certified: Callable[..., str]
) -> None:
    reference = certified(20_000_00, tenure="tenant")
    view = land_charge_view(db, cast["officer"], reference)
    expected = (
        f"no land charge applies to {reference}: it is a tenant's application, and a charge is registered only "
        "for an owner's application"
    )
    assert (view.applies, view.due_pence, view.why_not) == (False, 0, expected)
    _refused(db, reference, InvalidInput, expected, lambda: register_land_charge(
        db, cast["officer"], reference, registered_on=today(), registry_reference="LLC/2026/001"))  # fmt: skip


def test_registration_records_the_charge_and_its_dates(
    db: Database, cast: dict[str, Actor], certified: Callable[..., str]
) -> None:
    reference = certified()  # grant £8,450.00: £3,450.00 is repayable
    certified_on = _certified_on(db, cast, reference)
    done = register_land_charge(
        db, cast["officer"], reference, registered_on=certified_on, registry_reference="  LLC/CAN/2026/0042 "
    )
    assert (done.trigger, done.from_state, done.to_state) == (
        "register_land_charge",
        "certified",
        "certified",
    )
    assert done.letters == ("land_charge_notice",)
    expires, condition_end = add_years(certified_on, 10), add_years(certified_on, 5)
    event = _last_event(db, cast["officer"], reference)
    assert (event["trigger"], event["actor"], event["role"]) == (
        "register_land_charge",
        "officer",
        "grant_officer",
    )
    payload = event["payload"]
    charge_id = payload.pop("land_charge")
    assert payload == {
        "effective_date": today().isoformat(),
        "letters": ["land_charge_notice"],
        "grant_pence": 8_450_00,
        "repayable_pence": 3_450_00,
        "terms_version": "england-2008-05-22",
        "certified_date": certified_on.isoformat(),
        "registered_on": certified_on.isoformat(),
        "registry_reference": "LLC/CAN/2026/0042",
        "condition_end": condition_end.isoformat(),
        "expires_on": expires.isoformat(),
    }
    view = land_charge_view(db, cast["officer"], reference)
    assert view.as_dict() == {
        "reference": reference,
        "tenure": "owner",
        "applies": True,
        "registered": True,
        "why_not": None,
        "grant_pence": 8_450_00,
        "repayable_pence": 3_450_00,
        "charged_lines_pence": 0,  # no funding line with a land charge
        "terms_version": "england-2008-05-22",
        "certified_date": certified_on.isoformat(),
        "registration": {
            "id": charge_id,
            "repayable_pence": 3_450_00,
            "terms_version": "england-2008-05-22",
            "registered_on": certified_on.isoformat(),
            "registry_reference": "LLC/CAN/2026/0042",
            "condition_end": condition_end.isoformat(),
            "expires_on": expires.isoformat(),
            "recorded_by": "officer",
        },
        "decisions": [],
    }
    json.dumps(view.as_dict())  # printable as --json
    _audit_verifies(db)


def test_a_charge_certified_on_29_february(
    db: Database, cast: dict[str, Actor], certified: Callable[..., str]
) -> None:
    for line in ("mandatory", "top_up"):  # the 2023-24 budget: walk_to's budgets start in 2025
        allocate(db, cast["admin"], district="CAN", financial_year=2023, funding_line=line,
                 amount_pence=1_000_000_00, reason="test allocation")  # fmt: skip
    leap_day = date(2024, 2, 29)
    reference = certified(on=leap_day, first_contact_date=date(2024, 1, 8))
    assert _certified_on(db, cast, reference) == leap_day
    register_land_charge(
        db, cast["officer"], reference, registered_on=date(2024, 3, 4), registry_reference="LLC/1"
    )
    registration = land_charge_view(db, cast["officer"], reference).registration
    assert registration is not None
    assert (registration["condition_end"], registration["expires_on"]) == ("2029-02-28", "2034-02-28")


def test_registration_refusals_change_nothing(
    db: Database, cast: dict[str, Actor], certified: Callable[..., str]
) -> None:
    reference = certified()
    certified_on = _certified_on(db, cast, reference)

    def register(who: str = "officer", **given: Any) -> Callable[[], Any]:
        given = {"registered_on": certified_on, "registry_reference": "LLC/1", **given}
        return lambda: register_land_charge(db, cast[who], reference, **given)

    tomorrow = date.fromordinal(today().toordinal() + 1)
    day_before = date.fromordinal(certified_on.toordinal() - 1)
    for error, message, attempt in [
        (InvalidInput, "the land charge needs the Local Land Charges register's reference (--ref)",
         register(registry_reference="  ")),
        (InvalidInput, "the register reference is 61 characters long: at most 60", register(registry_reference="X" * 61)),
        (InvalidInput, f"the registration date {tomorrow:%d/%m/%Y} is in the future", register(registered_on=tomorrow)),
        (InvalidInput, f"the registration date {day_before:%d/%m/%Y} is before the certified date "
                       f"({certified_on:%d/%m/%Y})", register(registered_on=day_before)),
        (PermissionDenied, "cannot register_land_charge: needs the role Grant officer; technical has not",
         register("technical")),
        (PermissionDenied, f"lichfield works for district LIC; {reference} is in CAN", register("lichfield")),
    ]:  # fmt: skip
        _refused(db, reference, error, message, attempt)
    register()()
    _refused(db, reference, InvalidInput,
             f"{reference} already has its land charge registered (on {certified_on:%d/%m/%Y}, register reference LLC/1)",
             register(registry_reference="LLC/2"))  # fmt: skip
    _audit_verifies(db)


def test_no_registration_before_the_certified_date(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "approved")
    _refused(db, reference, InvalidTransition,
             "cannot register_land_charge: not possible while the case is 'Approved: works to be ordered'",
             lambda: register_land_charge(db, cast["officer"], reference, registered_on=today(),
                                          registry_reference="LLC/1"))  # fmt: skip


# ---------------------------------------------------------------------- after a disposal


@pytest.fixture
def closed(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> Iterator[str]:
    """A closed owner's case whose land charge (£3,450.00) was registered on the way to closure."""
    reference = open_sample()
    walk_to(db, cast, reference, "closed")
    assert land_charge_view(db, cast["officer"], reference).registered
    yield reference
    _audit_verifies(db)


def _decide(db: Database, actor: Actor, reference: str, **given: Any) -> Callable[[], Any]:
    given = {"disposal_on": today(), "decision": "full", "amount_pence": None, "factors": ["none"],
             "reason": "Sold on the open market; no circumstances to weigh", **given}  # fmt: skip
    return lambda: record_repayment_decision(db, actor, reference, **given)


@pytest.mark.parametrize(
    ("decision", "amount", "demanded", "trigger", "letters"),
    [
        ("full", None, 3_450_00, "demand_repayment", ("repayment_demand",)),
        ("part", 1_200_00, 1_200_00, "demand_repayment", ("repayment_demand",)),
        ("waive", None, 0, "waive_repayment", ()),
    ],
)
def test_a_decision_after_a_disposal(
    db: Database, cast: dict[str, Actor], closed: str, decision: str, amount: int | None, demanded: int,
    trigger: str, letters: tuple[str, ...],
) -> None:  # fmt: skip
    reason = "Moving to live with her daughter, who will care for her; the sale leaves little equity"
    done = _decide(db, cast["approver"], closed, decision=decision, amount_pence=amount,
                   factors=["care", "hardship", "care"], reason=f"  {reason} ")()  # fmt: skip
    assert (done.trigger, done.from_state, done.to_state, done.letters) == (
        trigger,
        "closed",
        "closed",
        letters,
    )
    event = _last_event(db, cast["approver"], closed)
    assert (event["trigger"], event["role"], event["reason"]) == (trigger, "approver", reason)
    payload = event["payload"]
    decision_id, charge_id = payload.pop("repayment_decision"), payload.pop("land_charge")
    assert payload == {
        "effective_date": today().isoformat(),
        **({"letters": list(letters)} if letters else {}),
        "disposal_on": today().isoformat(),
        "decision": decision,
        "repayable_pence": 3_450_00,
        "demanded_pence": demanded,
        "factors": ["care", "hardship"],
        "decided_on": today().isoformat(),
    }
    view = land_charge_view(db, cast["officer"], closed)
    assert view.registration is not None and view.registration["id"] == charge_id
    assert view.decisions == (
        {
            "id": decision_id,
            "disposal_on": today().isoformat(),
            "decision": decision,
            "demanded_pence": demanded,
            "factors": ["care", "hardship"],
            "reason": reason,
            "decided_on": today().isoformat(),
            "recorded_by": "approver",
        },
    )


def test_a_decision_after_a_disposal_leaves_the_closure_as_it_was(
    db: Database, cast: dict[str, Actor], closed: str
) -> None:
    _decide(db, cast["approver"], closed, decision="waive", factors=["care"], reason="Moving into care")()
    rows = closures(db, cast["manager"], start=today(), end=today(), today=today()).by_reason()
    assert [(trigger, outcome, cases) for trigger, outcome, _, _, cases, _ in rows] == [
        ("close", "Completed", 1)
    ]


def test_a_disposal_on_the_day_the_charge_expires_is_within_it(
    db: Database, cast: dict[str, Actor], closed: str
) -> None:
    registration = land_charge_view(db, cast["officer"], closed).registration
    assert registration is not None
    expires = date.fromisoformat(registration["expires_on"])
    _decide(db, cast["approver"], closed, disposal_on=expires, decision="waive", factors=["health"])()
    assert land_charge_view(db, cast["officer"], closed).decisions[0]["disposal_on"] == expires.isoformat()


def test_decision_refusals_change_nothing(db: Database, cast: dict[str, Actor], closed: str) -> None:
    view = land_charge_view(db, cast["officer"], closed)
    assert view.registration is not None and view.certified_date is not None
    expires = date.fromisoformat(view.registration["expires_on"])
    after_expiry = date.fromordinal(expires.toordinal() + 1)
    before_certified = date.fromordinal(view.certified_date.toordinal() - 1)
    approver = cast["approver"]
    part_outside = "a demand in part must be more than £0.00 and less than the £3,450.00 repayable (got {}): " \
                   "otherwise demand in full or waive"  # fmt: skip
    for error, message, attempt in [
        (InvalidInput, "the decision 'half' is not one of: full, part, waive", _decide(db, approver, closed, decision="half")),
        (InvalidInput, "unknown factor 'divorce' (one of: hardship, health, care, employment, none)",
         _decide(db, approver, closed, factors=["hardship", "divorce"])),
        (InvalidInput, "name the factors weighed (--factor: hardship, health, care, employment, none), or 'none' if "
                       "there were none", _decide(db, approver, closed, factors=[])),
        (InvalidInput, "the factor 'none' cannot be given with other factors",
         _decide(db, approver, closed, factors=["none", "health"])),
        (InvalidInput, "a demand in part needs the amount to demand (--amount)", _decide(db, approver, closed, decision="part")),
        (InvalidInput, part_outside.format("£0.00"), _decide(db, approver, closed, decision="part", amount_pence=0)),
        (InvalidInput, part_outside.format("-£1.00"), _decide(db, approver, closed, decision="part", amount_pence=-100)),
        (InvalidInput, part_outside.format("£3,450.00"),
         _decide(db, approver, closed, decision="part", amount_pence=3_450_00)),
        (InvalidInput, part_outside.format("£3,450.01"),
         _decide(db, approver, closed, decision="part", amount_pence=3_450_01)),
        (InvalidInput, "a demand in full is for the whole repayable amount: give --amount only with a demand in part",
         _decide(db, approver, closed, amount_pence=3_450_00)),
        (InvalidInput, "a waiver demands nothing: give --amount only with a demand in part",
         _decide(db, approver, closed, decision="waive", amount_pence=1)),
        (InvalidInput, "the decision needs its reasons (--reason)", _decide(db, approver, closed, reason=" ")),
        (InvalidInput, f"the disposal on {before_certified:%d/%m/%Y} is before the certified date "
                       f"({view.certified_date:%d/%m/%Y}), when the charge period begins: nothing is repayable under "
                       "the land charge", _decide(db, approver, closed, disposal_on=before_certified)),
        (InvalidInput, f"the disposal on {after_expiry:%d/%m/%Y} is after the land charge expired on "
                       f"{expires:%d/%m/%Y}: nothing is repayable", _decide(db, approver, closed, disposal_on=after_expiry)),
        (PermissionDenied, "cannot demand_repayment: needs the role Approver (delegated authority); officer has not",
         _decide(db, cast["officer"], closed)),
        (PermissionDenied, "cannot waive_repayment: needs the role Approver (delegated authority); officer has not",
         _decide(db, cast["officer"], closed, decision="waive")),
    ]:  # fmt: skip
        _refused(db, closed, error, message, attempt)
    _decide(db, approver, closed, decision="part", amount_pence=1_000_00)()
    _refused(db, closed, InvalidInput,
             f"a decision (part) on the disposal of {today():%d/%m/%Y} was already recorded on {today():%d/%m/%Y}",
             _decide(db, approver, closed, decision="waive"))  # fmt: skip


def test_no_decision_without_a_registered_charge(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(tenure="tenant")
    walk_to(db, cast, reference, "closed")
    _refused(db, reference, InvalidInput,
             f"{reference} has no land charge registered, so nothing is repayable under one ('dfg land-charge show' "
             "says whether one applies)", _decide(db, cast["approver"], reference))  # fmt: skip


def test_no_decision_before_the_case_is_closed(
    db: Database, cast: dict[str, Actor], certified: Callable[..., str]
) -> None:
    reference = certified()
    register_land_charge(db, cast["officer"], reference, registered_on=today(), registry_reference="LLC/1")
    _refused(db, reference, InvalidTransition,
             "cannot demand_repayment: not possible while the case is 'Certified complete: awaiting final payment'",
             _decide(db, cast["approver"], reference))  # fmt: skip
