"""Budgets: each district's allocation per financial year and funding line, and the ledger of every
movement of it (see :mod:`dfg.rules.budget` for the arithmetic).

Two kinds of function live here:

- **Inside another step's transaction** (:func:`commit`, :func:`adjust`, :func:`draw_down`,
  :func:`release`, :func:`recommit`, and the readers :func:`outstanding`, :func:`case_budget`,
  :func:`override_reason_for`): the services that approve, vary, pay, cancel and reopen call them on
  the connection of their own write transaction, so a step and its budget movement commit together or
  not at all. When one raises, the caller's transaction rolls back and nothing of the step is written.
- **A command of its own**: :func:`allocate`. Reading budgets (``dfg budget show``, ``dfg budget
  entries``) is in :mod:`dfg.reports.budget_lines`, and a manager's override of the budget for a case
  in :func:`dfg.services.approval.override`, since it records a decision on the case; that keeps this
  module free of the case service, which calls :func:`release` and :func:`recommit` when a case ends
  or is reopened.

**Which year a case's money belongs to** (a documented choice): all of a case's commitments belong to
the financial year of its approval date, and its later variations, payments, releases and
recommitments move that same year's budget, on the same district's lines, even when they happen in a
later year. The money was set aside in the year the council decided to spend it; following each
payment into the year it happens to be made would leave the approving year under-spent and the paying
year over-committed by money it never approved. (A council that rolls commitments forward at year end
would do so with a release in one year and a commitment in the next.)

The running totals in ``budgets`` move only with a ``budget_entries`` row in the same transaction, so
the ledger always sums to them. Each movement is one atomic ``UPDATE … SET committed_pence =
committed_pence + :x … RETURNING``: on PostgreSQL (READ COMMITTED) an UPDATE waits for any other
transaction holding the row and then adds to the committed value it left, so two approvals racing
cannot both slip under the allocation; on SQLite a writer already holds the write lock (BEGIN
IMMEDIATE). Lines are always moved in the same order (``mandatory`` first, then alphabetically), so two
transactions moving the same lines never deadlock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from dfg.errors import DatabaseProblem, GuardFailed, InvalidInput, NotFound
from dfg.reports.scope import district_name
from dfg.rules.budget import (
    ENTRY_EFFECTS,
    BudgetPosition,
    check_financial_year,
    financial_year_label,
    funding_lines_of,
    line_order,
    ordered_lines,
    shortfall_pence,
    split_payment,
)
from dfg.rules.clock import utcnow
from dfg.rules.money import Pence, format_pounds
from dfg.store.audit import NewEvent, append_to_system
from dfg.store.database import Database
from dfg.store.models import BUDGET_ENTRIES, BUDGETS, CASES, EVENTS
from dfg.store.personal import personal_values
from dfg.workflow.actor import Actor
from dfg.workflow.roles import acting_district, require_role

_budgets = BUDGETS
_entries = BUDGET_ENTRIES


@dataclass(frozen=True)
class Place:
    """Which budget: a district's, for one financial year."""

    district: str
    financial_year: int

    def name(self, line: str) -> str:
        """``the CAN 2026-27 mandatory budget``."""
        return f"the {self.district} {financial_year_label(self.financial_year)} {line} budget"


@dataclass(frozen=True)
class _Movement:
    """What every ledger entry of one call records besides its line, kind and amount."""

    case_id: int | None
    recorded_by: str
    now: datetime
    approval_id: int | None = None
    payment_id: int | None = None


# ---------------------------------------------------------------------- moving the running totals

_MOVE = (
    update(_budgets)
    .where(
        _budgets.c.district_code == bindparam("district"),
        _budgets.c.financial_year == bindparam("year"),
        _budgets.c.funding_line == bindparam("line"),
    )
    .values(
        allocation_pence=_budgets.c.allocation_pence + bindparam("allocation_change"),
        committed_pence=_budgets.c.committed_pence + bindparam("committed_change"),
        spent_pence=_budgets.c.spent_pence + bindparam("spent_change"),
    )
    .returning(_budgets.c.allocation_pence, _budgets.c.committed_pence, _budgets.c.spent_pence)
)
_INSERT_ENTRY = insert(_entries)


