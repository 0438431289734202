"""Workflow definitions: read ``workflows/*.toml`` into frozen objects, and find one by version.

The TOML format is documented at the top of ``workflows/dfg.toml`` and in ``docs/workflow-configuration.md``.
Structural mistakes (a missing key, a wrong type) fail here with :class:`ConfigurationError`; semantic
mistakes (an unknown guard, an unreachable state) are reported by :mod:`dfg.workflow.lint`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dfg.errors import ConfigurationError, NotFound
from dfg.paths import workflows_dir

OPEN = "@open"  # a source meaning every non-terminal state
STAY = "="  # a destination meaning the same state
PREVIOUS = "@previous"  # a destination meaning the state before the case was closed
ALL_CLOCKS = "@all"  # a clock name meaning every running clock

MILESTONES: tuple[str, ...] = (
    "first_contact_date",
    "assessment_date",
    "test_of_resources_date",
    "application_received_date",
    "valid_application_date",
    "approval_date",
    "refusal_date",
    "works_ordered_date",
    "works_started_date",
    "works_completed_date",
    "certified_date",
    "paid_date",
    "closed_date",
)
"""The case's milestone dates a trigger may record (each is a column of the case)."""

AMOUNTS: tuple[str, ...] = ("approved_grant",)
"""The case's money fields a trigger may record (each is a ``<name>_pence`` column of the case)."""

NEEDS: dict[str, str] = {
    "appointment": "dfg assess appoint",
    "visit_cancellation": "dfg assess cancel-visit",
    "assessment": "dfg assess record",
    "approval": "dfg grant approve; for a variation, dfg works vary",
    "payment": "dfg pay interim; after the certified date, dfg pay final",
    "land_charge": "dfg land-charge register",
    "repayment_decision": "dfg land-charge decide",
}
"""Records a trigger may need written in its own transaction, and the command that writes them."""


@dataclass(frozen=True)
class State:
    name: str
    label: str
    stage: int | None
    owner: str | None
    terminal: bool


@dataclass(frozen=True)
class Trigger:
    name: str
    label: str
    sources: tuple[str, ...]
    dest: str  # a state name, STAY or PREVIOUS
    roles: tuple[str, ...]
    guards: tuple[str, ...] = ()
    reason: str | None = None  # "required" | "optional" | None
    reason_codes: str | None = None
    records: str | None = None
    amount: str | None = None  # a money field of the case, set from the grant calculation in force
    needs: str | None = None  # a record that must be written with the step (e.g. "assessment")
    review_date: bool = False
    reply_by: bool = False  # the step asks the applicant for something by a date (--reply-by)
    hold: str | None = None  # "start" | "end" | None
    while_on_hold: bool = False
    clocks_start: tuple[str, ...] = ()
    clocks_stop: tuple[str, ...] = ()
    letters: tuple[str, ...] = ()
    from_any_open_state: bool = False  # its source was "@open": withdraw, cancel, hold and the like

    def destination(self, source: str) -> str:
        """The state this trigger leads to from ``source`` (``@previous`` is resolved by the engine)."""
        return source if self.dest == STAY else self.dest


@dataclass(frozen=True)
class Clock:
    name: str
    kind: str
    label: str
    rule: str


@dataclass(frozen=True)
class Definition:
    """One version of a workflow: states, triggers, clocks, roles and reason codes."""

    name: str
    version: int
    title: str
    initial: str
    roles: dict[str, str]
    states: dict[str, State]
    triggers: dict[str, Trigger]
    clocks: dict[str, Clock]
    reason_codes: dict[str, dict[str, str]]
    path: Path = field(compare=False)

    @property
    def key(self) -> str:
        """The version id recorded on every case and event, e.g. ``dfg@1``."""
        return f"{self.name}@{self.version}"

    @property
    def open_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states.values() if not s.terminal)

    def triggers_from(self, state: str) -> list[Trigger]:
        """Triggers that may fire from ``state``, in definition order."""
        return [t for t in self.triggers.values() if state in t.sources]


