"""Check the tables against the events: a row edited, inserted or deleted outside the engine.

The hash chains (:mod:`dfg.store.audit`) prove the events are as written; they say nothing of the rows
the events describe. Here the rows are **re-derived from the events** and compared with what the tables
hold, so an edit made on the database by hand (a state changed with no event, an approved grant
raised, a budget's committed figure zeroed, a ledger row deleted, a letter's PDF replaced, an
administrator inserted, a delegated limit raised) is reported with the table, the row, the column, the
value held and the value the events say.

What each table is checked against:

- **cases**: replaying the case's stream. ``case_opened`` gives the district, priority, tenure, referral
  source and first contact date; each ``transition`` gives the state (its ``to_state``) and every
  column it changed (its payload carries them: milestone dates, ``approved_grant_pence``,
  ``closed_date``, ``hold_review_date``, priority), as does ``migrated`` for a case brought in from
  another system; ``assigned`` gives the officer (as does
  ``case_opened``, for a case opened onto its officer's list); ``hold_since`` is
  the instant of the step that began the hold (the workflow says which triggers do). A column no event
  set must be empty.
- **approvals**: each row against the step that recorded it (the payload names the approval's id):
  version, decision date, approved grant, second approver, payment terms and, for steps recorded since
  the events carried them, the works, charges, contribution, total assistance and funding by line.
  Older approval events carry less, and their rows are checked only as far as they go. A row no event
  names, and an approval an event names with no row, are reported.
- **budget_entries**: the ledger the events describe (allocations on the ``system`` stream; a case's
  commitment, variation, payments, release and recommitment in its steps' ``budget`` payloads) against
  the rows, as multisets of (case, district, year, line, kind, amount): a row no event describes, or a
  movement with no row, is reported.
- **budgets**: each row's allocation, committed and spent figures against the sums of its ledger.
- **letters**: each register row against its ``letter_produced`` event: the SHA-256 of the PDF's bytes
  must be the hash recorded **on the chain** (not only the register's own copy, which a forger may
  recompute); a letter the events record whose PDF is missing, and a row no event records, are reported.
- **users** and **user_roles**: each user against the latest ``user_*`` event of the ``system`` stream
  naming them (``user_added`` and ``user_changed`` carry the whole view: name, roles, district,
  delegated limit, active; ``user_deactivated`` and ``user_reactivated`` the active flag); a user no
  event records is reported.

Not checked here: ``people`` and ``properties`` (personal data, checked with its own design), and the
decision records whose events carry only a reference to them (assessments, determinations, estimates).
Each table is read once and events once (only the payloads of the kinds above are parsed).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dfg.rules.budget import ENTRY_EFFECTS, financial_year_label
from dfg.store.audit import SYSTEM_STREAM, AuditProblem, disposed_cases
from dfg.store.personal import DISPOSED, SEALED, PersonalValues, digests_in, values_of
from dfg.store.tables import APPROVALS, BUDGET_ENTRIES, BUDGETS, CASES, EVENTS, LETTERS, USER_ROLES, USERS
from dfg.workflow.definition import MILESTONES, all_definitions
from dfg.workflow.timeline import MIGRATED

# The case columns the events set, with the key of case_opened's payload that gives each one first.
_OPENED_WITH = {
    "district_code": "district",
    "priority": "priority",
    "priority_reason": "priority_reason",
    "tenure": "tenure",
    "referral_source": "referral_source",
    "first_contact_date": "first_contact_date",
}
_SET_BY_STEPS = (
    *(m for m in MILESTONES if m not in _OPENED_WITH),
    "hold_review_date",
    "approved_grant_pence",
    "priority",
    "priority_reason",
    "legacy_reference",
)
_STEPS_SET = frozenset(_SET_BY_STEPS)
_CASE_COLUMNS = (
    "state",
    "assigned_to",
    "hold_since",
    *_OPENED_WITH,
    *dict.fromkeys(c for c in _SET_BY_STEPS if c not in _OPENED_WITH),
)

# An approval's columns an approving or varying step's payload states (the newer ones since they do).
_APPROVAL_FACTS = {
    "approval_version": "version",
    "effective_date": "decided_on",
    "second_approver": "second_approver",
    "pay_contractor_directly": "pay_contractor_directly",
    "deferred_payment_date": "deferred_payment_date",
    "approved_grant_pence": "grant_pence",
    "grant_pence": "grant_pence",
    "works_pence": "works_pence",
    "charges_pence": "charges_pence",
    "contribution_pence": "contribution_pence",
    "total_assistance_pence": "total_assistance_pence",
    "funding": "funding",
}

# The columns of an event the derivation reads, in the order it unpacks them.
_EVENT_COLUMNS = (
    "stream",
    "seq",
    "case_id",
    "occurred_at",
    "kind",
    "trigger",
    "to_state",
    "payload",
    "workflow_version",
)
# The events whose payloads say something of a table; the others' are not parsed.
_READ_KINDS = ("case_opened", "transition", MIGRATED, "assigned", "letter_produced", "budget_allocated")
_USER_FIELDS = {
    "full_name": "full_name",
    "district": "district_code",
    "approval_limit_pence": "approval_limit_pence",
    "active": "active",
    "roles": "roles",
}


def _plain(value: Any) -> Any:
    """A column's value as an event's payload has it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, date | datetime) else value


