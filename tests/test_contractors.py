"""The contractor register and the estimates on a case: recorded, waived and selected, each change an
event on the right audit stream, and every refusal leaving the database as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from dfg.errors import DfgError, InvalidInput, NotFound, PermissionDenied
from dfg.paths import workflows_dir
from dfg.rules.clock import local_day, utcnow
from dfg.rules.policy import WorksPolicy, load_works_policy
from dfg.services import estimates as estimates_service
from dfg.services.case_history import history
from dfg.services.cases import advance
from dfg.services.contractors import (
    NewContractor,
    add_contractor,
    find_contractor,
    list_contractors,
    update_contractor,
)
from dfg.services.estimates import (
    case_estimates,
    estimate_facts,
    parse_unacceptable,
    record_estimate,
    select_estimate,
    selection_in_force,
    waive_estimates,
)
from dfg.store.audit import SYSTEM_STREAM, verify
from dfg.store.database import Database
from dfg.store.models import CASES, CONTRACTORS, ESTIMATE_DECISIONS, ESTIMATES, EVENTS, Event
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step, walk_to

TODAY = local_day(utcnow())
RECEIVED = TODAY - timedelta(days=10)
CURRENT = TODAY + timedelta(days=365)  # an accreditation good for a year yet
LAPSED = TODAY - timedelta(days=30)

NEEDED = (
    "at least two from different contractors are needed, or a direction waiving it ('dfg estimate waive')"
)


def _snapshot(db: Database) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    with db.read_connection() as connection:
        counts = {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in (CONTRACTORS, ESTIMATES, ESTIMATE_DECISIONS, EVENTS)
        }
        cases = list(connection.execute(select(CASES.c.reference, CASES.c.version, CASES.c.audit_head)))
        register = list(connection.execute(select(CONTRACTORS).order_by(CONTRACTORS.c.id)))
    return {"counts": counts, "cases": cases, "register": register}


@pytest.fixture
def unchanged(db: Database) -> Callable[..., DfgError]:
    """Run a call that must be refused; check it raised ``expected`` and changed nothing."""

    def refused(expected: type[DfgError], call: Callable[[], object]) -> DfgError:
        before = _snapshot(db)
        with pytest.raises(expected) as caught:
            call()
        assert _snapshot(db) == before
        return caught.value

    return refused


def _case_id(connection: Connection, reference: str) -> int:
    return int(connection.execute(select(CASES.c.id).where(CASES.c.reference == reference)).scalar_one())


def _audit_intact(db: Database) -> None:
    with db.reading() as session:
        _, _, problems = verify(session)
    assert problems == []


@pytest.fixture
def register(db: Database, cast: dict[str, Actor]) -> dict[str, int]:
    """Three contractors: two accredited for a year yet, one whose accreditation has lapsed."""
    made = {}
    for name, expires in (("Acme Builders", CURRENT), ("Bloggs & Co", CURRENT), ("Castle Lifts", LAPSED)):
        view = add_contractor(
            db, cast["officer"], NewContractor(name, accreditation="TrustMark", accreditation_expires=expires)
        )
        made[name] = view.id
    return made


def _walk(db: Database, cast: dict[str, Actor], reference: str, *steps: tuple[str, str]) -> None:
    for trigger, who in steps:
        take_step(db, cast, reference, trigger, who, TriggerInput())


TO_SCHEME_DESIGN = (
    ("accept_referral", "officer"), ("record_assessment", "ot"), ("complete_test_of_resources", "officer"),
)  # fmt: skip


@pytest.fixture
def scheme(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case at scheme design, taking estimates."""
    reference = open_sample()
    _walk(db, cast, reference, *TO_SCHEME_DESIGN)
    return reference


def _estimate(
    db: Database,
    actor: Actor,
    reference: str,
    contractor: str,
    pence: int,
    received_on: date = RECEIVED,
    **more: Any,
) -> int:
    return record_estimate(
        db, actor, reference, contractor=contractor, price_pence=pence, received_on=received_on, **more
    ).id


