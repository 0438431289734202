"""Local policy for reminder letters: which letter the daily tick queues, and how long before a clock's due date.

Read from ``workflows/policy/reminders.toml``; a district may replace it whole with its own
``reminders-<CODE>.toml`` (nothing is merged, as for the other policy files in :mod:`dfg.rules.policy`).
Each ``[[reminder]]`` names:

- ``clock``: a clock of the workflow (``[clocks]`` in ``workflows/dfg.toml``), such as ``completion_due``;
- ``days_before``: queue the letter once the clock is running and its due date is this many calendar days
  away or fewer (0: on the due date itself, the last day before the clock is breached);
- ``letter``: the kind of letter, one made for reminders (its contract says so: ``completion_reminder``);
- ``states``: optional, the case states it applies in (by default every open state);
- ``from``: the date the reminder took effect; ``note``: why, as the council would explain it;
  ``confirm``: true while the value is local policy still to be confirmed.

Files are validated at load: an unknown key, clock, letter kind or state raises
:class:`ConfigurationError` naming the file and the key, so the daily tick refuses a bad policy before
it records anything. The policy lives in the workflow because it names the workflow's clocks and states
and its letter kinds; :func:`dfg.workflow.lint.reminder_problems` checks every reminder file in the
folder, and the templates of the letters they name, for ``dfg workflow lint``.

No reminder goes out while a case is on hold: a hold says the case waits on something outside the
works (the applicant in hospital, a decision elsewhere), so a letter pressing for them would be wrong.
Once the case is resumed, the nearest threshold still met is sent on the next tick.

A clock with several reminders sends the nearest one whose threshold is met: 30 and 7 days before, a
tick first run 5 days before the due date queues only the 7-day letter. The tick records each reminder
once for each due date (see :func:`dfg.services.worklist.tick`), so a due date moved by an extension gets
its reminders again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dfg.errors import ConfigurationError
from dfg.letters.contracts import CONTRACTS, LETTER_KINDS
from dfg.paths import workflows_dir
from dfg.rules.policy import district_file
from dfg.rules.rates import TomlSection, read_toml
from dfg.workflow.definition import Definition, current_definition

#: The kind of event the daily tick records on a case for a reminder; its payload names the letters.
REMINDER_EVENT = "reminder"

#: The file's name without ``.toml``; a district's own is ``reminders-<CODE>.toml``.
STEM = "reminders"

#: Ceiling for ``days_before``: catches a slip of the keyboard (ten years covers the longest clock).
_LONGEST = 3660

_KEYS = ("clock", "days_before", "letter", "states", "from", "note", "confirm")


@dataclass(frozen=True)
class Reminder:
    """One reminder of the policy: queue ``letter`` when ``clock`` is due within ``days_before`` days."""

    clock: str
    days_before: int
    letter: str
    effective_from: date
    note: str
    #: The case states it applies in; empty: every open state.
    states: frozenset[str] = frozenset()
    confirm: bool = False

    def applies(self, state: str, today: date) -> bool:
        """Whether the reminder is in force on ``today`` for a case in ``state``."""
        return self.effective_from <= today and (not self.states or state in self.states)


@dataclass(frozen=True)
class ReminderPolicy:
    """The reminders in force for a district (or the default policy)."""

    source_file: str
    district: str | None
    reminders: tuple[Reminder, ...]

    @property
    def clocks(self) -> frozenset[str]:
        """The clocks some reminder watches."""
        return frozenset(r.clock for r in self.reminders)

    def due(
        self, clock: str, days_left: int, state: str, today: date, *, on_hold: bool = False
    ) -> tuple[int, tuple[str, ...]] | None:
        """The reminder a running ``clock`` calls for ``days_left`` days before its due date, for a case in
        ``state`` on ``today``: its threshold (``days_before``) and its letters; None if none is met, or if
        the case is ``on_hold`` (no reminder goes out during a hold).

        Of the thresholds met, the nearest to the due date wins, so a tick that missed the 30-day reminder
        does not send it late beside the 7-day one. Reminders with the same clock and threshold share it.
        """
        if on_hold:
            return None
        met = [
            r
            for r in self.reminders
            if r.clock == clock and 0 <= days_left <= r.days_before and r.applies(state, today)
        ]
        if not met:
            return None
        threshold = min(r.days_before for r in met)
        return threshold, tuple(r.letter for r in met if r.days_before == threshold)


def reminders_dir() -> Path:
    """Where the reminder policies live: ``workflows/policy/``."""
    return workflows_dir() / "policy"


def _read_reminder(row: TomlSection, definition: Definition, reminder_letters: frozenset[str]) -> Reminder:
    row.only(_KEYS)
    clock = row.text("clock")
    if clock not in definition.clocks:
        known = ", ".join(sorted(definition.clocks))
        raise row.error(
            "clock", f"unknown clock {clock!r} (known, from [clocks] of {definition.key}: {known})"
        )
    letter = row.text("letter")
    if letter not in LETTER_KINDS:
        raise row.error("letter", f"unknown letter kind {letter!r} (known: {', '.join(LETTER_KINDS)})")
    if letter not in reminder_letters:
        raise row.error(
            "letter",
            f"{letter!r} is made by a step of the workflow, not by a reminder "
            f"(reminder letters: {', '.join(sorted(reminder_letters)) or 'none'})",
        )
    open_states = [s.name for s in definition.states.values() if not s.terminal]
    states = frozenset(row.codes("states", open_states, "open state")) if "states" in row.data else None
    if states is not None and not states:
        raise row.error("states", "give at least one state, or leave the key out for every open state")
    effective_from = row.day("from")
    assert effective_from is not None  # day() without optional=True raises rather than return None
    return Reminder(
        clock=clock,
        days_before=row.integer("days_before", low=0, high=_LONGEST),
        letter=letter,
        effective_from=effective_from,
        note=row.text("note"),
        states=states or frozenset(),
        confirm=row.boolean("confirm") if "confirm" in row.data else False,
    )


def read_reminders(
    path: Path, district: str | None = None, *, definition: Definition | None = None
) -> ReminderPolicy:
    """Read and validate one reminders file (clocks and states checked against ``definition``, by default
    the current ``dfg`` workflow)."""
    definition = definition or current_definition()
    reminder_letters = frozenset(kind for kind, contract in CONTRACTS.items() if contract.reminder)
    top = TomlSection(read_toml(path), path.name)
    top.only(("reminder",))
    rows = top.sections("reminder") if "reminder" in top.data else []
    reminders = tuple(_read_reminder(row, definition, reminder_letters) for row in rows)
    seen: set[tuple[str, int, str]] = set()
    for index, r in enumerate(reminders):
        key = (r.clock, r.days_before, r.letter)
        if key in seen:
            raise ConfigurationError(
                f"{path.name}: reminder[{index}]: {r.letter} {r.days_before} day(s) before {r.clock} "
                "is given twice"
            )
        seen.add(key)
    return ReminderPolicy(source_file=path.name, district=district, reminders=reminders)


def load_reminders(
    district: str | None = None, *, directory: Path | None = None, definition: Definition | None = None
) -> ReminderPolicy:
    """The reminders for ``district``: its ``reminders-<CODE>.toml`` if it has one, else the default."""
    folder = directory if directory is not None else reminders_dir()
    path = district_file(folder, STEM, district)
    own = path.stem != STEM
    return read_reminders(path, district.strip().upper() if own and district else None, definition=definition)