def _move(connection: Connection, place: Place, line: str, kind: str, amount: Pence) -> BudgetPosition | None:
    """Apply an entry's effect to the budget's running totals; its position after, or ``None`` if the
    budget has no row (nothing is changed then)."""
    allocation, committed, spent = ENTRY_EFFECTS[kind]
    row = connection.execute(
        _MOVE,
        {
            "district": place.district,
            "year": place.financial_year,
            "line": line,
            "allocation_change": allocation * amount,
            "committed_change": committed * amount,
            "spent_change": spent * amount,
        },
    ).first()
    return None if row is None else BudgetPosition(row[0], row[1], row[2])


def _must_move(connection: Connection, place: Place, line: str, kind: str, amount: Pence) -> BudgetPosition:
    after = _move(connection, place, line, kind, amount)
    if after is None:  # the case's own entries say the row was there: someone deleted it by hand
        raise DatabaseProblem(f"{place.name(line)} has entries in the ledger but no row in 'budgets'")
    return after


def _record(
    connection: Connection,
    place: Place,
    line: str,
    kind: str,
    amount: Pence,
    movement: _Movement,
    override_reason: str | None = None,
) -> None:
    connection.execute(
        _INSERT_ENTRY,
        {
            "district_code": place.district,
            "financial_year": place.financial_year,
            "funding_line": line,
            "kind": kind,
            "amount_pence": amount,
            "case_id": movement.case_id,
            "approval_id": movement.approval_id,
            "payment_id": movement.payment_id,
            "override_reason": override_reason,
            "recorded_by": movement.recorded_by,
            "recorded_at": movement.now,
        },
    )


def _ensure_row(connection: Connection, place: Place, line: str) -> None:
    """Make the budget's row (all nil) unless it exists. Someone may make it meanwhile on PostgreSQL,
    hence ON CONFLICT DO NOTHING; a SQLite writer holds the write lock, so nobody can."""
    values = {
        "district_code": place.district,
        "financial_year": place.financial_year,
        "funding_line": line,
        "allocation_pence": 0,
        "committed_pence": 0,
        "spent_pence": 0,
    }
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        connection.execute(postgresql_insert(_budgets).on_conflict_do_nothing(), values)
    else:
        connection.execute(insert(_budgets).prefix_with("OR IGNORE", dialect="sqlite"), values)


# ---------------------------------------------------------------------- reading a case's ledger


def _reference(connection: Connection, case_id: int) -> str:
    reference = connection.scalar(select(CASES.c.reference).where(CASES.c.id == case_id))
    if reference is None:
        raise NotFound(f"no case with id {case_id}")
    return str(reference)


def _place_of(connection: Connection, case_id: int) -> Place | None:
    """Where the case's money is committed: the budget of its first commitment."""
    row = connection.execute(
        select(_entries.c.district_code, _entries.c.financial_year)
        .where(_entries.c.case_id == case_id, _entries.c.kind == "commitment")
        .order_by(_entries.c.id)
        .limit(1)
    ).first()
    return None if row is None else Place(row.district_code, row.financial_year)


def _committed_place(connection: Connection, case_id: int, doing: str) -> Place:
    place = _place_of(connection, case_id)
    if place is None:
        raise GuardFailed(
            f"cannot {doing} on {_reference(connection, case_id)}: no budget is committed for it"
        )
    return place


def _latest_approval(connection: Connection, case_id: int) -> int | None:
    """The approval the case's latest commitment or adjustment was for (recorded on later entries)."""
    return connection.scalar(
        select(_entries.c.approval_id)
        .where(
            _entries.c.case_id == case_id,
            _entries.c.kind.in_(("commitment", "adjustment")),
            _entries.c.approval_id.is_not(None),
        )
        .order_by(_entries.c.id.desc())
        .limit(1)
    )


def _totals_by_line(connection: Connection, case_id: int) -> dict[str, dict[str, Pence]]:
    """The case's ledger totals: ``{line: {kind: pence}}``."""
    found: dict[str, dict[str, Pence]] = {}
    rows = connection.execute(
        select(_entries.c.funding_line, _entries.c.kind, func.sum(_entries.c.amount_pence))
        .where(_entries.c.case_id == case_id)
        .group_by(_entries.c.funding_line, _entries.c.kind)
    )
    for line, kind, total in rows:
        found.setdefault(line, {})[kind] = int(total)
    return found


def outstanding(connection: Connection, case_id: int) -> dict[str, Pence]:
    """What is committed and not yet paid or released on the case, by funding line (lines with nothing
    outstanding are left out)."""
    owed = {
        line: BudgetPosition.from_ledger(totals).committed_pence
        for line, totals in _totals_by_line(connection, case_id).items()
    }
    return {line: owed[line] for line in ordered_lines(owed) if owed[line]}