# ---------------------------------------------------------------------- the register


def test_register_add_find_update_list(
    db: Database, cast: dict[str, Actor], unchanged: Callable[..., DfgError]
) -> None:
    officer = cast["officer"]
    added = add_contractor(
        db, officer, NewContractor("  Acme   Builders ", contact_name="Jo Acme", phone="01543 000000",
                                   email="jo@acme.example", accreditation="TrustMark", accreditation_expires=CURRENT),
    )  # fmt: skip
    assert (added.name, added.status, added.accreditation_current) == ("Acme Builders", "active", True)
    assert added.accreditation_text == f"TrustMark to {CURRENT:%d/%m/%Y}"
    assert find_contractor(db, officer, "acme BUILDERS").id == added.id
    assert find_contractor(db, officer, added.id).name == "Acme Builders"
    assert find_contractor(db, officer, str(added.id)).name == "Acme Builders"

    error = unchanged(InvalidInput, lambda: add_contractor(db, cast["admin"], NewContractor("ACME builders")))
    assert str(error) == "there is already a contractor 'ACME builders' on the register"
    unchanged(PermissionDenied, lambda: add_contractor(db, cast["ot"], NewContractor("Dale Adaptations")))
    unchanged(InvalidInput, lambda: add_contractor(db, officer, NewContractor("  ")))
    unchanged(
        InvalidInput,
        lambda: add_contractor(db, officer, NewContractor("Dale", accreditation_expires=CURRENT)),
    )
    unchanged(
        InvalidInput, lambda: add_contractor(db, officer, NewContractor("Dale", email="not an address"))
    )
    unchanged(NotFound, lambda: update_contractor(db, officer, "Nobody Ltd", status="suspended"))
    unchanged(InvalidInput, lambda: update_contractor(db, officer, "Acme Builders"))
    unchanged(InvalidInput, lambda: update_contractor(db, officer, "Acme Builders", status="struck_off"))
    unchanged(InvalidInput, lambda: update_contractor(db, officer, "Acme Builders", phone="01543 000000"))
    unchanged(
        PermissionDenied, lambda: update_contractor(db, cast["technical"], "Acme Builders", status="removed")
    )

    renewed = update_contractor(
        db, cast["admin"], "acme builders", accreditation_expires=CURRENT + timedelta(days=365)
    )
    assert (
        renewed.accreditation_expires == CURRENT + timedelta(days=365)
        and renewed.updated_at >= added.updated_at
    )
    suspended = update_contractor(
        db, officer, "Acme Builders", status="suspended", reason="complaint under investigation"
    )
    assert suspended.status == "suspended"
    cleared = update_contractor(db, officer, "Acme Builders", accreditation="")
    assert (cleared.accreditation, cleared.accreditation_expires, cleared.accreditation_text) == (
        None,
        None,
        "none",
    )

    add_contractor(
        db, officer, NewContractor("Castle Lifts", accreditation="TrustMark", accreditation_expires=LAPSED)
    )
    add_contractor(db, officer, NewContractor("bloggs & co"))
    update_contractor(db, officer, "Castle Lifts", status="removed")
    listed = list_contractors(db, officer, on=TODAY)
    assert [c.name for c in listed] == ["Acme Builders", "bloggs & co"]
    every = list_contractors(db, officer, include_removed=True, on=LAPSED)
    assert [(c.name, c.status, c.accreditation_current) for c in every] == [
        ("Acme Builders", "suspended", False), ("bloggs & co", "active", False), ("Castle Lifts", "removed", True),
    ]  # fmt: skip
    assert every[2].as_dict()["accreditation_expires"] == LAPSED.isoformat()

    with db.reading() as session:
        events = list(session.scalars(select(Event).where(Event.stream == SYSTEM_STREAM).order_by(Event.seq)))
    register_events = [e for e in events if e.kind.startswith("contractor_")]
    assert [e.kind for e in register_events] == [
        "contractor_added", "contractor_updated", "contractor_updated", "contractor_updated", "contractor_added",
        "contractor_added", "contractor_updated",
    ]  # fmt: skip
    assert json.loads(register_events[0].payload)["email"] == "jo@acme.example"
    suspension = register_events[2]
    assert (suspension.actor, suspension.role, suspension.reason) == (
        "officer",
        "grant_officer",
        "complaint under investigation",
    )
    assert json.loads(suspension.payload)["changed"] == {"status": {"from": "active", "to": "suspended"}}
    assert json.loads(register_events[3].payload)["changed"] == {
        "accreditation": {"from": "TrustMark", "to": None},
        "accreditation_expires": {"from": (CURRENT + timedelta(days=365)).isoformat(), "to": None},
    }
    _audit_intact(db)