def _require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise ConfigurationError(f"{where}: missing '{key}'")
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigurationError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _optional(table: dict[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    return _require(table, key, kind, where) if key in table else default


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _optional(table, key, list, where, [])
    if not all(isinstance(v, str) for v in values):
        raise ConfigurationError(f"{where}.{key}: expected a list of names")
    return tuple(values)


_TRIGGER_KEYS = {
    "name", "label", "source", "dest", "roles", "guards", "reason", "reason_codes", "records", "amount", "needs",
    "review_date", "reply_by", "hold", "while_on_hold", "clocks", "letters",
}  # fmt: skip


def _trigger(raw: dict[str, Any], index: int, open_states: tuple[str, ...]) -> Trigger:
    where = f"triggers[{index}]"
    name = _require(raw, "name", str, where)
    where = f"trigger '{name}'"
    unknown = set(raw) - _TRIGGER_KEYS
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    sources: list[str] = []
    for source in _strings(raw, "source", where):
        sources.extend(open_states if source == OPEN else [source])
    clocks = _optional(raw, "clocks", dict, where, {})
    if set(clocks) - {"start", "stop"}:
        raise ConfigurationError(f"{where}.clocks: only 'start' and 'stop' are allowed")
    reason = _optional(raw, "reason", str, where, None)
    if reason not in (None, "required", "optional"):
        raise ConfigurationError(f"{where}.reason: expected 'required' or 'optional', got {reason!r}")
    hold = _optional(raw, "hold", str, where, None)
    if hold not in (None, "start", "end"):
        raise ConfigurationError(f"{where}.hold: expected 'start' or 'end', got {hold!r}")
    return Trigger(
        name=name,
        label=_require(raw, "label", str, where),
        sources=tuple(dict.fromkeys(sources)),
        dest=_require(raw, "dest", str, where),
        roles=_strings(raw, "roles", where),
        guards=_strings(raw, "guards", where),
        reason=reason,
        reason_codes=_optional(raw, "reason_codes", str, where, None),
        records=_optional(raw, "records", str, where, None),
        amount=_optional(raw, "amount", str, where, None),
        needs=_optional(raw, "needs", str, where, None),
        review_date=_optional(raw, "review_date", bool, where, False),
        reply_by=_optional(raw, "reply_by", bool, where, False),
        hold=hold,
        while_on_hold=_optional(raw, "while_on_hold", bool, where, False),
        clocks_start=_strings(clocks, "start", f"{where}.clocks"),
        clocks_stop=_strings(clocks, "stop", f"{where}.clocks"),
        letters=_strings(raw, "letters", where),
        from_any_open_state=OPEN in _strings(raw, "source", where),
    )


def parse_definition(data: dict[str, Any], path: Path) -> Definition:
    """Build a :class:`Definition` from parsed TOML, checking its structure."""
    where = path.name
    head = _require(data, "workflow", dict, where)
    states: dict[str, State] = {}
    for name, raw in _require(data, "states", dict, where).items():
        at = f"{where}: state '{name}'"
        terminal = _optional(raw, "terminal", bool, at, False)
        stage = _optional(raw, "stage", int, at, None)
        if not terminal and stage not in range(5):
            raise ConfigurationError(f"{at}: a non-terminal state needs a stage from 0 to 4")
        states[name] = State(
            name=name,
            label=_require(raw, "label", str, at),
            stage=stage,
            owner=_optional(raw, "owner", str, at, None),
            terminal=terminal,
        )
    open_states = tuple(s.name for s in states.values() if not s.terminal)
    triggers: dict[str, Trigger] = {}
    for index, raw in enumerate(_require(data, "triggers", list, where)):
        trigger = _trigger(raw, index, open_states)
        if trigger.name in triggers:
            raise ConfigurationError(f"{where}: trigger '{trigger.name}' is defined twice")
        triggers[trigger.name] = trigger
    clocks = {
        name: Clock(
            name=name,
            kind=_require(raw, "kind", str, f"{where}: clock '{name}'"),
            label=_require(raw, "label", str, f"{where}: clock '{name}'"),
            rule=_require(raw, "rule", str, f"{where}: clock '{name}'"),
        )
        for name, raw in _optional(data, "clocks", dict, where, {}).items()
    }
    return Definition(
        name=_require(head, "name", str, f"{where}: [workflow]"),
        version=_require(head, "version", int, f"{where}: [workflow]"),
        title=_require(head, "title", str, f"{where}: [workflow]"),
        initial=_require(head, "initial", str, f"{where}: [workflow]"),
        roles=dict(_require(data, "roles", dict, where)),
        states=states,
        triggers=triggers,
        clocks=clocks,
        reason_codes={k: dict(v) for k, v in _optional(data, "reason_codes", dict, where, {}).items()},
        path=path,
    )


def load_definition(path: Path) -> Definition:
    """Read and parse one definition file."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path.name}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path.name}: not UTF-8 text") from None
    except RecursionError:  # the parser recurses once per nested array or table
        raise ConfigurationError(f"{path.name}: nested too deeply") from None
    return parse_definition(data, path)


@cache
def _all_definitions(folder: Path) -> dict[str, Definition]:
    found: dict[str, Definition] = {}
    for path in sorted([*folder.glob("*.toml"), *folder.glob("archive/*.toml")]):
        with path.open("rb") as handle:
            if "workflow" not in tomllib.load(handle):
                continue  # rate tables and policy files live beside definitions
        definition = load_definition(path)
        if definition.key in found:
            raise ConfigurationError(
                f"{path.name}: version {definition.key} is also in {found[definition.key].path.name}"
            )
        found[definition.key] = definition
    return found


def all_definitions() -> dict[str, Definition]:
    """Every workflow definition under ``workflows/`` (including ``archive/``), by version key."""
    return _all_definitions(workflows_dir())


def current_definition(name: str = "dfg") -> Definition:
    """The newest version of the named workflow: the one new cases are opened under."""
    versions = [d for d in all_definitions().values() if d.name == name]
    if not versions:
        raise ConfigurationError(f"no workflow definition named '{name}' in {workflows_dir().name}/")
    return max(versions, key=lambda d: d.version)


def definition_for(key: str) -> Definition:
    """The definition a case runs under, by its recorded version key (``dfg@1``)."""
    try:
        return all_definitions()[key]
    except KeyError:
        raise NotFound(
            f"workflow version {key} is not installed (keep old definitions in workflows/archive/)"
        ) from None


@cache
def stage_of_states() -> Mapping[str, int]:
    """Each open state's stage, from every installed workflow version (the current one wins a clash)."""
    stages: dict[str, int] = {}
    for definition in [*all_definitions().values(), current_definition()]:
        stages.update((s.name, s.stage) for s in definition.states.values() if s.stage is not None)
    return stages
