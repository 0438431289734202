"""The local land charge on an owner's home, and the council's decision when the home is disposed of.

For an owner's application whose mandatory grant exceeds the floor of the 2008 general consent (£5,000),
the council registers a local land charge for the repayable part of the grant:
``min(cap, grant − floor)`` (at most £10,000), the thresholds being those in force on the approval date
(``workflows/rates/land-charge.toml``). Discretionary assistance whose terms carry a land charge (a
top-up, a relocation grant: ``workflows/policy/funding-lines.toml``) is secured by the same charge, in
full, whatever the mandatory grant. The charge runs from the certified date; the grant condition
period ends after 5 years (``workflows/policy/targets.toml``), the charge after the terms' 10 years.

If the home is disposed of within the charge period, an approver decides whether to demand the
repayable amount in full, in part or not at all, having weighed the owner's circumstances (hardship,
moving for health, to give or receive care, for work) and recorded the reasons. The amount is a
ceiling, never an automatic demand.

Both are workflow steps (``register_land_charge``; ``demand_repayment`` or ``waive_repayment``) that
write their row in the step's own transaction, where every check that rests on recorded facts is made
again, so the case, its charge and its decisions can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from dfg.errors import ConfigurationError, InvalidInput
from dfg.rules.clock import local_day, utcnow
from dfg.rules.clocks import clock_policy_for
from dfg.rules.grant import land_charged_lines_pence
from dfg.rules.jurisdiction import land_charge_in
from dfg.rules.money import format_pounds
from dfg.rules.rates import REPAYMENT_FACTORS, LandChargeTerms, add_years, charge_expiry
from dfg.services.approval import latest_approval
from dfg.services.case_reading import show_case
from dfg.services.cases import Advanced, advance, case_id_of, normalise_reference
from dfg.store.database import Database
from dfg.store.models import CASES, GRANT_CALCULATIONS, LAND_CHARGES, REPAYMENT_CHOICES, REPAYMENT_DECISIONS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput, land_charge_due_pence

#: The longest Local Land Charges register reference the store keeps (the column's length).
REGISTRY_REFERENCE_LENGTH = 60

_TRIGGER_FOR = {"full": "demand_repayment", "part": "demand_repayment", "waive": "waive_repayment"}


def _day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def _article(tenure: str) -> str:
    return f"{'an' if tenure[:1] in 'aeiou' else 'a'} {tenure}'s"


# ---------------------------------------------------------------------- whether a charge applies


@dataclass(frozen=True)
class ChargeDue:
    """Whether a land charge applies to a case, and for how much, from its approval in force."""

    district: str  # whose terms apply
    tenure: str
    certified_date: date | None
    grant_pence: int | None  # the mandatory grant of the approval in force; None before approval
    approved_on: date | None
    terms: LandChargeTerms | None  # None before approval, or approved before any terms were in force
    repayable_pence: int  # 0 when no charge applies
    why_not: str | None  # one sentence when no charge applies
    charged_lines_pence: int = 0  # of it, the discretionary assistance whose terms carry a land charge

    @property
    def applies(self) -> bool:
        return self.repayable_pence > 0


def charge_due(connection: Connection, case_id: int) -> ChargeDue:
    """What a land charge on the case would secure, by the rules in force on the approval date."""
    case = connection.execute(
        select(CASES.c.reference, CASES.c.district_code, CASES.c.tenure, CASES.c.certified_date).where(
            CASES.c.id == case_id
        )
    ).one()
    approval = latest_approval(connection, case_id)
    if approval is None:
        why = f"{case.reference} has no approved grant, so no land charge applies yet"
        return ChargeDue(case.district_code, case.tenure, case.certified_date, None, None, None, 0, why)
    grant, approved_on = int(approval.grant_pence), approval.decided_on
    try:
        terms = land_charge_in(case.district_code, approved_on)
    except InvalidInput:  # approved before the 2008 consent: no land charge under it
        why = (
            f"no land charge applies to {case.reference}: it was approved on {_day(approved_on)}, before any "
            "land-charge terms were in force"
        )
        return ChargeDue(
            case.district_code, case.tenure, case.certified_date, grant, approved_on, None, 0, why
        )
    lines = _charged_lines_pence(connection, approval)
    repayable = land_charge_due_pence(case.tenure, grant, approved_on, lines, district=case.district_code)
    why_not = None
    if case.tenure not in terms.tenures:
        charged = " or ".join(_article(t) for t in sorted(terms.tenures))
        why_not = (
            f"no land charge applies to {case.reference}: it is {_article(case.tenure)} application, and a "
            f"charge is registered only for {charged} application"
        )
    elif repayable == 0:  # no line with a land charge either
        why_not = (
            f"no land charge applies to {case.reference}: its mandatory grant of {format_pounds(grant)} is "
            f"not more than {format_pounds(terms.floor_pence)}"
        )
    return ChargeDue(
        case.district_code,
        case.tenure,
        case.certified_date,
        grant,
        approved_on,
        terms,
        repayable,
        why_not,
        lines,
    )


def _charged_lines_pence(connection: Connection, approval: Row[Any]) -> int:
    """The approval's discretionary assistance whose terms carry a land charge (secured in full)."""
    result = connection.execute(
        select(GRANT_CALCULATIONS.c.result).where(GRANT_CALCULATIONS.c.id == approval.grant_calculation_id)
    ).scalar_one()
    return land_charged_lines_pence(json.loads(result))


