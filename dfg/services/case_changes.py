"""What may be recorded on a case beside its workflow steps, for the page that offers the next things to
do: the contribution collected, that entitlement ceased and the decision on what to pay after it, and a
manager's budget override. Each is offered by the same check its service makes before recording it, so
the page never offers what the service would refuse for the case's state (the service checks it all
again, with the role, when it records)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dfg.errors import DfgError
from dfg.services.approval import check_override_open
from dfg.services.cases import normalise_reference, read_facts
from dfg.services.payments import (
    check_awaiting_decision,
    check_entitlement_may_cease,
    contribution_to_collect,
)
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.facts import CaseFacts


@dataclass(frozen=True)
class Change:
    """One change the acting user may record on the case now."""

    name: str
    label: str


#: Each change: its name, its words, the roles that record it, and the check its service makes.
CHANGES: tuple[tuple[str, str, tuple[str, ...], Callable[[CaseFacts], object]], ...] = (
    ("contribution", "Record the contribution collected", ("grant_officer",), contribution_to_collect),
    ("entitlement_ceased", "Record that entitlement ceased", ("grant_officer",), check_entitlement_may_cease),
    ("ceased_entitlement_decision", "Decide what to pay after entitlement ceased", ("approver",),
     check_awaiting_decision),
    ("budget_override", "Override the budget for this case", ("manager",), check_override_open),
)  # fmt: skip


def changes_open(db: Database, actor: Actor, reference: str) -> list[Change]:
    """The changes ``actor`` may record on the case now, in the order of :data:`CHANGES`."""
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        facts = read_facts(connection, reference, actor)  # NotFound, district check
        return [
            Change(name, label)
            for name, label, roles, check in CHANGES
            if actor.role_for(roles) is not None and _refusal(check, facts) is None
        ]


def change_refusal(db: Database, actor: Actor, reference: str, name: str) -> str | None:
    """Why the change ``name`` cannot be recorded on the case now, whoever records it, in the words its
    service would refuse it with (None: it can; the role is the service's to check)."""
    reference = normalise_reference(reference)
    check = next(check for known, _, _, check in CHANGES if known == name)
    with db.read_connection() as connection:
        return _refusal(check, read_facts(connection, reference, actor))  # NotFound, district check


def _refusal(check: Callable[[CaseFacts], object], facts: CaseFacts) -> str | None:
    try:
        check(facts)
    except DfgError as refused:
        return refused.message
    return None
