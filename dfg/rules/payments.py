"""What may be paid on a case, and when. Pure: the services give the figures, these rules decide.

- **Interim payments** pay only for work done: all payments so far, with this one, may not exceed the
  latest valuation of the work done, nor the policy's share of the approved assistance payable before
  the certified date (``interim_cap``, default 90%).
- **Payees**: each line of the approved expense is paid to whom it is due. The assistance pays each fee
  in full to its payee (the agency, the professional, the authority), and the rest of it to the works;
  the applicant's own share (the contribution, and anything beyond the assistance) falls on the works,
  which the applicant pays the contractor. So the contractor receives from the grant the works less the
  applicant's share, and never more than was invoiced less that share.
- **The final payment** after the certified date pays what is left of each line: the works against the
  invoices, and each fee; never more than the approved assistance.
- **Ceased entitlement** (s.40, s.41: the disabled occupant died or moved out, or the applicant ceased to
  qualify, between approval and the certified date) stops every payment until the council decides to
  pay all, part or none of what is due; then payments go up to the amount decided, and no further.

No rule here lets the total paid exceed the approved assistance: a property test checks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


def check_payable(position: MoneyPosition) -> None:
    """Refuse any payment while entitlement has ceased and the council has not decided what to pay."""
    if position.entitlement_ceased and position.payable_limit_pence is None:
        raise GuardFailed(
            "entitlement ceased: no further payment until the council decides to pay all, part or none "
            "('dfg entitlement decide')"
        )


#: What a payment for the works pays for (a fee's payment names its charge's kind).
WORKS = "works"


@dataclass(frozen=True)
class PayeeShare:
    """One line of the approved expense, who it is paid to, and what of it the assistance pays."""

    paid_for: str  # WORKS, or the charge's kind
    label: str
    payee: str  # "contractor" or "applicant" for the works; a fee's payee from the charges policy
    cost_pence: Pence  # the line's approved cost
    assistance_pence: Pence  # the part of it the approved assistance pays

    @property
    def applicant_pence(self) -> Pence:
        """The part the applicant funds: the contribution, and anything beyond the assistance."""
        return self.cost_pence - self.assistance_pence

    def due_pence(self, invoiced_pence: Pence) -> Pence:
        """What the assistance pays on this line in all. A fee: its share. The works: against the
        invoices, less the applicant's share (an invoice under the approved works is the grant's saving,
        never more than approved)."""
        if self.paid_for != WORKS:
            return self.assistance_pence
        return max(0, min(self.assistance_pence, invoiced_pence - self.applicant_pence))


def payee_shares(
    *,
    works_pence: Pence,
    works_payee: str,
    fees: Sequence[tuple[str, str, str, Pence]],
    assistance_pence: Pence,
) -> tuple[PayeeShare, ...]:
    """The approved expense split by payee: the works first, then each fee ``(kind, label, payee,
    amount)``. The assistance pays the fees first, in order, then the works with what is left."""
    left = assistance_pence
    fee_shares = []
    for kind, label, payee, amount in fees:
        paid = min(amount, max(0, left))
        left -= paid
        fee_shares.append(PayeeShare(kind, label, payee, amount, paid))
    works = PayeeShare(WORKS, "The works", works_payee, works_pence, min(works_pence, max(0, left)))
    return (works, *fee_shares)


def final_payments(
    position: MoneyPosition,
    shares: Sequence[PayeeShare],
    paid_for: Mapping[str, Pence],
    invoiced_pence: Pence,
) -> tuple[tuple[PayeeShare, Pence], ...]:
    """The final payment, line by line: what is left of each line's due after ``paid_for`` (the sums
    already paid, by what they paid for), the works first, within the ceiling of the case."""
    check_payable(position)
    room = position.outstanding_pence
    payments = []
    for share in shares:
        amount = min(max(0, share.due_pence(invoiced_pence) - paid_for.get(share.paid_for, 0)), room)
        if amount > 0:
            payments.append((share, amount))
            room -= amount
    if not payments:
        raise GuardFailed(f"nothing is left to pay: {format_pounds(position.paid_pence)} is already paid")
    return tuple(payments)


def interim_cap_pence(approved_pence: Pence, cap: Decimal) -> Pence:
    """The most payable before the certified date: ``cap`` of the approved assistance, rounded down."""
    return int((Decimal(approved_pence) * cap).to_integral_value(rounding=ROUND_FLOOR))


def interim_limit_pence(
    position: MoneyPosition, cap: Decimal, *, works_share_pence: Pence | None = None
) -> Pence:
    """The most all payments may total before the certified date: ``cap`` of the assistance's share for
    the works (``works_share_pence``, default all the approved assistance), or after a ceased-entitlement
    decision, up to what was decided."""
    base = position.approved_pence if works_share_pence is None else works_share_pence
    if position.payable_limit_pence is not None:
        return min(position.ceiling_pence, base)
    return interim_cap_pence(base, cap)


def check_interim(
    position: MoneyPosition,
    amount_pence: Pence,
    work_done_pence: Pence,
    cap: Decimal,
    *,
    works_share_pence: Pence | None = None,
) -> None:
    """Refuse an interim payment of ``amount_pence`` against a valuation of ``work_done_pence``. An
    interim payment is for the works: the cap is of the assistance's share for the works
    (``works_share_pence``, default all the approved assistance), the fees being paid at the end."""
    if amount_pence <= 0:
        raise InvalidInput(f"the payment must be more than £0.00 (got {format_pounds(amount_pence)})")
    if work_done_pence < 0:
        raise InvalidInput("the value of work done cannot be negative")
    check_payable(position)
    after = position.paid_pence + amount_pence
    if after > work_done_pence:
        raise InvalidInput(
            f"payments would total {format_pounds(after)}, more than the work done of "
            f"{format_pounds(work_done_pence)}: interim payments are only for work done"
        )
    base = position.approved_pence if works_share_pence is None else works_share_pence
    limit = interim_limit_pence(position, cap, works_share_pence=works_share_pence)
    if after > limit:
        what = (
            f"the {format_pounds(limit)} the council decided to pay"
            if position.payable_limit_pence is not None
            else f"{cap * 100:.0f}% of the approved {format_pounds(base)}"
            f"{'' if base == position.approved_pence else ' for the works'} "
            f"({format_pounds(limit)}) payable before the certified date"
        )
        raise InvalidInput(
            f"payments would total {format_pounds(after)}, more than {what}; "
            f"{format_pounds(max(0, limit - position.paid_pence))} may still be paid"
        )


def final_payment(position: MoneyPosition) -> Pence:
    """What the final payment pays: the rest of the approved assistance (or of the amount decided)."""
    check_payable(position)
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
