"""Decide and fire triggers: the one place the workflow's rules are applied.

One ``transitions.Machine`` is built per definition version and shared by every case; each firing runs
on a token carrying the case's saved state, so the machine never holds a model. The case's state column
in the database is the truth; the machine only decides. Before firing, :func:`check` explains in words
everything that stands in the way (unknown trigger, wrong state, role, district, hold, missing input,
failed guards), so ``dfg case actions`` and ``dfg case advance`` give the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from transitions import EventData, Machine

from dfg.errors import (
    ConfigurationError,
    DfgError,
    GuardFailed,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
)
from dfg.workflow.actor import Actor
from dfg.workflow.definition import PREVIOUS, STAY, Definition, Trigger
from dfg.workflow.facts import CaseFacts
from dfg.workflow.guards import GUARDS, GuardContext, TriggerInput

_machines: dict[str, Machine] = {}


class _Token:
    """What the machine moves: the case's state and nothing else (the database row stays the truth)."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _guard_condition(name: str) -> Any:
    def condition(event: EventData) -> bool:
        return GUARDS[name](event.kwargs["context"]) is None

    condition.__name__ = f"guard_{name}"
    return condition


def _restores(state: str) -> Any:
    def condition(event: EventData) -> bool:
        return bool(event.kwargs.get("restore_to") == state)

    return condition


def machine_for(definition: Definition) -> Machine:
    """The shared machine of one definition version, built on first use."""
    machine = _machines.get(definition.key)
    if machine is None:
        machine = Machine(
            model=None,
            states=list(definition.states),
            initial=None,  # forces add_model(initial=...) so a saved state is never overwritten
            auto_transitions=False,  # no to_<state>() back doors around the workflow
            send_event=True,
            model_attribute="state",
        )
        for trigger in definition.triggers.values():
            unknown = [g for g in trigger.guards if g not in GUARDS]
            if unknown:
                raise ConfigurationError(f"trigger '{trigger.name}': guard '{unknown[0]}' is not registered")
            conditions = [_guard_condition(g) for g in trigger.guards]
            for source in trigger.sources:
                if trigger.dest == PREVIOUS:
                    for state in definition.open_states:
                        machine.add_transition(
                            trigger.name, source, state, conditions=[*conditions, _restores(state)]
                        )
                else:
                    dest = None if trigger.dest == STAY else trigger.dest  # None: internal transition
                    machine.add_transition(trigger.name, source, dest, conditions=conditions)
        _machines[definition.key] = machine
    return machine


@dataclass(frozen=True)
class Obstacle:
    """One thing that stops a trigger, in words."""

    kind: str  # "state", "role", "district", "hold", "input", "guard"
    reason: str
    error: type[DfgError]

    def raise_(self, trigger: str) -> None:
        raise self.error(f"cannot {trigger}: {self.reason}")


def trigger_named(definition: Definition, name: str) -> Trigger:
    try:
        return definition.triggers[name]
    except KeyError:
        from difflib import get_close_matches

        known = ", ".join(definition.triggers)
        near = get_close_matches(name, definition.triggers, n=1)
        hint = f": did you mean '{near[0]}'?" if near else ""
        raise InvalidTransition(f"unknown trigger '{name}'{hint} (known: {known})") from None


def obstacles(
    definition: Definition,
    case: CaseFacts,
    actor: Actor,
    trigger: Trigger,
    given: TriggerInput | None,
    *,
    today: date,
) -> list[Obstacle]:
    """Everything that stops ``trigger`` on ``case`` for ``actor``; empty when it may fire.

    With ``given=None`` the input is not checked (``case actions`` asks before there is any input).
    """
    found: list[Obstacle] = []
    if case.state not in trigger.sources:
        state = definition.states[case.state].label if case.state in definition.states else case.state
        found.append(Obstacle("state", f"not possible while the case is '{state}'", InvalidTransition))
        return found  # nothing else is meaningful
    if actor.role_for(trigger.roles) is None:
        allowed = " or ".join(definition.roles.get(r, r) for r in trigger.roles)
        found.append(
            Obstacle("role", f"needs the role {allowed}; {actor.username} has not", PermissionDenied)
        )
    if not actor.may_act_in(case.district):
        found.append(
            Obstacle(
                "district",
                f"{actor.username} works for district {actor.district}, the case is in {case.district}",
                PermissionDenied,
            )
        )
    if trigger.hold == "start" and case.on_hold:
        found.append(Obstacle("hold", "the case is already on hold", GuardFailed))
    elif trigger.hold == "end" and not case.on_hold:
        found.append(Obstacle("hold", "the case is not on hold", GuardFailed))
    elif case.on_hold and not trigger.while_on_hold:
        found.append(Obstacle("hold", "the case is on hold: resume it first", GuardFailed))
    if given is not None:
        found.extend(_input_obstacles(definition, case, trigger, given, today))
    context = GuardContext(case, actor, given or TriggerInput(), today)
    for name in trigger.guards:
        reason = GUARDS[name](context)
        if reason is not None:
            found.append(Obstacle("guard", f"{name}: {reason}", GuardFailed))
    return found