class _Said(NamedTuple):  # a tuple: one is made for every fact of every event, and a dataclass costs more
    """A fact an event states, and where: the value and the event (stream, sequence number)."""

    value: Any
    stream: str
    seq: int


@dataclass
class _Derived:
    """What the events say the tables hold."""

    cases: dict[int, dict[str, _Said]] = field(default_factory=dict)
    approvals: dict[int, dict[str, _Said]] = field(default_factory=dict)
    letters: dict[int, _Said] = field(default_factory=dict)  # letter id: its sha256 on the chain
    users: dict[str, dict[str, _Said]] = field(default_factory=dict)
    ledger: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    ledger_said: dict[tuple[Any, ...], _Said] = field(default_factory=dict)  # an event stating each key
    places: dict[int, tuple[str, int]] = field(default_factory=dict)  # case: its first commitment's budget

    def move(
        self, case_id: int | None, place: tuple[str, int], line: str, kind: str, pence: int, said: _Said
    ) -> None:
        key = (case_id, place[0], place[1], line, kind, pence)
        self.ledger[key] += 1
        self.ledger_said.setdefault(key, said)


def _derive(events: Iterable[Any], users_by_name: Mapping[str, int], kept: PersonalValues) -> _Derived:
    derived = _Derived()
    # unpacked by position: attribute access on each of many rows costs more than the rest of the loop
    for stream, seq, case_id, occurred_at, kind, trigger, to_state, raw, workflow_version in events:
        if stream == SYSTEM_STREAM and not (kind == "budget_allocated" or kind.startswith("user_")):
            continue
        payload = json.loads(raw)
        if SEALED in raw:  # a personal value (a priority's reason) is checked against the value kept
            payload = kept.payload(payload)
        if stream == SYSTEM_STREAM:
            if kind == "budget_allocated":
                place = (payload["district"], payload["financial_year"])
                derived.move(
                    None,
                    place,
                    payload["funding_line"],
                    "allocation",
                    payload["change_pence"],
                    _Said(None, stream, seq),
                )
            elif "username" in payload:  # user_added and user_changed: the whole view; (de)activation: active
                facts = derived.users.setdefault(payload["username"], {})
                facts.update(
                    {key: _Said(payload[key], stream, seq) for key in _USER_FIELDS if key in payload}
                )
            continue
        case = derived.cases.setdefault(case_id, {})
        if kind == "case_opened":
            case.update(
                {
                    column: _Said(payload[key], stream, seq)
                    for column, key in _OPENED_WITH.items()
                    if key in payload
                }
            )
            case["state"] = _Said(to_state, stream, seq)
            if "assigned_to" in payload:  # on the opening officer's list from the start
                name = payload["assigned_to"]
                case["assigned_to"] = _Said(users_by_name.get(name, name), stream, seq)
        elif kind == "assigned":
            case["assigned_to"] = _Said(users_by_name.get(payload["to"], payload["to"]), stream, seq)
        elif kind == "letter_produced":
            if "letter" in payload:
                derived.letters[payload["letter"]] = _Said(payload["sha256"], stream, seq)
        else:  # a transition
            case["state"] = _Said(to_state, stream, seq)
            case.update(
                {column: _Said(payload[column], stream, seq) for column in payload.keys() & _STEPS_SET}
            )
            if "hold_review_date" in payload:  # a hold began (at the step's instant) or ended
                since = occurred_at.isoformat() if _starts_hold(workflow_version, trigger) else None
                case["hold_since"] = _Said(since, stream, seq)
            if "approval" in payload:
                facts = {
                    column: _Said(payload[key], stream, seq)
                    for key, column in _APPROVAL_FACTS.items()
                    if key in payload
                }
                derived.approvals[payload["approval"]] = facts
            _derive_movements(derived, case_id, payload.get("budget") or {}, _Said(None, stream, seq), case)
            for payment in payload.get("payments") or ():  # a final payment to several payees
                _derive_movements(
                    derived, case_id, payment.get("budget") or {}, _Said(None, stream, seq), case
                )
    return derived


