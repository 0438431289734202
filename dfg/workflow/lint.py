"""Lint a workflow definition: every name it uses must exist, and every state must lead somewhere.

Names are resolved only when a trigger fires (a typo in a guard would pass construction of the machine
and fail months later on one case), so every definition is linted at load in tests and by
``dfg workflow lint``.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from dfg.errors import ConfigurationError
from dfg.store.models import CASE_STATES, ROLES
from dfg.workflow.definition import ALL_CLOCKS, AMOUNTS, MILESTONES, NEEDS, PREVIOUS, STAY, Definition
from dfg.workflow.guards import GUARDS


def _letter_problems(definition: Definition, templates_dir: Path | None) -> list[str]:
    """Letters the triggers name that have no contract, or whose template does not show what the
    letter's contract requires (e.g. an approval notice without the grant's workings)."""
    from dfg.letters.contracts import CONTRACTS, LETTER_KINDS, check_template

    problems: list[str] = []
    used: dict[str, None] = {}
    for trigger in definition.triggers.values():
        for kind in trigger.letters:
            if kind not in LETTER_KINDS:
                problems.append(f"trigger '{trigger.name}': letter '{kind}' is not a letter kind")
            elif CONTRACTS[kind].reminder:
                problems.append(
                    f"trigger '{trigger.name}': letter '{kind}' is made by a reminder "
                    "(workflows/policy/reminders.toml), not by a step"
                )
            else:
                used[kind] = None
    for kind in used:
        problems.extend(
            f"letter template: {problem}" for problem in check_template(kind, templates_dir=templates_dir)
        )
    return problems


def lint(definition: Definition, *, templates_dir: Path | None = None) -> list[str]:
    """Every problem with ``definition``, one sentence each; empty when it is sound."""
    problems: list[str] = []
    states = definition.states
    if definition.initial not in states:
        problems.append(f"initial state '{definition.initial}' is not a state")
    for name in definition.roles:
        if name not in ROLES:
            problems.append(f"role '{name}' is not a role the engine knows ({', '.join(ROLES)})")
    for state in states.values():
        if state.name not in CASE_STATES:
            problems.append(f"state '{state.name}' is not allowed by the database (add it in a migration)")
        if state.owner is not None and state.owner not in definition.roles:
            problems.append(f"state '{state.name}': owner '{state.owner}' is not a role")
    starts = {c for t in definition.triggers.values() for c in t.clocks_start}
    for trigger in definition.triggers.values():
        at = f"trigger '{trigger.name}'"
        problems.extend(f"{at}: source '{s}' is not a state" for s in trigger.sources if s not in states)
        if not trigger.sources:
            problems.append(f"{at}: has no source state")
        if trigger.dest == PREVIOUS:
            if any(s in states and not states[s].terminal for s in trigger.sources):
                problems.append(f"{at}: '@previous' only makes sense from terminal states")
        elif trigger.dest != STAY and trigger.dest not in states:
            problems.append(f"{at}: destination '{trigger.dest}' is not a state")
        if not trigger.roles:
            problems.append(f"{at}: no role may fire it")
        problems.extend(f"{at}: role '{r}' is not a role" for r in trigger.roles if r not in definition.roles)
        problems.extend(
            f"{at}: guard '{g}' is not a registered guard" for g in trigger.guards if g not in GUARDS
        )
        for clock in (*trigger.clocks_start, *trigger.clocks_stop):
            if clock != ALL_CLOCKS and clock not in definition.clocks:
                problems.append(f"{at}: clock '{clock}' is not defined")
        problems.extend(
            f"{at}: stops clock '{c}' that no trigger starts"
            for c in trigger.clocks_stop
            if c in definition.clocks and c not in starts and definition.clocks[c].kind != "service"
        )
        if trigger.reason_codes and trigger.reason_codes not in definition.reason_codes:
            problems.append(f"{at}: reason code list '{trigger.reason_codes}' is not defined")
        if trigger.records and trigger.records not in MILESTONES:
            problems.append(f"{at}: records '{trigger.records}', which is not a milestone of a case")
        if trigger.needs and trigger.needs not in NEEDS:
            problems.append(
                f"{at}: needs '{trigger.needs}', which no service records (known: {', '.join(NEEDS)})"
            )
        if trigger.amount and trigger.amount not in AMOUNTS:
            problems.append(f"{at}: amount '{trigger.amount}' is not a money field of a case")
    holds = {t.hold for t in definition.triggers.values() if t.hold}
    if holds and holds != {"start", "end"}:
        problems.append("a trigger starts holds but none ends them (or the reverse)")
    problems.extend(_letter_problems(definition, templates_dir))
    problems.extend(_reachability(definition))
    return problems


def reminder_problems(
    *,
    directory: Path | None = None,
    templates_dir: Path | None = None,
    definition: Definition | None = None,
) -> list[str]:
    """Every problem with the reminder policies (the default file and each district's), one sentence
    each: a file that does not load, or a letter whose template does not show what its contract
    requires. Empty when they are sound; for ``dfg workflow lint``."""
    from dfg.letters.contracts import check_template
    from dfg.workflow import reminders  # read through the module: tests point it at their own folder

    folder = directory if directory is not None else reminders.reminders_dir()
    problems: list[str] = []
    letters: dict[str, None] = {}
    files = sorted(folder.glob(f"{reminders.STEM}-*.toml"))
    default = folder / f"{reminders.STEM}.toml"
    if default.is_file():
        files.insert(0, default)
    for path in files:
        try:
            policy = reminders.read_reminders(path, definition=definition)
        except ConfigurationError as exc:
            problems.append(str(exc))
            continue
        letters.update((r.letter, None) for r in policy.reminders)
    for kind in letters:
        problems.extend(
            f"letter template: {problem}" for problem in check_template(kind, templates_dir=templates_dir)
        )
    return problems


def _reachability(definition: Definition) -> list[str]:
    problems: list[str] = []
    if definition.initial not in definition.states:
        return problems
    seen = {definition.initial}
    queue = deque([definition.initial])
    while queue:
        reached = queue.popleft()
        for trigger in definition.triggers_from(reached):
            dest = trigger.destination(reached)
            if dest in definition.states and dest not in seen:
                seen.add(dest)
                queue.append(dest)
    for state in definition.states.values():
        if state.name not in seen:
            problems.append(f"state '{state.name}' cannot be reached from '{definition.initial}'")
        if state.terminal:
            continue
        onward = [
            t
            for t in definition.triggers_from(state.name)
            if not t.from_any_open_state and t.destination(state.name) != state.name
        ]
        if not onward:
            problems.append(
                f"state '{state.name}' is a dead end: only withdrawal, cancellation or holds leave it"
            )
    return problems