def _condition_end(district: str, certified_on: date) -> date:
    """The end of the grant condition period, as the clocks count it (certified date + 5 years)."""
    period = clock_policy_for(district).period("grant_condition_period", certified_on)
    if period.unit != "years":
        raise ConfigurationError(f"the grant condition period must be in years, not {period}")
    return add_years(certified_on, period.amount)


def _registered(connection: Connection, case_id: int) -> Row[Any] | None:
    return connection.execute(
        select(LAND_CHARGES)
        .where(LAND_CHARGES.c.case_id == case_id)
        .order_by(LAND_CHARGES.c.id.desc())
        .limit(1)
    ).first()


# ---------------------------------------------------------------------- registering the charge


def register_land_charge(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    registered_on: date,
    registry_reference: str,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Record that the land charge is registered in the Local Land Charges register (role: grant
    officer), once the works are certified: the repayable amount, the terms it was worked out under, the
    register's reference, the end of the grant condition period and the charge's expiry.

    Refused when no charge applies to the case (not an owner's application, or a grant not above the
    floor), when one is already registered, or for a registration dated before the certified date or in
    the future. ``expected_version``: the case's version the officer saw (a form's); Conflict if it
    changed since."""
    now = now or utcnow()
    reference = normalise_reference(reference)
    registry = registry_reference.strip()
    if not registry:
        raise InvalidInput("the land charge needs the Local Land Charges register's reference (--ref)")
    if len(registry) > REGISTRY_REFERENCE_LENGTH:
        raise InvalidInput(
            f"the register reference is {len(registry)} characters long: at most {REGISTRY_REFERENCE_LENGTH}"
        )
    if registered_on > local_day(now):
        raise InvalidInput(f"the registration date {_day(registered_on)} is in the future")

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        # Checked here, in the step's transaction, on the facts as they are now.
        due = charge_due(connection, case_id)
        if not due.applies:
            raise InvalidInput(str(due.why_not))
        assert due.terms is not None and due.grant_pence is not None  # a charge applies
        already = _registered(connection, case_id)
        if already is not None:
            raise InvalidInput(
                f"{reference} already has its land charge registered (on {_day(already.registered_on)}, "
                f"register reference {already.registry_reference})"
            )
        certified = due.certified_date
        if certified is None:
            raise InvalidInput(
                f"{reference} has no certified date: the charge is registered once the works are certified"
            )
        if registered_on < certified:
            raise InvalidInput(
                f"the registration date {_day(registered_on)} is before the certified date ({_day(certified)})"
            )
        condition_end, expires_on = (
            _condition_end(due.district, certified),
            charge_expiry(certified, due.terms),
        )
        charge_id = connection.execute(
            insert(LAND_CHARGES).returning(LAND_CHARGES.c.id),
            {
                "case_id": case_id,
                "repayable_pence": due.repayable_pence,
                "terms_version": due.terms.version,
                "registered_on": registered_on,
                "registry_reference": registry,
                "condition_end": condition_end,
                "expires_on": expires_on,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        return {
            "land_charge": charge_id,
            "grant_pence": due.grant_pence,
            "repayable_pence": due.repayable_pence,
            # of it, the funding lines whose terms carry a charge (said only when there are some)
            **({"charged_lines_pence": due.charged_lines_pence} if due.charged_lines_pence else {}),
            "terms_version": due.terms.version,
            "certified_date": certified,
            "registered_on": registered_on,
            "registry_reference": registry,
            "condition_end": condition_end,
            "expires_on": expires_on,
        }

    # The step is dated when it is recorded: a registration may well predate the final payment, which
    # the engine would refuse as a step dated before the case's last one. ``registered_on`` is kept.
    return advance(
        db, actor, reference, "register_land_charge", TriggerInput(), now=now, write_details=write,
        expected_version=expected_version,
    )  # fmt: skip


# ---------------------------------------------------------------------- a disposal within the period


def _check_decision(
    decision: str, amount_pence: int | None, factors: Sequence[str], reason: str
) -> tuple[str, ...]:
    """The checks that need nothing recorded; returns the factors as stored (in order, once each)."""
    if decision not in REPAYMENT_CHOICES:
        raise InvalidInput(f"the decision '{decision}' is not one of: {', '.join(REPAYMENT_CHOICES)}")
    unknown = [f for f in factors if f not in REPAYMENT_FACTORS]
    if unknown:
        raise InvalidInput(f"unknown factor '{unknown[0]}' (one of: {', '.join(REPAYMENT_FACTORS)})")
    weighed = tuple(dict.fromkeys(factors))
    if not weighed:
        raise InvalidInput(
            f"name the factors weighed (--factor: {', '.join(REPAYMENT_FACTORS)}), or 'none' if there were none"
        )
    if "none" in weighed and len(weighed) > 1:
        raise InvalidInput("the factor 'none' cannot be given with other factors")
    if decision == "part" and amount_pence is None:
        raise InvalidInput("a demand in part needs the amount to demand (--amount)")
    if decision == "full" and amount_pence is not None:
        raise InvalidInput(
            "a demand in full is for the whole repayable amount: give --amount only with a demand in part"
        )
    if decision == "waive" and amount_pence is not None:
        raise InvalidInput("a waiver demands nothing: give --amount only with a demand in part")
    if not reason.strip():
        raise InvalidInput("the decision needs its reasons (--reason)")
    return weighed


def record_repayment_decision(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    disposal_on: date,
    decision: str,
    amount_pence: int | None,
    factors: Sequence[str],
    reason: str,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Record the council's decision after the home was disposed of within the charge period (role:
    approver, on a closed case): demand the repayable amount in full (``"full"``), demand
    ``amount_pence`` of it (``"part"``, more than £0.00 and less than the repayable amount), or waive
    it (``"waive"``); with the factors weighed (codes of :data:`REPAYMENT_FACTORS`) and the reasons.

    A demand fires ``demand_repayment`` (and its letter), a waiver ``waive_repayment``. Refused when no
    land charge is registered, for a disposal outside the charge period (nothing is repayable then), or
    when a decision is already recorded for that disposal. The disposal may still be to come: an owner
    who tells the council of a sale may ask for the decision (a waiver, say) before it completes.
    ``expected_version``: the case's version the approver saw (a form's); Conflict if it changed since."""
    now = now or utcnow()
    reference = normalise_reference(reference)
    weighed = _check_decision(decision, amount_pence, factors, reason)
    decided_on = on or local_day(now)

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        charge = _registered(connection, case_id)
        if charge is None:
            raise InvalidInput(
                f"{reference} has no land charge registered, so nothing is repayable under one "
                "('dfg land-charge show' says whether one applies)"
            )
        certified = connection.scalar(select(CASES.c.certified_date).where(CASES.c.id == case_id))
        if certified is not None and disposal_on < certified:
            raise InvalidInput(
                f"the disposal on {_day(disposal_on)} is before the certified date ({_day(certified)}), when the "
                "charge period begins: nothing is repayable under the land charge"
            )
        if disposal_on > charge.expires_on:
            raise InvalidInput(
                f"the disposal on {_day(disposal_on)} is after the land charge expired on "
                f"{_day(charge.expires_on)}: nothing is repayable"
            )
        earlier = connection.execute(
            select(REPAYMENT_DECISIONS.c.decision, REPAYMENT_DECISIONS.c.decided_on).where(
                REPAYMENT_DECISIONS.c.land_charge_id == charge.id,
                REPAYMENT_DECISIONS.c.disposal_on == disposal_on,
            )
        ).first()
        if earlier is not None:
            raise InvalidInput(
                f"a decision ({earlier.decision}) on the disposal of {_day(disposal_on)} was already recorded on "
                f"{_day(earlier.decided_on)}"
            )
        repayable = int(charge.repayable_pence)
        if decision == "part":
            assert amount_pence is not None  # _check_decision
            if not 0 < amount_pence < repayable:
                raise InvalidInput(
                    f"a demand in part must be more than £0.00 and less than the {format_pounds(repayable)} "
                    f"repayable (got {format_pounds(amount_pence)}): otherwise demand in full or waive"
                )
        demanded = {"full": repayable, "part": amount_pence or 0, "waive": 0}[decision]
        decision_id = connection.execute(
            insert(REPAYMENT_DECISIONS).returning(REPAYMENT_DECISIONS.c.id),
            {
                "case_id": case_id,
                "land_charge_id": charge.id,
                "disposal_on": disposal_on,
                "decision": decision,
                "demanded_pence": demanded,
                "factors": ",".join(weighed),
                "reason": reason.strip(),
                "decided_on": decided_on,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        return {
            "repayment_decision": decision_id,
            "land_charge": charge.id,
            "disposal_on": disposal_on,
            "decision": decision,
            "repayable_pence": repayable,
            "demanded_pence": demanded,
            "factors": list(weighed),
            "decided_on": decided_on,
        }

    return advance(
        db,
        actor,
        reference,
        _TRIGGER_FOR[decision],
        TriggerInput(reason=reason.strip(), on=on),
        now=now,
        write_details=write,
        expected_version=expected_version,
    )


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True)
class LandChargeView:
    """Whether a land charge applies to a case and for how much, its registration, and the decisions
    made on disposals, for ``dfg land-charge show``."""

    reference: str
    tenure: str
    applies: bool
    why_not: str | None
    grant_pence: int | None
    repayable_pence: int
    terms_version: str | None
    certified_date: date | None
    registration: dict[str, Any] | None
    decisions: tuple[dict[str, Any], ...]
    #: Of the amount secured, the discretionary assistance (top-up, relocation...) whose terms carry a charge.
    charged_lines_pence: int = 0

    @property
    def due_pence(self) -> int:
        """The amount the charge secures (0 when none applies)."""
        return self.repayable_pence

    @property
    def registered(self) -> bool:
        return self.registration is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "tenure": self.tenure,
            "applies": self.applies,
            "registered": self.registered,
            "why_not": self.why_not,
            "grant_pence": self.grant_pence,
            "repayable_pence": self.repayable_pence,
            "charged_lines_pence": self.charged_lines_pence,
            "terms_version": self.terms_version,
            "certified_date": self.certified_date.isoformat() if self.certified_date else None,
            "registration": self.registration,
            "decisions": list(self.decisions),
        }