def case_budget(connection: Connection, case_id: int) -> dict[str, Any]:
    """The case's money in the budget, JSON-ready: where it is committed and, by funding line, what
    was committed (approval and variations), paid, released and is still outstanding; with the reasons
    recorded where its commitments went over the budget. ``{}`` if nothing was ever committed for it."""
    place = _place_of(connection, case_id)
    if place is None:
        return {}
    lines = []
    for line, totals in sorted(_totals_by_line(connection, case_id).items(), key=lambda t: line_order(t[0])):
        committed = totals.get("commitment", 0) + totals.get("adjustment", 0)
        paid, released = totals.get("payment", 0), -totals.get("release", 0)
        lines.append(
            {
                "funding_line": line,
                "committed_pence": committed,
                "paid_pence": paid,
                "released_pence": released,
                "outstanding_pence": committed - paid - released,
            }
        )
    overrides = connection.scalars(
        select(_entries.c.override_reason)
        .where(_entries.c.case_id == case_id, _entries.c.override_reason.is_not(None))
        .order_by(_entries.c.id)
    )
    return {
        "district": place.district,
        "financial_year": place.financial_year,
        "financial_year_label": financial_year_label(place.financial_year),
        "lines": lines,
        "outstanding_pence": sum(line["outstanding_pence"] for line in lines),
        "overrides": list(overrides),
    }


def override_reason_for(
    connection: Connection,
    case_id: int,
    grant_calculation_id: int | None = None,
    *,
    variation_of: int | None = None,
) -> str | None:
    """The reason of the latest manager's override on the case for this grant calculation (an approval),
    or for a variation of approval version ``variation_of``, if any. An override is for the figures a
    manager saw: a new calculation, or a new version, needs a new one."""
    key, value = (
        ("grant_calculation", grant_calculation_id)
        if variation_of is None
        else ("variation_of", variation_of)
    )
    events = connection.execute(
        select(EVENTS.c.reason, EVENTS.c.payload)
        .where(EVENTS.c.case_id == case_id, EVENTS.c.kind == "budget_override")
        .order_by(EVENTS.c.seq.desc())
    )
    for reason, payload in events:
        if json.loads(payload).get(key) == value:
            return personal_values(connection, [case_id]).reason(reason) if reason else None
    return None


# ---------------------------------------------------------------------- movements inside a step


def _check_amounts(amounts: Mapping[str, Pence], *, signed: bool) -> None:
    for line, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidInput(f"{line}: an amount of money is whole pence, not {amount!r}")
        if amount < 0 and not signed:
            raise InvalidInput(f"{line}: a commitment cannot be negative ({format_pounds(amount)})")


def _commit_lines(
    connection: Connection,
    place: Place,
    amounts: Mapping[str, Pence],
    kind: str,
    movement: _Movement,
    override_reason: str | None,
) -> dict[str, Pence]:
    """Commit ``amounts`` (an increase is refused where it over-commits, unless overridden)."""
    recorded: dict[str, Pence] = {}
    problems: list[str] = []
    for line in ordered_lines(amounts):
        amount = amounts[line]
        if amount == 0:
            continue
        after = _move(connection, place, line, kind, amount)
        if after is None:
            if not override_reason:
                label = financial_year_label(place.financial_year)
                problems.append(
                    f"there is no {place.name(line).removeprefix('the ')}, so {format_pounds(amount)} is short "
                    f"(allocate one with 'dfg budget allocate {place.district} --year {label} --line {line} "
                    "--amount …')"
                )
                continue
            _ensure_row(connection, place, line)
            after = _must_move(connection, place, line, kind, amount)
        short = shortfall_pence(after, amount)
        if short and not override_reason:
            left = after.remaining_pence + amount
            problems.append(
                f"{place.name(line)} has {format_pounds(left)} left and this needs {format_pounds(amount)} "
                f"({format_pounds(short)} short)"
            )
            continue
        _record(connection, place, line, kind, amount, movement, override_reason if short else None)
        recorded[line] = amount
    if problems:  # the caller's transaction rolls back what was moved above
        reference = _reference(connection, movement.case_id) if movement.case_id is not None else "the case"
        raise GuardFailed(
            f"{reference} would over-commit the budget: {'; '.join(problems)}. A manager may override it "
            f"('dfg budget override {reference} --reason \"…\"')"
        )
    return recorded


