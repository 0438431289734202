"""The estimates on a case: recorded, waived, and one selected; and the selection in force.

Estimates and the council's decisions on them belong to a case: each is an append-only row written with
its event on the case's stream, in one version-checked transaction
(:func:`dfg.services.cases.record_change`). Estimates are taken before approval: from scheme design
until the application is decided. The contractors they come from are on the register of
:mod:`dfg.services.contractors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from dfg.errors import InvalidInput, NotFound
from dfg.rules.clock import local_day, utcnow
from dfg.rules.estimates import (
    EstimateChoice,
    EstimateOption,
    choose_estimate,
    estimates_requirement,
    explain_selection,
    why_not_selectable,
)
from dfg.rules.money import format_pounds
from dfg.rules.policy import WorksPolicy, load_works_policy
from dfg.services.cases import check_district, check_version, normalise_reference, record_change
from dfg.services.contractors import contractor_on_register, typed_text
from dfg.store.database import Database
from dfg.store.models import CASES, CONTRACTORS, ESTIMATE_DECISIONS, ESTIMATES
from dfg.workflow.actor import Actor
from dfg.workflow.facts import CaseFacts
from dfg.workflow.roles import require_role

#: The states a case takes estimates in: after the test of resources, before the grant is decided.
ESTIMATE_STATES = ("scheme_design", "application_incomplete", "application_valid")

ESTIMATE_ROLES = ("grant_officer", "technical_officer")


def _not_taking(reference: str, state: str, approval_date: date | None) -> str | None:
    """Why a case in ``state`` is not taking estimates, saying when it does (None: it is)."""
    if state in ESTIMATE_STATES:
        return None
    when = "before approval" if approval_date else "from scheme design until approval"
    return f"{reference} is {state.replace('_', ' ')}: estimates are taken {when}"


def _taking_estimates(case: CaseFacts, expected_version: int | None = None) -> None:
    """Refuse a case that is not taking estimates, or that changed since the person acting saw it."""
    check_version(case.reference, case.version, expected_version)
    why = _not_taking(case.reference, case.state, case.milestones.get("approval_date"))
    if why is not None:
        raise InvalidInput(why)


class PriceToConfirm(InvalidInput):
    """A price above the district's plausible largest, refused until whoever records it confirms it.
    ``finding`` says what is wrong in words that name no command-line option (for a form)."""

    def __init__(self, price_pence: int, largest_pence: int) -> None:
        self.finding = (
            f"the price {format_pounds(price_pence)} is more than {format_pounds(largest_pence)}, the "
            "largest the district's works policy expects"
        )
        super().__init__(f"{self.finding}: check it, and confirm it (--confirm-price) if it is right")
        self.largest_pence = largest_pence


@dataclass(frozen=True)
class EstimateView:
    id: int
    reference: str
    contractor_id: int
    contractor_name: str
    price_pence: int
    received_on: date
    contractor_reference: str | None
    notes: str | None
    recorded_by: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "contractor_id": self.contractor_id,
            "contractor": self.contractor_name,
            "price_pence": self.price_pence,
            "received_on": self.received_on.isoformat(),
            "contractor_reference": self.contractor_reference,
            "notes": self.notes,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }


def record_estimate(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    contractor: str,
    price_pence: int,
    received_on: date,
    contractor_reference: str | None = None,
    notes: str | None = None,
    price_confirmed: bool = False,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> EstimateView:
    """Record a contractor's priced estimate for the works on a case (role: grant officer or technical
    officer). A revised price is a new estimate; the old one stays on the record. A price above the
    district's plausible largest needs ``price_confirmed`` (else :class:`PriceToConfirm`).
    ``expected_version``: the version of the case a form was read at (Conflict if it changed since)."""
    now = now or utcnow()
    role = require_role(actor, *ESTIMATE_ROLES)
    reference = normalise_reference(reference)
    if isinstance(price_pence, bool) or not isinstance(price_pence, int):
        raise InvalidInput(f"the price must be a whole number of pence, got {price_pence!r}")
    if price_pence <= 0:
        raise InvalidInput(f"the price must be more than £0.00 (it was {format_pounds(price_pence)})")
    if received_on > local_day(now):
        raise InvalidInput(f"the estimate's received date {received_on:%d/%m/%Y} is in the future")
    their_reference = typed_text(contractor_reference, "the contractor's reference", 60)
    note = typed_text(notes, "notes")
    made: dict[str, Any] = {}

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        found = contractor_on_register(connection, contractor)
        if found.status == "removed":
            raise InvalidInput(f"{found.name} has been removed from the contractor register")
        values = {
            "case_id": case_id, "contractor_id": found.id, "price_pence": price_pence,
            "received_on": received_on, "contractor_reference": their_reference, "notes": note,
            "recorded_by": actor.username, "recorded_at": now,
        }  # fmt: skip
        estimate_id = connection.execute(insert(ESTIMATES).returning(ESTIMATES.c.id), values).scalar_one()
        made.update(id=estimate_id, contractor=found.name, contractor_id=found.id)
        return {
            "estimate": estimate_id, "contractor": found.name, "contractor_id": found.id,
            "price_pence": price_pence, "received_on": received_on, "contractor_reference": their_reference,
            "notes": note,
        }  # fmt: skip

    def check(case: CaseFacts) -> None:
        _taking_estimates(case, expected_version)
        largest = load_works_policy(case.district).largest_estimate_pence
        if price_pence > largest and not price_confirmed:
            raise PriceToConfirm(price_pence, largest)

    record_change(
        db, actor, reference, role=role, kind="estimate_recorded", check=check, write_details=write, now=now,
    )  # fmt: skip
    return EstimateView(
        made["id"], reference, made["contractor_id"], made["contractor"], price_pence, received_on,
        their_reference, note, actor.username, now,
    )  # fmt: skip


@dataclass(frozen=True)
class Waiver:
    """A direction that fewer than two estimates (from different contractors) will do, and why."""

    decision_id: int
    reason: str
    recorded_by: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision_id,
            "reason": self.reason,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }


def waive_estimates(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    reason: str,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Waiver:
    """Record a direction waiving the two-estimates requirement on a case, with its reason (role:
    grant officer). ``expected_version`` as for :func:`record_estimate`."""
    now = now or utcnow()
    role = require_role(actor, "grant_officer")
    why = typed_text(reason, "reason")
    if why is None:
        raise InvalidInput("a direction waiving the estimates needs the reason for it")
    made: dict[str, int] = {}

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        made["id"] = connection.execute(
            insert(ESTIMATE_DECISIONS).returning(ESTIMATE_DECISIONS.c.id),
            {
                "case_id": case_id,
                "kind": "waiver",
                "reason": why,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        return {"decision": made["id"]}

    record_change(
        db, actor, reference, role=role, kind="estimates_waived", write_details=write, reason=why, now=now,
        check=lambda case: _taking_estimates(case, expected_version),
    )  # fmt: skip
    return Waiver(made["id"], why, actor.username, now)


@dataclass(frozen=True)
class Selection:
    """An estimate selected on a case, as recorded."""

    decision_id: int
    reference: str
    on: date
    choice: EstimateChoice

    def as_dict(self) -> dict[str, Any]:
        choice = self.choice
        return {
            "decision": self.decision_id,
            "reference": self.reference,
            "on": self.on.isoformat(),
            "estimate": choice.estimate_id,
            "contractor": choice.contractor,
            "price_pence": choice.price_pence,
            "eligible_works_pence": choice.eligible_works_pence,
            "applicant_pays_pence": choice.applicant_pays_pence,
            "lowest_estimate": choice.lowest_estimate_id,
            "reason": choice.reason,
            "not_acceptable": [{"estimate": i, "reason": why} for i, why in choice.not_acceptable],
            "how_decided": choice.how_decided,
        }


def parse_unacceptable(texts: Sequence[str]) -> dict[int, str]:
    """Estimates rejected on the command line: ``4=no building regulations cover`` (repeat)."""
    rejected: dict[int, str] = {}
    for text in texts:
        number, _, why = text.partition("=")
        if not number.strip().isdigit() or not why.strip():
            raise InvalidInput(
                f"--unacceptable: '{text}' should be ESTIMATE_ID=REASON, e.g. 4='no building regulations cover'"
            )
        if int(number) in rejected:
            raise InvalidInput(f"--unacceptable: estimate {int(number)} is given twice")
        rejected[int(number)] = why.strip()
    return rejected


_CASE_ESTIMATES = (
    select(
        ESTIMATES.c.id,
        ESTIMATES.c.contractor_id,
        ESTIMATES.c.price_pence,
        ESTIMATES.c.received_on,
        ESTIMATES.c.contractor_reference,
        ESTIMATES.c.notes,
        ESTIMATES.c.recorded_by,
        ESTIMATES.c.recorded_at,
        CONTRACTORS.c.name,
        CONTRACTORS.c.status,
        CONTRACTORS.c.accreditation,
        CONTRACTORS.c.accreditation_expires,
    )
    .join(CONTRACTORS, CONTRACTORS.c.id == ESTIMATES.c.contractor_id)
    .order_by(ESTIMATES.c.id)
)


def _estimate_view(reference: str, r: Row[Any]) -> EstimateView:
    return EstimateView(
        r.id, reference, r.contractor_id, r.name, r.price_pence, r.received_on, r.contractor_reference,
        r.notes, r.recorded_by, r.recorded_at,
    )  # fmt: skip


def _estimates_of(connection: Connection, case_id: int) -> list[Row[Any]]:
    return list(connection.execute(_CASE_ESTIMATES.where(ESTIMATES.c.case_id == case_id)))


def _not_selectable(row: Row[Any], on: date, policy: WorksPolicy) -> str | None:
    return why_not_selectable(
        row.name, row.status, row.accreditation, row.accreditation_expires, on,
        require_current_accreditation=policy.require_current_accreditation,
    )  # fmt: skip


def select_estimate(
    db: Database,
    actor: Actor,
    reference: str,
    estimate_id: int,
    *,
    reason: str | None = None,
    unacceptable: Mapping[int, str] | None = None,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Selection:
    """Select the estimate the works will be done on, and so the eligible works (role: grant officer).

    The eligible works are the lowest acceptable estimate; ``unacceptable`` maps the estimates the
    officer rejects to why. A dearer choice needs ``reason`` and leaves the difference to the applicant.
    Contractors are checked against the district's works policy on ``on`` (the selection date, default
    today). The latest selection is the one in force. ``expected_version`` as for :func:`record_estimate`."""
    now = now or utcnow()
    role = require_role(actor, "grant_officer")
    today = local_day(now)
    day = on or today
    if day > today:
        raise InvalidInput(f"the selection date {day:%d/%m/%Y} is in the future")
    rejected = dict(unacceptable or {})
    policies: list[WorksPolicy] = []
    chosen: list[EstimateChoice] = []

    def check(case: CaseFacts) -> None:
        _taking_estimates(case, expected_version)
        policies.append(load_works_policy(case.district))

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        rows = _estimates_of(connection, case_id)
        late = [r for r in rows if r.received_on > day]
        if late:
            raise InvalidInput(
                f"estimate {late[0].id} was received on {late[0].received_on:%d/%m/%Y}, after the selection "
                f"date {day:%d/%m/%Y}: select on a later date"
            )
        options = [
            EstimateOption(r.id, r.name, r.price_pence, _not_selectable(r, day, policies[0])) for r in rows
        ]
        choice = choose_estimate(options, estimate_id, unacceptable=rejected, reason=reason)
        decision_id = connection.execute(
            insert(ESTIMATE_DECISIONS).returning(ESTIMATE_DECISIONS.c.id),
            {
                "case_id": case_id, "kind": "selection", "estimate_id": choice.estimate_id,
                "eligible_works_pence": choice.eligible_works_pence,
                "applicant_pays_pence": choice.applicant_pays_pence, "reason": choice.reason,
                "recorded_by": actor.username, "recorded_at": now,
            },
        ).scalar_one()  # fmt: skip
        chosen.append(choice)
        return {**Selection(decision_id, reference, day, choice).as_dict(), "policy": policies[0].source_file}

    recorded = record_change(
        db, actor, reference, role=role, kind="estimate_selected", check=check, write_details=write,
        reason=typed_text(reason, "reason"), now=now,
    )  # fmt: skip
    return Selection(recorded.payload["decision"], recorded.reference, day, chosen[0])


# ---------------------------------------------------------------------- reading, for people and for guards


@dataclass(frozen=True)
class SelectionInForce:
    """The latest selection on a case: the estimate chosen and the eligible works it set."""

    decision_id: int
    estimate_id: int
    contractor_id: int
    contractor_name: str
    price_pence: int
    eligible_works_pence: int
    applicant_pays_pence: int
    reason: str | None
    recorded_by: str
    recorded_at: datetime

    @property
    def how_decided(self) -> str:
        return explain_selection(
            self.contractor_name,
            self.price_pence,
            self.eligible_works_pence,
            self.applicant_pays_pence,
            self.reason,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision_id,
            "estimate": self.estimate_id,
            "contractor_id": self.contractor_id,
            "contractor": self.contractor_name,
            "price_pence": self.price_pence,
            "eligible_works_pence": self.eligible_works_pence,
            "applicant_pays_pence": self.applicant_pays_pence,
            "reason": self.reason,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
            "how_decided": self.how_decided,
        }


_DECISIONS = ESTIMATE_DECISIONS


def selection_in_force(connection: Connection, case_id: int) -> SelectionInForce | None:
    """The case's latest selection, or ``None``: for guards and services, inside their own transaction."""
    row = connection.execute(
        select(
            _DECISIONS.c.id,
            _DECISIONS.c.estimate_id,
            _DECISIONS.c.eligible_works_pence,
            _DECISIONS.c.applicant_pays_pence,
            _DECISIONS.c.reason,
            _DECISIONS.c.recorded_by,
            _DECISIONS.c.recorded_at,
            ESTIMATES.c.contractor_id,
            ESTIMATES.c.price_pence,
            CONTRACTORS.c.name,
        )
        .join(ESTIMATES, ESTIMATES.c.id == _DECISIONS.c.estimate_id)
        .join(CONTRACTORS, CONTRACTORS.c.id == ESTIMATES.c.contractor_id)
        .where(_DECISIONS.c.case_id == case_id, _DECISIONS.c.kind == "selection")
        .order_by(_DECISIONS.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return SelectionInForce(
        row.id, row.estimate_id, row.contractor_id, row.name, row.price_pence, row.eligible_works_pence,
        row.applicant_pays_pence, row.reason, row.recorded_by, row.recorded_at,
    )  # fmt: skip


def _latest_waiver(connection: Connection, case_id: int) -> Waiver | None:
    row = connection.execute(
        select(_DECISIONS.c.id, _DECISIONS.c.reason, _DECISIONS.c.recorded_by, _DECISIONS.c.recorded_at)
        .where(_DECISIONS.c.case_id == case_id, _DECISIONS.c.kind == "waiver")
        .order_by(_DECISIONS.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else Waiver(row.id, row.reason or "", row.recorded_by, row.recorded_at)


def estimate_facts(connection: Connection, case_id: int) -> tuple[list[int], bool]:
    """The contractor of each of the case's estimates (in order) and whether a waiver is recorded: what
    :func:`dfg.rules.estimates.estimates_requirement` needs."""
    contractors = list(
        connection.scalars(
            select(ESTIMATES.c.contractor_id).where(ESTIMATES.c.case_id == case_id).order_by(ESTIMATES.c.id)
        )
    )
    waived = (
        connection.scalar(
            select(_DECISIONS.c.id)
            .where(_DECISIONS.c.case_id == case_id, _DECISIONS.c.kind == "waiver")
            .limit(1)
        )
        is not None
    )
    return contractors, waived


@dataclass(frozen=True)
class EstimatesView:
    """A case's estimates, the waiver and selection in force, and what the requirement still needs."""

    reference: str
    on: date
    estimates: tuple[EstimateView, ...]
    not_selectable: Mapping[int, str]  # estimate id -> why its contractor cannot be selected on ``on``
    waiver: Waiver | None
    selection: SelectionInForce | None
    requirement: str | None  # None: met
    not_taking: str | None = None  # why the case takes no estimates, waiver or selection now (None: it does)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "on": self.on.isoformat(),
            "estimates": [
                {**e.as_dict(), "not_selectable": self.not_selectable.get(e.id)} for e in self.estimates
            ],
            "waiver": None if self.waiver is None else self.waiver.as_dict(),
            "selection": None if self.selection is None else self.selection.as_dict(),
            "requirement": self.requirement,
        }


def case_estimates(db: Database, actor: Actor, reference: str, *, on: date | None = None) -> EstimatesView:
    """The case's estimates, oldest first, with the waiver and the selection in force, and whether the
    two-estimates requirement is met. ``on`` (default today) is the day contractors are checked on."""
    reference = normalise_reference(reference)
    day = on or local_day(utcnow())
    with db.read_connection() as connection:
        case = connection.execute(
            select(CASES.c.id, CASES.c.district_code, CASES.c.state, CASES.c.approval_date).where(
                CASES.c.reference == reference
            )
        ).first()
        if case is None:
            raise NotFound(f"no case {reference}")
        check_district(actor, reference, case.district_code)
        rows = _estimates_of(connection, case.id)
        waiver = _latest_waiver(connection, case.id)
        selection = selection_in_force(connection, case.id)
    policy = load_works_policy(case.district_code)
    estimates = tuple(_estimate_view(reference, r) for r in rows)
    blocked = {r.id: why for r in rows if (why := _not_selectable(r, day, policy)) is not None}
    return EstimatesView(
        reference, day, estimates, blocked, waiver, selection,
        estimates_requirement([r.contractor_id for r in rows], waiver is not None),
        _not_taking(reference, case.state, case.approval_date),
    )  # fmt: skip