# ---------------------------------------------------------------------- the requirement


def test_requirement_counts_contractors_not_estimates(
    db: Database, cast: dict[str, Actor], register: dict[str, int], scheme: str
) -> None:
    officer = cast["officer"]

    def requirement() -> str | None:
        return case_estimates(db, officer, scheme).requirement

    assert requirement() == f"no estimate is recorded: {NEEDED}"
    _estimate(db, officer, scheme, "Acme Builders", 5_000_00)
    assert requirement() == f"only 1 estimate (from 1 contractor) is recorded: {NEEDED}"
    _estimate(db, cast["technical"], scheme, "acme builders", 4_800_00, contractor_reference="Q-17")
    assert requirement() == f"only 2 estimates (from 1 contractor) are recorded: {NEEDED}"
    _estimate(db, officer, scheme, "Bloggs & Co", 4_500_00)
    assert requirement() is None
    with db.read_connection() as connection:
        case_id = _case_id(connection, scheme)
        assert estimate_facts(connection, case_id) == (
            [register["Acme Builders"]] * 2 + [register["Bloggs & Co"]],
            False,
        )


def test_a_waiver_meets_the_requirement(
    db: Database,
    cast: dict[str, Actor],
    register: dict[str, int],
    scheme: str,
    unchanged: Callable[..., DfgError],
) -> None:
    _estimate(db, cast["officer"], scheme, "Acme Builders", 5_000_00)
    unchanged(InvalidInput, lambda: waive_estimates(db, cast["officer"], scheme, reason="   "))
    unchanged(PermissionDenied, lambda: waive_estimates(db, cast["technical"], scheme, reason="specialist"))
    waiver = waive_estimates(
        db, cast["officer"], scheme, reason="the only specialist fitter of through-floor lifts"
    )
    view = case_estimates(db, cast["officer"], scheme)
    assert view.requirement is None
    assert view.waiver is not None and view.waiver.decision_id == waiver.decision_id
    assert view.as_dict()["waiver"]["reason"] == "the only specialist fitter of through-floor lifts"
    with db.read_connection() as connection:
        case_id = _case_id(connection, scheme)
        assert estimate_facts(connection, case_id) == ([register["Acme Builders"]], True)
    last = history(db, cast["officer"], scheme)[-1]
    assert (last.kind, last.reason) == (
        "estimates_waived",
        "the only specialist fitter of through-floor lifts",
    )


# ---------------------------------------------------------------------- recording estimates


def test_recording_an_estimate(
    db: Database, cast: dict[str, Actor], register: dict[str, int], scheme: str
) -> None:
    made = record_estimate(
        db, cast["technical"], scheme.lower(), contractor="BLOGGS & CO", price_pence=4_500_00, received_on=RECEIVED,
        contractor_reference="Q-2026-17", notes="includes making good",
    )  # fmt: skip
    assert (made.reference, made.contractor_name, made.contractor_id) == (
        scheme,
        "Bloggs & Co",
        register["Bloggs & Co"],
    )
    event = history(db, cast["officer"], scheme)[-1]
    assert (event.kind, event.actor, event.role) == ("estimate_recorded", "technical", "technical_officer")
    assert json.loads(event.payload) == {
        "estimate": made.id, "contractor": "Bloggs & Co", "contractor_id": register["Bloggs & Co"],
        "price_pence": 4_500_00, "received_on": RECEIVED.isoformat(), "contractor_reference": "Q-2026-17",
        "notes": "includes making good",
    }  # fmt: skip
    listed = case_estimates(db, cast["ot"], scheme).as_dict()["estimates"]
    assert listed == [{**made.as_dict(), "not_selectable": None}]
    assert listed[0]["price_pence"] == 4_500_00 and listed[0]["received_on"] == RECEIVED.isoformat()