def commit(
    connection: Connection,
    *,
    district: str,
    financial_year: int,
    lines: Mapping[str, Pence],
    case_id: int,
    approval_id: int | None,
    recorded_by: str,
    now: datetime,
    override_reason: str | None,
) -> dict[str, Pence]:
    """Commit an approval's assistance (``{"mandatory": pence, "top_up": pence}``) to the district's
    budgets for ``financial_year`` (the year of the approval date). Returns what was committed by line.

    Raises :class:`GuardFailed` naming each line it would take below nil, or that has no budget, unless
    ``override_reason`` (a manager's, from :func:`override_reason_for`) is given: then a missing
    budget is made with a nil allocation and the over-committing entries carry the reason."""
    _check_amounts(lines, signed=False)
    movement = _Movement(case_id, recorded_by, now, approval_id=approval_id)
    return _commit_lines(
        connection, Place(district, financial_year), lines, "commitment", movement, override_reason
    )


def adjust(
    connection: Connection,
    *,
    case_id: int,
    approval_id: int | None,
    deltas: Mapping[str, Pence],
    recorded_by: str,
    now: datetime,
    override_reason: str | None,
) -> dict[str, Pence]:
    """Commit a variation's change to the case's assistance, by line (signed), in the budget of its
    commitment. An increase is checked as :func:`commit` checks one; a decrease releases money and may
    not be more than is outstanding on the line. Returns the changes recorded by line."""
    _check_amounts(deltas, signed=True)
    place = _committed_place(connection, case_id, "vary the budget")
    owed = outstanding(connection, case_id)
    for line, delta in deltas.items():
        if delta < 0 and -delta > owed.get(line, 0):
            raise GuardFailed(
                f"cannot reduce the {line} commitment of {_reference(connection, case_id)} by "
                f"{format_pounds(-delta)}: only {format_pounds(owed.get(line, 0))} is committed and not paid"
            )
    movement = _Movement(case_id, recorded_by, now, approval_id=approval_id)
    return _commit_lines(connection, place, deltas, "adjustment", movement, override_reason)


def draw_down(
    connection: Connection, *, case_id: int, payment_id: int | None, amount_pence: Pence, recorded_by: str,
    now: datetime,
) -> dict[str, Pence]:  # fmt: skip
    """Move a payment from committed to spent on the case's lines (``mandatory`` first, then the others
    alphabetically; see :func:`dfg.rules.budget.split_payment`). Returns the amount drawn by line.
    :class:`InvalidInput` if the payment is more than the case has outstanding."""
    place = _committed_place(connection, case_id, "pay from the budget")
    try:
        parts = split_payment(outstanding(connection, case_id), amount_pence)
    except InvalidInput as error:
        raise InvalidInput(f"{_reference(connection, case_id)}: {error.message}") from None
    movement = _Movement(
        case_id, recorded_by, now, approval_id=_latest_approval(connection, case_id), payment_id=payment_id
    )
    for line, amount in parts.items():
        _must_move(connection, place, line, "payment", amount)
        _record(connection, place, line, "payment", amount, movement)
    return parts


def release(connection: Connection, *, case_id: int, recorded_by: str, now: datetime) -> dict[str, Pence]:
    """Release everything still committed on the case (it was cancelled or withdrawn, or closed with
    money unpaid). Returns the release entries' amounts by line (negative), ``{}`` if nothing was
    outstanding."""
    owed = {line: pence for line, pence in outstanding(connection, case_id).items() if pence > 0}
    if not owed:
        return {}
    place = _committed_place(connection, case_id, "release the budget")
    movement = _Movement(case_id, recorded_by, now, approval_id=_latest_approval(connection, case_id))
    released: dict[str, Pence] = {}
    for line, amount in owed.items():
        _must_move(connection, place, line, "release", -amount)
        _record(connection, place, line, "release", -amount, movement)
        released[line] = -amount
    return released