def land_charge_view(db: Database, actor: Actor, reference: str) -> LandChargeView:
    """The land charge on a case: whether one applies and for how much, its registration if recorded,
    and every repayment decision, oldest first."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # NotFound, district check
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        due = charge_due(connection, case_id)
        charge = _registered(connection, case_id)
        decisions = tuple(
            {
                "id": d.id,
                "disposal_on": d.disposal_on.isoformat(),
                "decision": d.decision,
                "demanded_pence": d.demanded_pence,
                "factors": d.factors.split(",") if d.factors else [],
                "reason": d.reason,
                "decided_on": d.decided_on.isoformat(),
                "recorded_by": d.recorded_by,
            }
            for d in connection.execute(
                select(REPAYMENT_DECISIONS)
                .where(REPAYMENT_DECISIONS.c.case_id == case_id)
                .order_by(REPAYMENT_DECISIONS.c.id)
            )
        )
    registration = (
        None
        if charge is None
        else {
            "id": charge.id,
            "repayable_pence": charge.repayable_pence,
            "terms_version": charge.terms_version,
            "registered_on": charge.registered_on.isoformat(),
            "registry_reference": charge.registry_reference,
            "condition_end": charge.condition_end.isoformat(),
            "expires_on": charge.expires_on.isoformat(),
            "recorded_by": charge.recorded_by,
        }
    )
    return LandChargeView(
        reference=reference,
        tenure=due.tenure,
        applies=due.applies,
        why_not=due.why_not,
        grant_pence=due.grant_pence,
        # once registered, the amount secured is the one registered
        repayable_pence=charge.repayable_pence if charge is not None else due.repayable_pence,
        terms_version=charge.terms_version
        if charge is not None
        else (due.terms.version if due.terms else None),
        certified_date=due.certified_date,
        registration=registration,
        decisions=decisions,
        charged_lines_pence=due.charged_lines_pence,
    )
