"""A landlord's application: the council decides the amount of the grant (s.31 HGCRA 1996), having regard
to the extent the landlord can charge a higher rent because of the works and to other matters it
considers relevant. The decision is recorded with its reasons and its event, and the grant calculation
uses the amount decided (never more than the calculation allows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from dfg.errors import InvalidInput
from dfg.rules.clock import local_day, utcnow
from dfg.rules.grant import LANDLORD_FACTORS
from dfg.rules.jurisdiction import maximum_grant_in
from dfg.rules.money import format_pounds
from dfg.services.case_reading import show_case
from dfg.services.cases import case_id_of, check_version, normalise_reference, record_change
from dfg.services.grant import not_calculable
from dfg.store.database import Database
from dfg.store.models import LANDLORD_DECISIONS
from dfg.workflow.actor import Actor
from dfg.workflow.facts import CaseFacts
from dfg.workflow.roles import require_role

#: The event of a decision on the amount (not a workflow step: the case stays where it is).
DECIDED_EVENT = "landlord_grant_decided"

#: The longest reason kept: a few paragraphs, as a decision's reasons are.
REASON_LENGTH = 4000

#: The command's option for each input a problem is about.
_OPTIONS = {"amount": "--amount", "factors": "--factor", "reason": "--reason", "on": "--on"}


@dataclass(frozen=True)
class LandlordDecisionRecord:
    """One decision on the amount of a landlord's grant, as recorded."""

    id: int
    reference: str
    amount_pence: int
    factors: tuple[str, ...]
    reason: str
    decided_on: date
    recorded_by: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "amount_pence": self.amount_pence,
            "factors": list(self.factors),
            "reason": self.reason,
            "decided_on": self.decided_on.isoformat(),
            "recorded_by": self.recorded_by,
        }

    def as_text(self) -> str:
        weighed = "; ".join(LANDLORD_FACTORS[code] for code in self.factors)
        return (
            f"{self.reference}: landlord's grant decided at {format_pounds(self.amount_pence)} on "
            f"{self.decided_on:%d/%m/%Y} (s.31 HGCRA 1996)\nhaving regard to: {weighed}\nreasons: {self.reason}"
        )


def _weighed(factors: Sequence[str], problems: dict[str, str]) -> tuple[str, ...]:
    """The factors as codes, each once, in the order given; the rent must be among them (s.31)."""
    codes = tuple(dict.fromkeys(f.strip().lower() for f in factors))
    unknown = [code for code in codes if code not in LANDLORD_FACTORS]
    if unknown:
        problems["factors"] = f"{unknown[0]!r} is not one of {', '.join(LANDLORD_FACTORS)}"
    elif "rent" not in codes:
        problems["factors"] = (
            "the council must have regard to the rent the landlord can charge because of the "
            "works (s.31), with any other matters it weighed"
        )
    return codes


def landlord_decision_problems(
    district: str,
    amount_pence: int | None,
    factors: Sequence[str],
    reason: str,
    day: date | None,
    today: date,
) -> dict[str, str]:
    """Every mistake in a decision on a landlord's grant, each by the input it is about (``amount``,
    ``factors``, ``reason``, ``on``); an amount or a day the form could not read is None, and not judged."""
    problems: dict[str, str] = {}
    if amount_pence is not None and amount_pence <= 0:
        problems["amount"] = "the amount must be more than £0.00 (a landlord's grant of nil is a refusal)"
    elif amount_pence is not None and day is not None and day <= today:
        maximum = maximum_grant_in(district, day)
        if amount_pence > maximum.amount_pence:
            problems["amount"] = (
                f"{format_pounds(amount_pence)} is more than the maximum grant of "
                f"{format_pounds(maximum.amount_pence)} in force on {day:%d/%m/%Y} (s.33)"
            )
    _weighed(factors, problems)
    said = reason.strip()
    if not said:
        problems["reason"] = "give the reasons for the amount decided"
    elif len(said) > REASON_LENGTH:
        problems["reason"] = f"{len(said)} characters long: at most {REASON_LENGTH}"
    if day is not None and day > today:
        problems["on"] = f"{day:%d/%m/%Y} is in the future"
    return problems


def decide_landlord_grant(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    amount_pence: int,
    factors: Sequence[str],
    reason: str,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> LandlordDecisionRecord:
    """Record the council's decision on the amount of a landlord's grant (role: approver), before the
    grant is approved; the next grant calculation uses it. A later decision replaces an earlier one (the
    grant is then calculated again before approval).

    Refused for an application that is not a landlord's, once the grant is approved or the case closed,
    for an amount of nil or above the maximum grant in force, without the rent among the factors weighed
    or without reasons, and for a date in the future."""
    now = now or utcnow()
    role = require_role(actor, "approver")
    reference = normalise_reference(reference)
    view = show_case(db, actor, reference)  # NotFound, the district check
    day = on or local_day(now)
    problems = landlord_decision_problems(view.district, amount_pence, factors, reason, day, local_day(now))
    if problems:
        raise InvalidInput(
            "; ".join(f"{_OPTIONS[k]}: {text}" for k, text in problems.items()), fields=problems
        )
    weighed = _weighed(factors, {})
    said = reason.strip()
    if view.tenure != "landlord":
        raise InvalidInput(
            f"{reference} is {view.tenure}'s application, not a landlord's: its grant is calculated, not decided"
        )
    result: dict[str, int] = {}

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        why = not_calculable(
            case.reference, case.workflow_version, case.state, case.milestones.get("approval_date")
        )
        if why is not None:
            raise InvalidInput(why.replace("its grant can no longer be calculated", "its grant is decided"))

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        decision_id = connection.execute(
            insert(LANDLORD_DECISIONS).returning(LANDLORD_DECISIONS.c.id),
            {
                "case_id": case_id,
                "amount_pence": amount_pence,
                "factors": ",".join(weighed),
                "reason": said,
                "decided_on": day,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        result["id"] = int(decision_id)
        return {
            "landlord_decision": decision_id,
            "amount_pence": amount_pence,
            "factors": list(weighed),
            "decided_on": day,
        }

    # The reasons go on the event as its reason, which the chain seals (they may speak of people).
    record_change(
        db, actor, reference, role=role, kind=DECIDED_EVENT, check=check, write_details=write,
        reason=said, now=now,
    )  # fmt: skip
    return LandlordDecisionRecord(result["id"], reference, amount_pence, weighed, said, day, actor.username)


def landlord_decisions(db: Database, actor: Actor, reference: str) -> list[LandlordDecisionRecord]:
    """The decisions on the amount of a landlord's grant, oldest first (the last is the one in force)."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # NotFound, the district check
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        rows = connection.execute(
            select(LANDLORD_DECISIONS)
            .where(LANDLORD_DECISIONS.c.case_id == case_id)
            .order_by(LANDLORD_DECISIONS.c.id)
        )
        return [
            LandlordDecisionRecord(
                r.id,
                reference,
                r.amount_pence,
                tuple(r.factors.split(",")),
                r.reason,
                r.decided_on,
                r.recorded_by,
            )
            for r in rows
        ]