def test_bad_estimates_are_refused_and_change_nothing(
    db: Database,
    cast: dict[str, Actor],
    register: dict[str, int],
    scheme: str,
    unchanged: Callable[..., DfgError],
) -> None:
    officer = cast["officer"]

    def record(actor: Actor = officer, **changes: Any) -> Callable[[], object]:
        given: dict[str, Any] = {
            "contractor": "Acme Builders",
            "price_pence": 4_500_00,
            "received_on": RECEIVED,
        }
        return lambda: record_estimate(db, actor, scheme, **{**given, **changes})

    negative = unchanged(InvalidInput, record(price_pence=-1_00))
    assert str(negative) == "the price must be more than £0.00 (it was -£1.00)"
    future = unchanged(InvalidInput, record(received_on=TODAY + timedelta(days=1)))
    assert "is in the future" in str(future)
    unchanged(InvalidInput, record(price_pence=True))
    unchanged(NotFound, record(contractor="Nobody Ltd"))
    unchanged(PermissionDenied, record(cast["ot"]))
    unchanged(PermissionDenied, record(cast["approver"]))
    unchanged(PermissionDenied, record(cast["lichfield"]))  # another district's officer
    unchanged(NotFound, lambda: record_estimate(db, officer, "CAN-2026-0999", contractor="Acme Builders",
                                                price_pence=1_00, received_on=RECEIVED))  # fmt: skip
    update_contractor(db, officer, "Acme Builders", status="removed")
    removed = unchanged(InvalidInput, record())
    assert str(removed) == "Acme Builders has been removed from the contractor register"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((), "is referral: estimates are taken from scheme design until approval"),
        ((("accept_referral", "officer"),), "is awaiting assessment: estimates are taken from scheme design until approval"),
    ],
)  # fmt: skip
def test_estimates_only_before_approval(
    db: Database, cast: dict[str, Actor], register: dict[str, int], open_sample: Callable[..., str],
    unchanged: Callable[..., DfgError], steps: tuple[tuple[str, str], ...], message: str,
) -> None:  # fmt: skip
    reference = open_sample()
    _walk(db, cast, reference, *steps)
    for call in (
        lambda: _estimate(db, cast["officer"], reference, "Acme Builders", 1_00),
        lambda: waive_estimates(db, cast["officer"], reference, reason="specialist"),
        lambda: select_estimate(db, cast["officer"], reference, 1),
    ):
        assert str(unchanged(InvalidInput, call)) == f"{reference} {message}"


def test_estimates_in_every_state_from_scheme_design_to_a_valid_application(
    db: Database, cast: dict[str, Actor], register: dict[str, int], scheme: str
) -> None:
    _estimate(db, cast["officer"], scheme, "Acme Builders", 5_000_00)
    _walk(db, cast, scheme, ("receive_application", "officer"))
    _estimate(db, cast["officer"], scheme, "Bloggs & Co", 4_500_00)
    # fired directly: take_step would record its own estimates from its own register
    advance(db, cast["officer"], scheme, "validate_application", TriggerInput())
    _estimate(db, cast["technical"], scheme, "Bloggs & Co", 4_400_00)
    assert len(case_estimates(db, cast["officer"], scheme).estimates) == 3


