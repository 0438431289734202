"""The demonstration: a database of realistic cases across the eight Staffordshire districts.

Every case is opened and advanced through the real services as the user whose role the workflow asks
for, so the demo exercises the same checks, events and audit chain as live use. Milestones are dated in
the past with the triggers' ``--date``; the events themselves are stamped with the real time (but the
land charge registration, a step dated when it is recorded, is recorded on its day). The
district's officer produces each step's letters on the step's day, as an office would: so each decision's
notice goes out in time for the s.34 clock, and the register shows when each letter was produced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from dfg.reports.pipeline import Pipeline, pipeline
from dfg.rules.budget import financial_year_of
from dfg.rules.clock import ENGLAND, local_day, utcnow
from dfg.rules.grant import ChargeRequest
from dfg.services.appointments import Appointment, book_appointment
from dfg.services.approval import approval_versions, approve_grant, vary_works
from dfg.services.assessment import AssessmentInput, record_assessment, run_means_test
from dfg.services.budget import allocate
from dfg.services.case_opening import NewCase, NewPerson, PostalAddress, assign, open_case
from dfg.services.case_reading import count_cases
from dfg.services.cases import advance
from dfg.services.contractors import NewContractor, add_contractor
from dfg.services.estimates import case_estimates, record_estimate, select_estimate
from dfg.services.grant import GrantRecord, calculate_case_grant, grant_calculation
from dfg.services.identity import mark_demo, user_actor
from dfg.services.land_charge import land_charge_view, register_land_charge
from dfg.services.landlord_grant import decide_landlord_grant
from dfg.services.letter_batch import render_pending
from dfg.services.payments import (
    money_view,
    pay_final,
    pay_interim,
    payment_due,
    record_contribution,
    record_invoice,
)
from dfg.services.progress import Progress, unwatched
from dfg.services.sign_in import give_demo_passwords
from dfg.services.users import add_district, add_user, listed_districts
from dfg.services.works import record_completion_check
from dfg.store.database import Database
from dfg.store.migrate import upgrade
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput

_TOWNS = {
    "CAN": ("Cannock", ("WS11", "WS12")),
    "EST": ("Burton upon Trent", ("DE13", "DE14")),
    "LIC": ("Lichfield", ("WS13", "WS14")),
    "NUL": ("Newcastle-under-Lyme", ("ST5",)),
    "SST": ("Wombourne", ("WV5", "WV8")),
    "STA": ("Stafford", ("ST16", "ST17")),
    "SML": ("Leek", ("ST13",)),
    "TAM": ("Tamworth", ("B77", "B79")),
}
_WOMEN = ("Margaret", "Doreen", "Patricia", "Sheila", "Joan", "Aisha", "Kelly", "Sophie", "Gwen", "Irene")
_MEN = ("Brian", "Keith", "Derek", "Graham", "Trevor", "Tariq", "Liam", "Mohammed", "Harold", "Stanley")
_FAMILY = (
    "Holt", "Bennett", "Whitehouse", "Parkes", "Plant", "Salt", "Riley", "Hussain", "Cartwright", "Bloor",
    "Hollins", "Mellor", "Sherratt", "Tomkinson", "Wood", "Ahmed", "Lovatt", "Hulme", "Beech", "Dale",
)  # fmt: skip
_CONTRACTORS = (
    ("Able Lifts Ltd", "Gary Mellor", "Unit 4, Watling Street Business Park, Cannock WS11 0BD"),
    ("Brook Bathrooms and Adaptations", "Priya Shah", "22 Lichfield Road, Stafford ST17 4JX"),
    ("Castle Building Services", "Tom Bloor", "Castle Works, Tamworth B79 7NH"),
    ("Moorlands Access Solutions", "Jean Salt", "3 Derby Street, Leek ST13 6HN"),
)
_STREETS = (
    "Mill Lane", "Church Street", "Park Road", "The Crescent", "Station Road", "Victoria Street",
    "Meadow Close", "Orchard Way", "Brook Lane", "Queens Drive",
)  # fmt: skip

# The main path with typical days between steps (urgent cases move faster) and who takes each step.
_PATH: tuple[tuple[str, str, int, int], ...] = (
    ("accept_referral", "officer", 3, 2),
    ("record_assessment", "ot", 45, 10),
    ("complete_test_of_resources", "officer", 21, 7),
    ("receive_application", "officer", 40, 15),
    ("validate_application", "officer", 14, 5),
    ("approve", "approver", 28, 7),
    ("order_works", "officer", 10, 3),
    ("start_on_site", "technical", 21, 5),
    ("complete_works", "technical", 14, 4),
    ("certify", "technical", 7, 3),
    ("pay_final", "officer", 10, 5),
    ("close", "officer", 5, 2),
)


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    pipeline: Pipeline

    def as_text(self) -> str:
        return f"{self.pipeline.as_text()}\n\n{self.cases} cases in 8 districts."


def _seed_people(db: Database, districts: dict[str, str]) -> None:
    add_user(db, None, username="admin", full_name="System administrator", roles=["admin"])
    admin = user_actor(db, "admin")
    for code, name in districts.items():
        add_district(db, admin, code, name)
    add_user(db, "admin", username="ot.county", full_name="Ruth Ashley (County OT)", roles=["ot"])
    add_user(
        db,
        "admin",
        username="approver",
        full_name="Dev Patel",
        roles=["approver"],
        approval_limit_pence=30_000_00,
    )
    add_user(db, "admin", username="manager", full_name="Helen Clarke", roles=["manager"])
    for code in districts:
        town = _TOWNS[code][0]
        add_user(db, "admin", username=f"{code.lower()}.officer", full_name=f"{town} grant officer",
                 roles=["grant_officer"], district=code)  # fmt: skip
        add_user(db, "admin", username=f"{code.lower()}.technical", full_name=f"{town} technical officer",
                 roles=["technical_officer"], district=code)  # fmt: skip
    for name, contact, address in _CONTRACTORS:
        add_contractor(db, admin, NewContractor(name=name, contact_name=contact, address=address,
                                                accreditation="TrustMark", accreditation_expires=date(2028, 3, 31)))  # fmt: skip
    year = financial_year_of(local_day(utcnow()))
    for code in districts:
        for financial_year in (year - 1, year):  # the demo's cases were approved over the last 14 months
            for line, amount in (("mandatory", 900_000_00), ("top_up", 100_000_00)):
                allocate(db, admin, district=code, financial_year=financial_year, funding_line=line,
                         amount_pence=amount, reason="Better Care Fund DFG allocation (demo figures)")  # fmt: skip


def _new_case(rng: random.Random, code: str, first_contact: date) -> NewCase:
    town, prefixes = _TOWNS[code]
    urgent = rng.random() < 0.3
    age = rng.choice((rng.randint(66, 92), rng.randint(66, 92), rng.randint(30, 64)))
    woman = rng.random() < 0.55
    applicant = NewPerson(
        title=rng.choice(("Mrs", "Ms", "Miss")) if woman else "Mr",
        given_name=rng.choice(_WOMEN if woman else _MEN),
        family_name=rng.choice(_FAMILY),
        date_of_birth=date(first_contact.year - age, rng.randint(1, 12), rng.randint(1, 28)),
        is_applicant=True,
        is_disabled_occupant=True,
        communication_needs="large_print" if rng.random() < 0.15 else None,
    )
    prefix = rng.choice(prefixes)
    tenure = rng.choice(("owner", "owner", "owner", "tenant", "tenant", "landlord"))
    if tenure == "landlord":  # a landlord does not live at the home: their letters go to their office
        office = PostalAddress(
            line_1="The Estate Office, 2 Market Square", town=town, postcode=f"{prefix} 1AA"
        )
        applicant = replace(applicant, postal_address=office)
    return NewCase(
        district=code,
        priority="urgent" if urgent else "non_urgent",
        priority_reason=rng.choice(("hospital discharge", "end of life", "carer at risk of injury"))
        if urgent
        else None,
        tenure=tenure,
        first_contact_date=first_contact,
        address_line_1=f"{rng.randint(1, 140)} {rng.choice(_STREETS)}",
        town=town,
        postcode=f"{prefix} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        referral_source=rng.choice(
            ("county OT", "self-referral", "hospital discharge team", "housing association")
        ),
        people=(applicant,),
    )


_NEEDS = (
    (("d", "e", "f"), (("stairlift_straight", None),)),
    (("d", "e", "f"), (("stairlift_curved", None),)),
    (("f", "g"), (("level_access_shower", None),)),
    (("a",), (("ramp", None), ("door_widening", None))),
    (("d", "f"), (("through_floor_lift", None), ("level_access_shower", None))),
    (("e",), (("wc", None),)),
    (("garden",), (("garden_access", None),)),
    (("d", "e", "f", "g"), (("extension", None),)),
)


def _assessment(rng: random.Random, on: date, urgent: bool) -> AssessmentInput:
    purposes, works = rng.choice(_NEEDS)
    return AssessmentInput(
        assessed_on=on,
        assessor=rng.choice(("Ruth Ashley", "Sam Okafor", "Lindsey Pugh")),
        organisation="Staffordshire County Council",
        purposes=purposes,
        works=works,
        priority="urgent" if urgent else "non_urgent",
        priority_reason="Discharge from hospital waiting on the adaptation" if urgent else None,
        necessary_and_appropriate=True,
        reasons="Cannot manage the stairs or bath safely; falls risk; carer strain",
    )


def _household(rng: random.Random, tenure: str) -> dict[str, object]:
    couple = rng.random() < 0.5
    people = [{"age": rng.randint(66, 90), "benefits": [], "premiums": ["disability"]}]
    if couple:
        people.append({"age": rng.randint(64, 88), "benefits": [], "premiums": []})
    passported = rng.random() < 0.45
    if passported:
        people[0]["benefits"] = [
            rng.choice(("pension_credit_guarantee", "housing_benefit", "universal_credit"))
        ]
    return {
        "tenure": tenure,  # the case's own kind of application
        "application_for_child": False,
        "couple": couple,
        "relevant_persons": people,
        "children": [],
        "weekly_income": [{"kind": "state_pension", "amount": f"{rng.randint(180, 420)}.00"}],
        "capital": f"{rng.choice((0, 2500, 5500, 9000, 16000))}.00",
        "earlier_contributions": [],
    }


def _charges(rng: random.Random) -> list[ChargeRequest]:
    charges = [ChargeRequest("agency_fee")] if rng.random() < 0.6 else []
    if rng.random() < 0.3:
        charges.append(ChargeRequest("survey", rng.choice((250, 350, 450)) * 100))
    return charges


def _calculate(
    db: Database,
    officer: Actor,
    reference: str,
    charges: list[ChargeRequest],
    on: date,
    *,
    landlord_decided_by: Actor | None = None,
) -> GrantRecord:
    """Select the lowest estimate and calculate the grant on it, as the grant officer does before the
    approver decides; on a landlord's application, the approver first decides its amount."""
    lowest = min(case_estimates(db, officer, reference).estimates, key=lambda e: e.price_pence)
    select_estimate(db, officer, reference, lowest.id, on=on)
    if landlord_decided_by is not None:  # the council decides a landlord's grant (s.31): here, most of it
        decide_landlord_grant(
            db,
            landlord_decided_by,
            reference,
            amount_pence=min(lowest.price_pence * 3 // 4, 30_000_00),
            factors=["rent", "policy"],
            on=on,
            reason="The adapted home may be let at a higher rent; the rest is the landlord's",
        )
    return calculate_case_grant(db, officer, reference, charges=charges, on=on)


def approved_contractor(db: Database, actor: Actor, reference: str) -> str:
    contractor = approval_versions(db, actor, reference)[-1].contractor
    assert contractor is not None  # the demo always selects an estimate
    return contractor


def _post(db: Database, officer: Actor, on: date) -> None:
    """Produce the district's pending letters as on the afternoon of ``on`` (the letters wait for
    nothing the demo leaves out; one that did would stay in the queue, as in live use)."""
    render_pending(db, officer, workers=1, now=_afternoon(on))


def _afternoon(on: date) -> datetime:
    """Four in the afternoon in England on ``on``, or now if that is still to come today."""
    return min(datetime.combine(on, time(16), tzinfo=ENGLAND), utcnow())


def _walk(db: Database, rng: random.Random, code: str, users: dict[str, Actor], today: date) -> None:
    first_contact = today - timedelta(days=rng.randint(10, 420))
    officer = users[f"{code}.officer"]
    new = _new_case(rng, code, first_contact)
    reference = open_case(db, officer, new)
    if rng.random() < 0.7:
        assign(db, officer, reference, f"{code.lower()}.officer")
    urgent = new.priority == "urgent"  # the OT confirms the referral's priority
    on = first_contact
    state = "referral"
    roll = rng.random()
    stop_at = rng.randint(0, len(_PATH))  # how far this case has got, before time runs out
    for number, (trigger, who, slow, fast) in enumerate(_PATH, start=1):
        _post(db, officer, on)  # the letters of the step before, on its day
        step = max(1, int(rng.gauss(fast if urgent else slow, (fast if urgent else slow) / 3)))
        if on + timedelta(days=step) > today or number > stop_at:
            break
        on += timedelta(days=step)
        actor = users[{"officer": f"{code}.officer", "technical": f"{code}.technical"}.get(who, who)]
        if trigger == "approve" and roll < 0.08:
            advance(db, users["approver"], reference, "refuse",
                    TriggerInput(on=on, code="not_reasonable_practicable",
                                 reason="The structure of the stair cannot take a lift; alternatives offered"))  # fmt: skip
            _post(db, officer, on)
            return
        if trigger == "record_assessment":
            state = record_assessment(db, actor, reference, _assessment(rng, on, urgent)).to_state
            continue
        if trigger == "complete_test_of_resources":
            run_means_test(db, actor, reference, _household(rng, new.tenure), on=on)
        if trigger == "validate_application":
            works = rng.randint(25, 280) * 100_00
            for contractor, price in zip(
                rng.sample(_CONTRACTORS, 2), (works, works + rng.randint(1, 20) * 50_00), strict=True
            ):
                record_estimate(
                    db, officer, reference, contractor=contractor[0], price_pence=price, received_on=on
                )
        if trigger == "approve":
            landlord = users["approver"] if new.tenure == "landlord" else None
            record = _calculate(db, officer, reference, _charges(rng), on, landlord_decided_by=landlord)
            state = approve_grant(db, actor, reference, on=on).to_state
            if record.total_assistance_pence == 0:  # a nil grant: approved, then closed with nothing to order
                advance(db, officer, reference, "close_nil_grant",
                        TriggerInput(on=on, reason="The contribution covers the cost; the family will fund it"))  # fmt: skip
                _post(db, officer, on)  # the approval and the closure notice, on their day
                return
            continue
        if trigger == "start_on_site" and rng.random() < 0.15:
            vary_works(db, users["approver"], reference, change="Extra grab rails and a lever tap",
                       price_change_pence=rng.choice((180, 240, 320)) * 100, on=on - timedelta(days=1))  # fmt: skip
        if trigger == "complete_works" and rng.random() < 0.5:
            approved = money_view(db, officer, reference).approved_pence
            work_done = approved * 3 // 4
            # within what may be paid before the certified date (a grant of fees only has no room)
            amount = min(work_done * 2 // 3, payment_due(db, officer, reference).interim_room_pence)
            if amount > 0:
                pay_interim(db, officer, reference, amount_pence=amount, work_done_pence=work_done,
                            on=on - timedelta(days=1))  # fmt: skip
        if trigger == "certify":
            for check, by in (
                ("inspection", actor),
                ("ot_sign_off", users["ot"]),
                ("applicant_satisfaction", officer),
            ):
                record_completion_check(db, by, reference, check, passed=True, on=on)
        if trigger == "pay_final":
            money = money_view(db, officer, reference)
            invoiced = money.approved_pence + money.contribution_pence
            if new.tenure == "landlord":  # the landlord pays the contractor what the decided grant does not
                invoiced = grant_calculation(db, officer, reference).calculation["works_pence"]
            record_invoice(db, officer, reference, supplier=approved_contractor(db, officer, reference),
                           invoice_reference=f"INV-{rng.randint(1000, 9999)}", received_on=on,
                           amount_pence=invoiced)  # fmt: skip
            state = pay_final(db, actor, reference, on=on).to_state
            continue
        if trigger == "close":
            money = money_view(db, officer, reference)
            if money.contribution_pence > money.contribution_collected_pence:
                record_contribution(db, officer, reference, on=on,
                                    amount_pence=money.contribution_pence - money.contribution_collected_pence)  # fmt: skip
            if land_charge_view(db, officer, reference).applies:
                # The registration step is dated when it is recorded: recorded on its day, so that its
                # notice, produced that day, is dated that day too.
                register_land_charge(db, officer, reference, registered_on=on, now=_afternoon(on),
                                     registry_reference=f"LLC/{reference}")  # fmt: skip
        state = advance(db, actor, reference, trigger, TriggerInput(on=on)).to_state
    _post(db, officer, on)
    if state == "closed":
        return
    if state == "application_valid":  # the officer calculates the grant before the approver decides
        landlord = users["approver"] if new.tenure == "landlord" else None
        _calculate(db, officer, reference, [ChargeRequest("agency_fee")], on, landlord_decided_by=landlord)
    if state == "awaiting_assessment" and roll < 0.6:  # the visit is booked, a few days to weeks ahead
        visit = datetime.combine(today + timedelta(days=3 + int(roll * 30)), time(9 + int(roll * 10) % 6, 30))
        book_appointment(db, users["ot"], reference, Appointment(
            at=visit.replace(tzinfo=ENGLAND), assessor_name="Ruth Ashley",
            assessor_organisation="Staffordshire County Council",
        ))  # fmt: skip
    if roll > 0.95:
        advance(
            db,
            officer,
            reference,
            "withdraw",
            TriggerInput(reason="Family are moving her to sheltered housing"),
        )
    elif roll > 0.90:
        advance(db, officer, reference, "cancel",
                TriggerInput(code="no_response", reason="Three letters and two calls unanswered"))  # fmt: skip
    elif roll > 0.84:
        advance(db, officer, reference, "hold",
                TriggerInput(code="hospital", reason="Admitted to Royal Stoke", review_date=today + timedelta(days=21)))  # fmt: skip
    _post(db, officer, today)


def run_demo(
    db: Database, *, per_district: int = 6, seed: int = 2026, progress: Progress = unwatched
) -> DemoSummary:
    """Create the schema, the districts and users, and ``per_district`` cases in each district."""
    upgrade(db)
    mark_demo(db)  # before any user: on a demonstration --as chooses freely
    districts = listed_districts()
    _seed_people(db, districts)
    give_demo_passwords(db)  # so that the browser application can be tried at once
    usernames = ["admin", "ot.county", "approver", "manager"]
    usernames += [f"{c.lower()}.{kind}" for c in districts for kind in ("officer", "technical")]
    users: dict[str, Actor] = {name: user_actor(db, name) for name in usernames}
    users.update({f"{c}.officer": users[f"{c.lower()}.officer"] for c in districts})
    users.update({f"{c}.technical": users[f"{c.lower()}.technical"] for c in districts})
    users["ot"] = users["ot.county"]
    rng = random.Random(seed)
    today = local_day(utcnow())
    cases = per_district * len(districts)
    progress(0, cases)
    for _ in range(per_district):
        for code in districts:
            _walk(db, rng, code, users, today)
            progress(1, cases)
    return DemoSummary(count_cases(db), pipeline(db, user_actor(db, "manager")))
