"""What may be paid on a case, and when. Pure: the services give the figures, these rules decide.

- **Interim payments** pay only for work done: all payments so far, with this one, may not exceed the
  latest valuation of the work done, nor the policy's share of the approved assistance payable before
  the certified date (``interim_cap``, default 90%).
- **The final payment** after the certified date pays exactly what is left of the approved assistance.
- **Ceased entitlement** (s.40, s.41: the disabled occupant died or moved out, or the applicant ceased to
  qualify, between approval and the certified date) stops every payment until the council decides to
  pay all, part or none of what is due; then payments go up to the amount decided, and no further.

No rule here lets the total paid exceed the approved assistance: a property test checks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from dfg.errors import GuardFailed, InvalidInput
from dfg.rules.money import Pence, format_pounds

CeasedDecision = Literal["all", "part", "none"]
CEASED_DECISIONS: tuple[CeasedDecision, ...] = ("all", "part", "none")
CEASED_REASONS = {
    "died": "The disabled occupant died (s.41)",
    "moved_out": "The disabled occupant no longer lives in the dwelling (s.41)",
    "ceased_to_qualify": "The applicant ceased to be entitled (s.40)",
}


@dataclass(frozen=True)
class MoneyPosition:
    """A case's money as the payment rules see it."""

    approved_pence: Pence  # the approved assistance (grant and funding lines) of the version in force
    paid_pence: Pence
    entitlement_ceased: bool = False
    payable_limit_pence: Pence | None = None  # set by a ceased-entitlement decision

    @property
    def ceiling_pence(self) -> Pence:
        """The most that may ever be paid on the case now."""
        if self.payable_limit_pence is not None:
            return min(self.approved_pence, self.payable_limit_pence)
        return self.approved_pence

    @property
    def outstanding_pence(self) -> Pence:
        return max(0, self.ceiling_pence - self.paid_pence)


#: The events that say entitlement ceased, and what the council then decided to pay.
CEASED_EVENT_KINDS = ("entitlement_ceased", "ceased_entitlement_decided")


def entitlement_from(events: Iterable[tuple[str, Mapping[str, object]]]) -> tuple[bool, Pence | None]:
    """From a case's ``(kind, payload)`` events in order: whether entitlement has ceased, and the most
    payable decided since (None: no decision yet, or entitlement never ceased)."""
    ceased, limit = False, None
    for kind, payload in events:
        if kind == "entitlement_ceased":
            ceased, limit = True, None
        elif kind == "ceased_entitlement_decided":
            limit = int(str(payload["payable_pence"]))
    return ceased, limit


def _payable_at_all(position: MoneyPosition) -> None:
    if position.entitlement_ceased and position.payable_limit_pence is None:
        raise GuardFailed(
            "entitlement ceased: no further payment until the council decides to pay all, part or none "
            "('dfg entitlement decide')"
        )


def interim_cap_pence(approved_pence: Pence, cap: Decimal) -> Pence:
    """The most payable before the certified date: ``cap`` of the approved assistance, rounded down."""
    return int((Decimal(approved_pence) * cap).to_integral_value(rounding=ROUND_FLOOR))


def check_interim(position: MoneyPosition, amount_pence: Pence, work_done_pence: Pence, cap: Decimal) -> None:
    """Refuse an interim payment of ``amount_pence`` against a valuation of ``work_done_pence``."""
    if amount_pence <= 0:
        raise InvalidInput(f"the payment must be more than £0.00 (got {format_pounds(amount_pence)})")
    if work_done_pence < 0:
        raise InvalidInput("the value of work done cannot be negative")
    _payable_at_all(position)
    after = position.paid_pence + amount_pence
    if after > work_done_pence:
        raise InvalidInput(
            f"payments would total {format_pounds(after)}, more than the work done of "
            f"{format_pounds(work_done_pence)}: interim payments are only for work done"
        )
    limit = (
        position.ceiling_pence
        if position.payable_limit_pence is not None  # after a decision: up to what was decided
        else interim_cap_pence(position.approved_pence, cap)
    )
    if after > limit:
        what = (
            f"the {format_pounds(limit)} the council decided to pay"
            if position.payable_limit_pence is not None
            else f"{cap * 100:.0f}% of the approved {format_pounds(position.approved_pence)} "
            f"({format_pounds(limit)}) payable before the certified date"
        )
        raise InvalidInput(
            f"payments would total {format_pounds(after)}, more than {what}; "
            f"{format_pounds(max(0, limit - position.paid_pence))} may still be paid"
        )


def final_payment(position: MoneyPosition) -> Pence:
    """What the final payment pays: the rest of the approved assistance (or of the amount decided)."""
    _payable_at_all(position)
    due = position.outstanding_pence
    if due <= 0:
        raise GuardFailed(f"nothing is left to pay: {format_pounds(position.paid_pence)} is already paid")
    return due


def decided_amount(position: MoneyPosition, decision: str, amount_pence: Pence | None) -> Pence:
    """The most payable after a ceased-entitlement decision: all of the approved assistance, a part of
    it (more than paid so far is not required, but never less than what is already paid), or none."""
    if decision not in CEASED_DECISIONS:
        raise InvalidInput(f"decision '{decision}' is not one of: {', '.join(CEASED_DECISIONS)}")
    if decision == "part":
        if amount_pence is None:
            raise InvalidInput("paying part needs the --amount to pay in all")
        if not 0 < amount_pence < position.approved_pence:
            raise InvalidInput(
                f"part of {format_pounds(position.approved_pence)} must be more than £0.00 and less than all of it"
            )
        decided = amount_pence
    elif amount_pence is not None:
        raise InvalidInput(f"--amount is only for paying part (not '{decision}')")
    else:
        decided = position.approved_pence if decision == "all" else 0
    if decided < position.paid_pence:
        raise InvalidInput(
            f"{format_pounds(position.paid_pence)} is already paid: the amount decided cannot be less "
            "(recovering an overpayment is a repayment, not a payment decision)"
        )
    return decided