def _derive_movements(
    derived: _Derived, case_id: int, budget: Mapping[str, Any], said: _Said, case: Mapping[str, _Said]
) -> None:
    """The ledger rows one step's ``budget`` payload describes (see :mod:`dfg.services.budget`: every
    movement after the first commitment is in that commitment's budget)."""
    if "committed" in budget and "district_code" in case:
        place = (case["district_code"].value, budget["financial_year"])
        derived.places.setdefault(case_id, place)
        for line, pence in budget["committed"].items():
            derived.move(case_id, place, line, "commitment", pence, said)
        return
    committed_in = derived.places.get(case_id)
    if committed_in is None:
        return
    for key, kind, sign in (
        ("adjusted", "adjustment", 1),
        ("drawn", "payment", 1),
        ("released", "release", -1),
        ("recommitted", "commitment", 1),
    ):
        for line, pence in (budget.get(key) or {}).items():
            derived.move(case_id, committed_in, line, kind, sign * pence, said)


def _starts_hold(workflow_version: str | None, trigger: str | None) -> bool:
    definition = all_definitions().get(workflow_version or "")
    found = definition.triggers.get(trigger or "") if definition is not None else None
    return found is not None and found.hold == "start"


def _differs(table: str, row: str, column: str, held: Any, said: _Said) -> AuditProblem:
    return AuditProblem(
        said.stream,
        said.seq,
        f"{table} {row}: {column} is {held!r} but the events say {said.value!r}",
        table=table,
        row=row,
        column=column,
        held=held,
        expected=said.value,
    )


def _unrecorded(stream: str, table: str, row: str, what: str) -> AuditProblem:
    return AuditProblem(stream, None, f"{table} {row}: {what}", table=table, row=row)


def table_problems(session: Session, case_id: int | None = None) -> list[AuditProblem]:
    """Every row of the checked tables that disagrees with the events (only one case's rows, and no
    ``system`` tables, when ``case_id`` is given)."""
    users = {u.username: u for u in session.execute(select(USERS))}  # an assignment names its officer
    users_by_name = {name: u.id for name, u in users.items()}
    event_query = (
        select(*EVENTS.c[_EVENT_COLUMNS])
        .where(or_(EVENTS.c.kind.in_(_READ_KINDS), EVENTS.c.stream == SYSTEM_STREAM))
        .order_by(EVENTS.c.id)
    )
    cases_query = select(CASES.c.id, CASES.c.reference, *(CASES.c[c] for c in _CASE_COLUMNS))
    if case_id is not None:
        event_query = event_query.where(EVENTS.c.case_id == case_id)
        cases_query = cases_query.where(CASES.c.id == case_id)
    events = session.execute(event_query).all()
    # only the sealed values these events hold (a priority's reason), not every case's whole file
    kept = values_of(session.connection(), (d for e in events for d in digests_in(e.payload)))
    derived = _derive(events, users_by_name, kept)
    references: dict[int, str] = {}
    problems: list[AuditProblem] = []
    for case in session.execute(cases_query):
        references[case.id] = case.reference
        problems.extend(_case_problems(case, derived.cases.get(case.id)))
    problems.extend(_approval_problems(session, derived, references, case_id))
    problems.extend(_letter_problems(session, derived, references, case_id))
    problems.extend(_ledger_problems(session, derived, references, case_id))
    if case_id is None:
        problems.extend(_user_problems(session, derived, users))
    return problems