def test_no_estimates_after_approval(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], unchanged: Callable[..., DfgError]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "approved")  # the real path: estimates, selection, calculation, approval
    for call in (
        lambda: _estimate(db, cast["officer"], reference, "Brook Builders", 4_000_00),
        lambda: waive_estimates(db, cast["officer"], reference, reason="specialist"),
        lambda: select_estimate(db, cast["officer"], reference, 1),
    ):
        assert (
            str(unchanged(InvalidInput, call))
            == f"{reference} is approved: estimates are taken before approval"
        )


# ---------------------------------------------------------------------- selecting


@pytest.fixture
def priced(db: Database, cast: dict[str, Actor], register: dict[str, int], scheme: str) -> dict[str, int]:
    """Acme £5,000, Bloggs £4,500, and a second Bloggs price of £4,200 (the lowest)."""
    officer = cast["officer"]
    return {
        "acme": _estimate(db, officer, scheme, "Acme Builders", 5_000_00),
        "bloggs": _estimate(db, officer, scheme, "Bloggs & Co", 4_500_00),
        "bloggs_revised": _estimate(db, officer, scheme, "Bloggs & Co", 4_200_00),
    }


def test_selecting_the_lowest(
    db: Database, cast: dict[str, Actor], scheme: str, priced: dict[str, int]
) -> None:
    selection = select_estimate(db, cast["officer"], scheme, priced["bloggs_revised"])
    choice = selection.choice
    assert (choice.eligible_works_pence, choice.price_pence, choice.applicant_pays_pence) == (
        4_200_00,
        4_200_00,
        0,
    )
    view = case_estimates(db, cast["officer"], scheme)
    assert view.selection is not None
    assert (view.selection.estimate_id, view.selection.contractor_name) == (
        priced["bloggs_revised"],
        "Bloggs & Co",
    )
    assert (
        view.selection.how_decided
        == "Eligible works £4,200.00: the lowest acceptable estimate, from Bloggs & Co."
    )
    assert view.as_dict()["selection"]["eligible_works_pence"] == 4_200_00
    event = history(db, cast["officer"], scheme)[-1]
    assert (event.kind, event.role) == ("estimate_selected", "grant_officer")
    said = json.loads(event.payload)
    assert (said["estimate"], said["eligible_works_pence"], said["applicant_pays_pence"]) == (
        priced["bloggs_revised"],
        4_200_00,
        0,
    )
    assert said["how_decided"] == view.selection.how_decided and said["policy"] == "works.toml"


def test_a_dearer_choice_needs_a_reason_and_the_applicant_pays_the_difference(
    db: Database,
    cast: dict[str, Actor],
    scheme: str,
    priced: dict[str, int],
    unchanged: Callable[..., DfgError],
) -> None:
    officer = cast["officer"]
    refused = unchanged(InvalidInput, lambda: select_estimate(db, officer, scheme, priced["acme"]))
    assert str(refused) == (
        f"estimate {priced['acme']} (Acme Builders, £5,000.00) is dearer than the lowest acceptable estimate "
        f"{priced['bloggs_revised']} (Bloggs & Co, £4,200.00): give the reason for choosing it (the applicant pays "
        "the £800.00 difference)"
    )
    select_estimate(db, officer, scheme, priced["bloggs_revised"])
    chosen = select_estimate(db, officer, scheme, priced["acme"], reason="the applicant's own builder")
    assert (chosen.choice.eligible_works_pence, chosen.choice.applicant_pays_pence) == (4_200_00, 800_00)
    with db.read_connection() as connection:
        case_id = _case_id(connection, scheme)
        in_force = selection_in_force(connection, case_id)
    assert in_force is not None  # the latest selection is the one in force
    assert (in_force.estimate_id, in_force.contractor_id, in_force.price_pence) == (
        priced["acme"],
        _contractor_of(db, priced["acme"]),
        5_000_00,
    )
    assert (in_force.eligible_works_pence, in_force.applicant_pays_pence, in_force.reason) == (
        4_200_00,
        800_00,
        "the applicant's own builder",
    )
    assert history(db, officer, scheme)[-1].reason == "the applicant's own builder"