def recommit(
    connection: Connection, *, case_id: int, recorded_by: str, now: datetime, reason: str | None = None
) -> dict[str, Pence]:
    """Commit again what the case's last releases released (it is being reopened). Returns what was
    committed by line, ``{}`` if its latest entries are not releases.

    Never refused for over-committing: the reopening is itself a recorded decision with a reason. An
    entry that over-commits carries ``reopened: <reason>`` as its override reason."""
    released: dict[str, Pence] = {}
    entries = connection.execute(
        select(_entries.c.kind, _entries.c.funding_line, _entries.c.amount_pence)
        .where(_entries.c.case_id == case_id)
        .order_by(_entries.c.id.desc())
    ).all()
    for kind, line, amount in entries:
        if kind != "release":
            break
        released[line] = released.get(line, 0) - amount
    if not released:
        return {}
    place = _committed_place(connection, case_id, "recommit the budget")
    movement = _Movement(case_id, recorded_by, now, approval_id=_latest_approval(connection, case_id))
    committed: dict[str, Pence] = {}
    for line in ordered_lines(released):
        amount = released[line]
        after = _must_move(connection, place, line, "commitment", amount)
        short = shortfall_pence(after, amount)
        why = f"reopened: {reason or 'the released commitment is restored'}" if short else None
        _record(connection, place, line, "commitment", amount, movement, why)
        committed[line] = amount
    return committed


# ---------------------------------------------------------------------- allocating


@dataclass(frozen=True)
class Allocated:
    """An allocation set: the budget's position after it, and a warning if it is below what is
    already committed and spent."""

    district: str
    financial_year: int
    funding_line: str
    previous_pence: Pence
    position: BudgetPosition
    warning: str | None

    @property
    def changed(self) -> bool:
        return self.previous_pence != self.position.allocation_pence

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "financial_year": self.financial_year,
            "financial_year_label": financial_year_label(self.financial_year),
            "funding_line": self.funding_line,
            "previous_pence": self.previous_pence,
            **self.position.as_dict(),
            "warning": self.warning,
        }


#: Who may set an allocation.
ALLOCATE_ROLES = ("manager", "admin")

_SELECT_BUDGET = select(
    _budgets.c.allocation_pence, _budgets.c.committed_pence, _budgets.c.spent_pence
).where(
    _budgets.c.district_code == bindparam("district"),
    _budgets.c.financial_year == bindparam("year"),
    _budgets.c.funding_line == bindparam("line"),
)


def allocate(
    db: Database,
    actor: Actor,
    *,
    district: str,
    financial_year: int,
    funding_line: str,
    amount_pence: Pence,
    reason: str | None,
    now: datetime | None = None,
) -> Allocated:
    """Set a district's allocation for a funding line and financial year TO ``amount_pence`` (role:
    manager or administrator). The ledger records the difference; the ``system`` audit stream records
    who set it, from what, and why. An allocation below what is already committed and spent is allowed
    (budgets are cut in year) and comes back with a warning."""
    now = now or utcnow()
    role = require_role(actor, *ALLOCATE_ROLES)
    code = acting_district(actor, district)
    check_financial_year(financial_year)
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence < 0:
        raise InvalidInput(f"--amount: an allocation is nil or more, not {amount_pence!r}")
    place = Place(code, financial_year)
    key = {"district": code, "year": financial_year, "line": funding_line}
    with db.writing() as session:
        connection = session.connection()
        district_name(connection, code)
        if funding_line not in funding_lines_of(code):
            known = ", ".join(funding_lines_of(code))
            raise InvalidInput(f"--line: {code} has no funding line '{funding_line}' (known: {known})")
        row = connection.execute(_SELECT_BUDGET.with_for_update(), key).first()
        if row is None and amount_pence:
            _ensure_row(connection, place, funding_line)
            row = connection.execute(_SELECT_BUDGET.with_for_update(), key).first()
        before = BudgetPosition() if row is None else BudgetPosition(row[0], row[1], row[2])
        change = amount_pence - before.allocation_pence
        after = before
        if change:
            after = _must_move(connection, place, funding_line, "allocation", change)
            _record(
                connection, place, funding_line, "allocation", change, _Movement(None, actor.username, now)
            )
            append_to_system(
                session,
                NewEvent(
                    occurred_at=now,
                    actor=actor.username,
                    role=role,
                    kind="budget_allocated",
                    reason=reason,
                    payload={
                        "district": code,
                        "financial_year": financial_year,
                        "funding_line": funding_line,
                        "allocation_pence": amount_pence,
                        "previous_pence": before.allocation_pence,
                        "change_pence": change,
                    },
                ),
            )
    warning = None
    if after.remaining_pence < 0:
        warning = (
            f"{place.name(funding_line)} is now {format_pounds(-after.remaining_pence)} less than is already "
            f"committed ({format_pounds(after.committed_pence)}) and spent ({format_pounds(after.spent_pence)})"
        )
    return Allocated(code, financial_year, funding_line, before.allocation_pence, after, warning)