def _case_problems(case: Any, said: Mapping[str, _Said] | None) -> list[AuditProblem]:
    if said is None:
        return [_unrecorded(case.reference, "cases", case.reference, "no event opened this case (inserted?)")]
    found = []
    for column, value in zip(_CASE_COLUMNS, case[2:], strict=True):
        held = _plain(value)
        if column in _OPENED_WITH and column not in said:
            continue  # opened before its event said so: nothing to check it against
        expected = said.get(column, _Said(None, case.reference, 1))  # no step set it: it is empty
        if expected.value == DISPOSED:
            continue  # erased with the file: its tombstone is checked with the chains
        if held != expected.value:
            found.append(_differs("cases", case.reference, column, held, expected))
    return found


def _approval_problems(
    session: Session, derived: _Derived, references: Mapping[int, str], case_id: int | None
) -> list[AuditProblem]:
    query = select(APPROVALS).order_by(APPROVALS.c.id)
    if case_id is not None:
        query = query.where(APPROVALS.c.case_id == case_id)
    found = []
    for approval in session.execute(query):
        reference = references.get(approval.case_id, str(approval.case_id))
        row = f"{approval.id} ({reference} version {approval.version})"
        said = derived.approvals.pop(approval.id, None)
        if said is None:
            found.append(
                _unrecorded(reference, "approvals", row, "no event records this approval (inserted?)")
            )
            continue
        for column, expected in said.items():
            held = json.loads(approval.funding) if column == "funding" else _plain(getattr(approval, column))
            if held != expected.value:
                found.append(_differs("approvals", row, column, held, expected))
    for approval_id, said in derived.approvals.items():
        first = next(iter(said.values()), None)
        if first is not None and (case_id is None or first.stream == references.get(case_id)):
            found.append(
                AuditProblem(
                    first.stream,
                    first.seq,
                    f"approvals {approval_id}: recorded by this event but not in the table (deleted?)",
                    table="approvals",
                    row=str(approval_id),
                )
            )
    return found


def _letter_problems(
    session: Session, derived: _Derived, references: Mapping[int, str], case_id: int | None
) -> list[AuditProblem]:
    # PDFs are read a few at a time: all of them at once could be more than memory holds
    query = (
        select(*LETTERS.c[("id", "case_id", "sha256", "pdf")])
        .order_by(LETTERS.c.id)
        .execution_options(yield_per=200)
    )
    if case_id is not None:
        query = query.where(LETTERS.c.case_id == case_id)
    found = []
    disposed = disposed_cases(session)
    for letter in session.execute(query):
        reference = references.get(letter.case_id, str(letter.case_id))
        row = f"{letter.id} ({reference})"
        said = derived.letters.pop(letter.id, None)
        if said is None:
            found.append(_unrecorded(reference, "letters", row, "no event records this letter (inserted?)"))
            continue
        if not letter.pdf and letter.case_id in disposed:
            continue  # disposal empties a letter's PDF, and its tombstone says so
        if not letter.pdf:
            found.append(
                AuditProblem(
                    said.stream,
                    said.seq,
                    f"letters {row}: the PDF is missing",
                    table="letters",
                    row=row,
                    column="pdf",
                )
            )
            continue
        digest = hashlib.sha256(letter.pdf).hexdigest()
        if digest != said.value:
            found.append(_differs("letters", row, "SHA-256 of the PDF", digest, said))
        if letter.sha256 != said.value:
            found.append(_differs("letters", row, "sha256", letter.sha256, said))
    for letter_id, said in derived.letters.items():
        found.append(
            AuditProblem(
                said.stream,
                said.seq,
                f"letters {letter_id}: recorded by this event but its row and PDF are missing (deleted?)",
                table="letters",
                row=str(letter_id),
            )
        )
    return found


def _budget_name(district: str, year: int, line: str) -> str:
    return f"{district} {financial_year_label(year)} {line}"