def _input_obstacles(
    definition: Definition, case: CaseFacts, trigger: Trigger, given: TriggerInput, today: date
) -> list[Obstacle]:
    found: list[Obstacle] = []

    def bad(reason: str) -> None:
        found.append(Obstacle("input", reason, InvalidInput))

    if trigger.reason == "required" and not (given.reason and given.reason.strip()):
        bad("a --reason is required")
    if trigger.reason_codes:
        codes = definition.reason_codes.get(trigger.reason_codes, {})
        if given.code is None:
            bad(f"a --code is required (one of: {', '.join(codes)})")
        elif given.code not in codes:
            bad(f"unknown --code '{given.code}' (one of: {', '.join(codes)})")
    elif given.code is not None:
        bad("this trigger takes no --code")
    if trigger.review_date:
        if given.review_date is None:
            bad("a --review-date is required")
        elif given.review_date <= today:
            bad("the --review-date must be after today")
    elif given.review_date is not None:
        bad("this trigger takes no --review-date")
    if trigger.reply_by:
        if given.reply_by is None:
            bad("a --reply-by date is required (when the applicant should answer by)")
        elif given.reply_by <= today:
            bad("the --reply-by date must be after today")
    elif given.reply_by is not None:
        bad("this trigger takes no --reply-by")
    if given.on is not None:
        if given.on > today:
            bad(f"the date {given.on:%d/%m/%Y} is in the future")
        first = case.milestones.get("first_contact_date")
        latest = max((d for d in case.milestones.values() if d is not None), default=None)
        if first is not None and given.on < first:
            bad(f"the date {given.on:%d/%m/%Y} is before first contact ({first:%d/%m/%Y})")
        elif latest is not None and given.on < latest:
            # steps happen in order: no certifying before approving, no review backdated before the refusal
            bad(f"the date {given.on:%d/%m/%Y} is before the case's last recorded step ({latest:%d/%m/%Y})")
    return found


@dataclass(frozen=True)
class Outcome:
    """What firing a trigger changes on the case."""

    trigger: Trigger
    role: str
    source: str
    dest: str
    effective_date: date
    changes: dict[str, Any]


def fire(
    definition: Definition,
    case: CaseFacts,
    actor: Actor,
    trigger_name: str,
    given: TriggerInput,
    *,
    now: datetime,
    today: date,
    restore_to: str | None = None,
) -> Outcome:
    """Check and fire ``trigger_name`` on ``case``; return the changes for the store to write.

    Raises the first obstacle as its error. ``restore_to`` is the state a reopened case returns to.
    """
    trigger = trigger_named(definition, trigger_name)
    found = obstacles(definition, case, actor, trigger, given, today=today)
    if found:
        found[0].raise_(trigger.name)
    context = GuardContext(case, actor, given, today)
    # Fire the machine's Event on a token carrying the saved state, rather than add_model()/remove_model():
    # add_model binds an is_<state>() method per state on every call (measured ~12x the cost of the
    # trigger itself), and a machine that is never given a model can never leak one.
    token = _Token(case.state)
    fired = (
        machine_for(definition).events[trigger.name].trigger(token, context=context, restore_to=restore_to)
    )
    dest = token.state
    if not fired:
        if trigger.dest == PREVIOUS:
            raise InvalidTransition(f"cannot {trigger.name}: no open state to restore the case to")
        raise GuardFailed(f"cannot {trigger.name}: the workflow refused it")
    on = given.on or today
    changes: dict[str, Any] = {"state": dest}
    if trigger.records:
        changes[trigger.records] = on
    if trigger.amount:  # money is never typed in at this point: it is the calculation's (a guard checked it)
        changes[f"{trigger.amount}_pence"] = case.records["calculation"]["grant_pence"]
    if dest == case.state:
        pass  # a step within the state (a request, a payment, a decision after closure) moves no closure
    elif definition.states[dest].terminal:
        changes["closed_date"] = on
    elif definition.states[case.state].terminal:
        changes["closed_date"] = None  # reopened
    if trigger.hold == "start":
        changes.update(hold_since=now, hold_review_date=given.review_date)
    elif case.on_hold and (trigger.hold == "end" or definition.states[dest].terminal):
        changes.update(hold_since=None, hold_review_date=None)
    role = actor.role_for(trigger.roles)
    assert role is not None  # obstacles() checked it
    return Outcome(trigger, role, case.state, dest, on, changes)
