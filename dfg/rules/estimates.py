"""Estimates for the works: how many the council needs, and which one sets the eligible works. Pure.

- **Requirement**: at least two estimates from different contractors, unless the council records a
  direction waiving it (a specialist fitter, an urgent discharge). Two prices from one contractor are
  one contractor's view of the price, so they count once.
- **Selection**: the eligible works are the lowest price among the *acceptable* estimates. An estimate
  is acceptable unless the officer rejects it with a reason, or its contractor cannot be selected on
  the selection date (suspended or removed from the register, or, where the works policy requires it,
  without a current accreditation). Choosing a dearer acceptable estimate needs a reason, and the
  difference is the applicant's to pay: the grant is never based on more than the lowest.

Every selection has a one-line "how decided" text, for the approval notice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from dfg.errors import InvalidInput
from dfg.rules.money import Pence, format_pounds

WAIVE_COMMAND = "dfg estimate waive"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def estimates_requirement(contractor_ids: Sequence[int], waived: bool) -> str | None:
    """Why the case's estimates do not yet meet the requirement, or ``None`` when they do.

    ``contractor_ids`` has one entry per estimate on the case (repeats for a contractor's second price);
    ``waived`` is whether a direction waiving the requirement is recorded."""
    if waived:
        return None
    contractors = len(set(contractor_ids))
    if contractors >= 2:
        return None
    needed = (
        f"at least two from different contractors are needed, or a direction waiving it ('{WAIVE_COMMAND}')"
    )
    if not contractor_ids:
        return f"no estimate is recorded: {needed}"
    count = len(contractor_ids)
    verb = "is" if count == 1 else "are"
    return f"only {_plural(count, 'estimate')} (from {_plural(contractors, 'contractor')}) {verb} recorded: {needed}"


# ---------------------------------------------------------------------- whether a contractor may be chosen


def accreditation_current(accreditation: str | None, expires: date | None, on: date) -> bool:
    """Whether a contractor holds an accreditation on ``on``: one is recorded and has not expired (it is
    good on its expiry date; no expiry date means it does not lapse)."""
    return accreditation is not None and (expires is None or on <= expires)


def why_not_selectable(
    name: str,
    status: str,
    accreditation: str | None,
    expires: date | None,
    on: date,
    *,
    require_current_accreditation: bool,
) -> str | None:
    """Why the contractor cannot be selected for a case on ``on``, or ``None`` when it can."""
    if status == "suspended":
        return f"{name} is suspended from the contractor register"
    if status == "removed":
        return f"{name} has been removed from the contractor register"
    if not require_current_accreditation or accreditation_current(accreditation, expires, on):
        return None
    if accreditation is None:
        return f"{name} has no accreditation recorded, and the works policy requires a current one"
    assert expires is not None  # a recorded accreditation without an expiry date is always current
    return f"{name}'s {accreditation} accreditation expired on {expires:%d/%m/%Y}, before {on:%d/%m/%Y}"


# ---------------------------------------------------------------------- choosing an estimate


@dataclass(frozen=True)
class EstimateOption:
    """One estimate on the case, as the selection sees it."""

    estimate_id: int
    contractor: str
    price_pence: Pence
    not_selectable: str | None = None  # why its contractor cannot be selected on the date; None: it can


@dataclass(frozen=True)
class EstimateChoice:
    """The estimate chosen, the eligible works it leads to, and why."""

    estimate_id: int
    contractor: str
    price_pence: Pence
    eligible_works_pence: Pence
    applicant_pays_pence: Pence
    lowest_estimate_id: int
    reason: str | None
    not_acceptable: tuple[tuple[int, str], ...]  # (estimate id, why), the officer's and the register's
    how_decided: str


def explain_selection(
    contractor: str, price_pence: Pence, eligible_works_pence: Pence, applicant_pays_pence: Pence,
    reason: str | None,
) -> str:  # fmt: skip
    """The one line a letter gives for the eligible works (from the figures a selection stores)."""
    works = f"Eligible works {format_pounds(eligible_works_pence)}: the lowest acceptable estimate"
    if applicant_pays_pence == 0:
        return f"{works}, from {contractor}."
    why = f" ({reason})" if reason else ""
    return (
        f"{works}. {contractor}'s dearer estimate of {format_pounds(price_pence)} was chosen{why}, "
        f"so the applicant pays the difference of {format_pounds(applicant_pays_pence)}."
    )


def choose_estimate(
    options: Sequence[EstimateOption],
    chosen_id: int,
    *,
    unacceptable: Mapping[int, str] | None = None,
    reason: str | None = None,
) -> EstimateChoice:
    """Choose estimate ``chosen_id`` among ``options``; ``unacceptable`` maps the estimates the officer
    rejects to why. Raises :class:`InvalidInput` with one sentence if the choice cannot stand."""
    rejected = {estimate_id: why.strip() for estimate_id, why in (unacceptable or {}).items()}
    reason = reason.strip() if reason and reason.strip() else None
    by_id = {option.estimate_id: option for option in options}
    if not by_id:
        raise InvalidInput("no estimate is recorded on the case yet (record one with 'dfg estimate add')")
    known = ", ".join(str(i) for i in sorted(by_id))
    for estimate_id, why in rejected.items():
        if estimate_id not in by_id:
            raise InvalidInput(f"estimate {estimate_id} is not on this case (its estimates: {known})")
        if not why:
            raise InvalidInput(f"estimate {estimate_id}: say why it is not acceptable")
    if chosen_id not in by_id:
        raise InvalidInput(f"estimate {chosen_id} is not on this case (its estimates: {known})")
    if chosen_id in rejected:
        raise InvalidInput(f"estimate {chosen_id} cannot be both chosen and rejected as not acceptable")
    chosen = by_id[chosen_id]
    if chosen.not_selectable is not None:
        raise InvalidInput(f"estimate {chosen_id} cannot be chosen: {chosen.not_selectable}")
    not_acceptable = tuple(
        sorted(
            [*rejected.items()]
            + [
                (o.estimate_id, o.not_selectable)
                for o in options
                if o.not_selectable and o.estimate_id not in rejected
            ]
        )
    )
    excluded = {estimate_id for estimate_id, _ in not_acceptable}
    # ties go to the earlier estimate, so the same estimates always give the same lowest
    lowest = min(
        (o for o in options if o.estimate_id not in excluded), key=lambda o: (o.price_pence, o.estimate_id)
    )
    if chosen.price_pence == lowest.price_pence:  # a tie with the chosen one: it is the lowest
        lowest = chosen
    applicant_pays = chosen.price_pence - lowest.price_pence
    if applicant_pays > 0 and reason is None:
        raise InvalidInput(
            f"estimate {chosen_id} ({chosen.contractor}, {format_pounds(chosen.price_pence)}) is dearer than "
            f"the lowest acceptable estimate {lowest.estimate_id} ({lowest.contractor}, "
            f"{format_pounds(lowest.price_pence)}): give the reason for choosing it (the applicant pays the "
            f"{format_pounds(applicant_pays)} difference)"
        )
    return EstimateChoice(
        estimate_id=chosen_id,
        contractor=chosen.contractor,
        price_pence=chosen.price_pence,
        eligible_works_pence=lowest.price_pence,
        applicant_pays_pence=applicant_pays,
        lowest_estimate_id=lowest.estimate_id,
        reason=reason,
        not_acceptable=not_acceptable,
        how_decided=explain_selection(
            chosen.contractor, chosen.price_pence, lowest.price_pence, applicant_pays, reason
        ),
    )