def _ledger_problems(
    session: Session, derived: _Derived, references: Mapping[int, str], case_id: int | None
) -> list[AuditProblem]:
    c = BUDGET_ENTRIES.c
    query = select(c.id, c.case_id, c.district_code, c.financial_year, c.funding_line, c.kind, c.amount_pence)
    if case_id is not None:
        query = query.where(c.case_id == case_id)
    held: Counter[tuple[Any, ...]] = Counter()
    ids: dict[tuple[Any, ...], list[int]] = {}
    totals: dict[tuple[str, int, str], list[int]] = {}
    for entry in session.execute(query.order_by(c.id)):
        key = (
            entry.case_id,
            entry.district_code,
            entry.financial_year,
            entry.funding_line,
            entry.kind,
            entry.amount_pence,
        )
        held[key] += 1
        ids.setdefault(key, []).append(entry.id)
        sums = totals.setdefault(key[1:4], [0, 0, 0])
        for i, effect in enumerate(ENTRY_EFFECTS[entry.kind]):
            sums[i] += effect * entry.amount_pence
    found = []
    for key, count in (held - derived.ledger).items():
        stream = SYSTEM_STREAM if key[0] is None else references.get(key[0], str(key[0]))
        for entry_id in ids[key][-count:]:
            found.append(
                _unrecorded(
                    stream,
                    "budget_entries",
                    str(entry_id),
                    f"{_entry(key)} that no event records (inserted?)",
                )
            )
    for key, count in (derived.ledger - held).items():
        said = derived.ledger_said[key]
        found.append(
            AuditProblem(
                said.stream,
                said.seq,
                f"budget_entries: {_entry(key)}{f' ({count} times)' if count > 1 else ''} recorded by this event "
                "but not in the ledger (deleted?)",
                table="budget_entries",
            )
        )
    if case_id is None:
        found.extend(_budget_problems(session, totals))
    return found


def _entry(key: tuple[Any, ...]) -> str:
    """A ledger entry in words, from its (case, district, year, line, kind, amount)."""
    article = "an" if key[4][0] in "aeiou" else "a"  # an allocation, an adjustment
    return f"{article} {key[4]} entry of {key[5]} pence on {_budget_name(*key[1:4])}"


def _budget_problems(session: Session, totals: dict[tuple[str, int, str], list[int]]) -> list[AuditProblem]:
    found = []
    for budget in session.execute(select(BUDGETS)):
        key = (budget.district_code, budget.financial_year, budget.funding_line)
        sums = totals.pop(key, [0, 0, 0])
        for column, summed in zip(("allocation_pence", "committed_pence", "spent_pence"), sums, strict=True):
            if getattr(budget, column) != summed:
                row = _budget_name(*key)
                found.append(
                    AuditProblem(
                        SYSTEM_STREAM,
                        None,
                        f"budgets {row}: {column} is {getattr(budget, column)} but its ledger "
                        f"sums to {summed}",
                        table="budgets",
                        row=row,
                        column=column,
                        held=getattr(budget, column),
                        expected=summed,
                    )
                )
    for key in totals:
        row = _budget_name(*key)
        found.append(_unrecorded(SYSTEM_STREAM, "budgets", row, "has ledger entries but no row (deleted?)"))
    return found


def _user_problems(session: Session, derived: _Derived, users: Mapping[str, Any]) -> list[AuditProblem]:
    roles: dict[int, list[str]] = {}
    for user_id, role in session.execute(select(USER_ROLES.c.user_id, USER_ROLES.c.role)):
        roles.setdefault(user_id, []).append(role)
    found = []
    for name, user in sorted(users.items()):
        said = derived.users.get(name)
        if said is None:
            found.append(_unrecorded(SYSTEM_STREAM, "users", name, "no event records this user (inserted?)"))
            continue
        for key, column in _USER_FIELDS.items():
            if key not in said:
                continue
            held = sorted(roles.get(user.id, [])) if key == "roles" else getattr(user, column)
            expected = sorted(said[key].value) if key == "roles" else said[key].value
            if held != expected:
                table = "user_roles" if key == "roles" else "users"
                found.append(
                    _differs(table, name, column, held, _Said(expected, said[key].stream, said[key].seq))
                )
    return found