def _contractor_of(db: Database, estimate_id: int) -> int:
    with db.read_connection() as connection:
        return int(
            connection.scalar(select(ESTIMATES.c.contractor_id).where(ESTIMATES.c.id == estimate_id)) or 0
        )


def test_unacceptable_estimates_are_excluded(
    db: Database,
    cast: dict[str, Actor],
    scheme: str,
    priced: dict[str, int],
    unchanged: Callable[..., DfgError],
) -> None:
    officer = cast["officer"]
    rejected = {priced["bloggs_revised"]: "leaves out the making good"}
    chosen = select_estimate(db, officer, scheme, priced["bloggs"], unacceptable=rejected)
    assert (chosen.choice.eligible_works_pence, chosen.choice.applicant_pays_pence) == (4_500_00, 0)
    said = json.loads(history(db, officer, scheme)[-1].payload)
    assert said["not_acceptable"] == [
        {"estimate": priced["bloggs_revised"], "reason": "leaves out the making good"}
    ]
    unchanged(
        InvalidInput, lambda: select_estimate(db, officer, scheme, priced["bloggs"], unacceptable={999: "no"})
    )
    unchanged(InvalidInput, lambda: select_estimate(db, officer, scheme, 999))
    unchanged(
        InvalidInput,
        lambda: select_estimate(db, officer, scheme, priced["bloggs"], unacceptable={priced["bloggs"]: "no"}),
    )


def test_selection_refusals_change_nothing(
    db: Database,
    cast: dict[str, Actor],
    scheme: str,
    priced: dict[str, int],
    unchanged: Callable[..., DfgError],
) -> None:
    lowest = priced["bloggs_revised"]
    unchanged(PermissionDenied, lambda: select_estimate(db, cast["technical"], scheme, lowest))
    unchanged(PermissionDenied, lambda: select_estimate(db, cast["lichfield"], scheme, lowest))
    future = unchanged(
        InvalidInput,
        lambda: select_estimate(db, cast["officer"], scheme, lowest, on=TODAY + timedelta(days=1)),
    )
    assert "is in the future" in str(future)
    early = unchanged(
        InvalidInput,
        lambda: select_estimate(db, cast["officer"], scheme, lowest, on=RECEIVED - timedelta(days=1)),
    )
    assert str(early).startswith(
        f"estimate {priced['acme']} was received on {RECEIVED:%d/%m/%Y}, after the selection date"
    )


# ---------------------------------------------------------------------- accreditation and the works policy


def _lenient_policy(tmp_path: Path) -> Callable[..., WorksPolicy]:
    """The shipped works policy, but accepting contractors without a current accreditation."""
    shipped = (workflows_dir() / "policy" / "works.toml").read_text()
    assert "require_current_accreditation = true" in shipped
    (tmp_path / "works.toml").write_text(
        shipped.replace("require_current_accreditation = true", "require_current_accreditation = false")
    )

    def load(district: str | None = None, *, directory: Path | None = None) -> WorksPolicy:
        return load_works_policy(district, directory=tmp_path)

    return load


@pytest.fixture
def lapsed_lowest(db: Database, cast: dict[str, Actor], scheme: str) -> dict[str, int]:
    """Castle Lifts (accreditation lapsed) is cheapest at £3,900; Acme £4,100. Both were received while
    Castle Lifts was still accredited."""
    officer, before = cast["officer"], LAPSED - timedelta(days=10)
    add_contractor(
        db, officer, NewContractor("Acme Builders", accreditation="TrustMark", accreditation_expires=CURRENT)
    )
    add_contractor(
        db, officer, NewContractor("Castle Lifts", accreditation="TrustMark", accreditation_expires=LAPSED)
    )
    return {
        "castle": _estimate(db, officer, scheme, "Castle Lifts", 3_900_00, received_on=before),
        "acme": _estimate(db, officer, scheme, "Acme Builders", 4_100_00, received_on=before),
    }


def test_a_lapsed_accreditation_cannot_be_selected(
    db: Database,
    cast: dict[str, Actor],
    scheme: str,
    lapsed_lowest: dict[str, int],
    unchanged: Callable[..., DfgError],
) -> None:
    refused = unchanged(
        InvalidInput, lambda: select_estimate(db, cast["officer"], scheme, lapsed_lowest["castle"])
    )
    assert str(refused) == (
        f"estimate {lapsed_lowest['castle']} cannot be chosen: Castle Lifts's TrustMark accreditation expired on "
        f"{LAPSED:%d/%m/%Y}, before {TODAY:%d/%m/%Y}"
    )
    # nor does it set the eligible works: Acme is the lowest acceptable estimate
    chosen = select_estimate(db, cast["officer"], scheme, lapsed_lowest["acme"])
    assert (chosen.choice.eligible_works_pence, chosen.choice.applicant_pays_pence) == (4_100_00, 0)
    assert case_estimates(db, cast["officer"], scheme).not_selectable == {
        lapsed_lowest[
            "castle"
        ]: f"Castle Lifts's TrustMark accreditation expired on {LAPSED:%d/%m/%Y}, before {TODAY:%d/%m/%Y}"
    }
    # on its expiry date it was still current, so a selection made that day stands
    earlier = select_estimate(db, cast["officer"], scheme, lapsed_lowest["castle"], on=LAPSED)
    assert (earlier.choice.eligible_works_pence, earlier.on) == (3_900_00, LAPSED)


def test_a_policy_accepting_lapsed_accreditation(
    db: Database, cast: dict[str, Actor], scheme: str, lapsed_lowest: dict[str, int], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, unchanged: Callable[..., DfgError],
) -> None:  # fmt: skip
    monkeypatch.setattr(estimates_service, "load_works_policy", _lenient_policy(tmp_path))
    chosen = select_estimate(db, cast["officer"], scheme, lapsed_lowest["castle"])
    assert (chosen.choice.eligible_works_pence, chosen.choice.contractor) == (3_900_00, "Castle Lifts")
    assert case_estimates(db, cast["officer"], scheme).not_selectable == {}
    # a suspended contractor is never selectable, whatever the policy
    update_contractor(db, cast["officer"], "Castle Lifts", status="suspended")
    refused = unchanged(
        InvalidInput, lambda: select_estimate(db, cast["officer"], scheme, lapsed_lowest["castle"])
    )
    assert (
        str(refused)
        == f"estimate {lapsed_lowest['castle']} cannot be chosen: Castle Lifts is suspended from the contractor register"
    )


# ---------------------------------------------------------------------- the audit trail


def test_every_change_is_on_the_case_history_and_the_chains_verify(
    db: Database, cast: dict[str, Actor], scheme: str, priced: dict[str, int]
) -> None:
    officer = cast["officer"]
    waive_estimates(db, officer, scheme, reason="specialist lift")
    select_estimate(db, officer, scheme, priced["bloggs_revised"])
    kinds = [e.kind for e in history(db, officer, scheme)]
    assert kinds[-5:] == [
        "estimate_recorded",
        "estimate_recorded",
        "estimate_recorded",
        "estimates_waived",
        "estimate_selected",
    ]
    with db.reading() as session:
        system = [
            e.kind
            for e in session.scalars(select(Event).where(Event.stream == SYSTEM_STREAM).order_by(Event.seq))
        ]
    assert system.count("contractor_added") == 3
    _audit_intact(db)


def test_parse_unacceptable() -> None:
    assert parse_unacceptable(["4=no building regulations cover", " 7 = too slow "]) == {
        4: "no building regulations cover", 7: "too slow",
    }  # fmt: skip
    for bad in (["4"], ["x=too dear"], ["4=  "], ["4=a", "4=b"]):
        with pytest.raises(InvalidInput, match=r"^--unacceptable: "):
            parse_unacceptable(bad)
