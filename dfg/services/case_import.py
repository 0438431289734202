"""Opening many cases at once from a spreadsheet (CSV or .xlsx), one row per case: new referrals, or open
cases brought in from another system at the state they stand in there.

Every row is checked first, through the checks opening one case makes (:func:`opening_problems`), and
against the rows above it (the same applicant or home twice). If any row is wrong nothing is opened and
every problem is reported, by the row number the spreadsheet shows and the column's name as the file
writes it. Otherwise every case is opened in one transaction, all or none, as ``dfg case new`` opens one;
a row with a state past the referral is then moved to it by one ``migrated`` event with the dates the
other system kept (:class:`~dfg.services.case_opening.Migration`).

Another system's spreadsheet is read through a **column mapping** (:func:`read_mapping`, a TOML file):
its headers for the import's columns, its values for the import's (a status for a state), and the
columns to pass over.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from itertools import pairwise
from pathlib import Path

from dfg.errors import DfgError, InvalidInput
from dfg.presentation import unneutralised
from dfg.rules.clock import local_day, utcnow
from dfg.rules.dates import parse_date
from dfg.rules.files import SheetValue, read_sheet, read_text
from dfg.rules.nhs_number import parse_nhs_number
from dfg.services.case_opening import (
    Migration,
    NewCase,
    NewPerson,
    PostalAddress,
    SameCases,
    open_cases,
    openings_problems,
)
from dfg.services.people import split_name
from dfg.services.progress import Progress, unwatched
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.definition import Definition, current_definition, definition_for
from dfg.workflow.roles import require_role

#: The columns read, by their name written in lower case with underscores ("First contact" is
#: first_contact), each with the other names it may go by.
COLUMNS: dict[str, tuple[str, ...]] = {
    "district": (),
    "priority": (),
    "priority_reason": (),
    "tenure": (),
    "first_contact": ("first_contact_date",),
    "address": ("address_line_1", "address_1"),
    "address2": ("address_line_2", "address_2"),
    "town": (),
    "postcode": (),
    "uprn": (),
    "applicant": (),
    "title": (),
    "given_name": ("given_names", "first_name"),
    "family_name": ("surname", "last_name"),
    "date_of_birth": ("dob",),
    "nhs_number": (),
    "phone": ("telephone",),
    "email": ("e_mail",),
    "source": ("referral_source",),
    "large_print": (),
    "contact": ("preferred_contact",),
    "advocate": (),
    "format_note": (),
    "occupant": (),
    "occupant_date_of_birth": ("occupant_dob",),
    "relationship": (),
    "postal_address": ("postal_address_line_1",),
    "postal_address2": ("postal_address_line_2",),
    "postal_town": (),
    "postal_postcode": (),
    "duplicate": (),
    "state": ("status",),
    "legacy_reference": ("old_reference", "their_reference"),
    "referral_accepted": (),
    "assessment_date": (),
    "test_of_resources_date": (),
    "application_received_date": (),
    "valid_application_date": (),
}
#: The longest reference from another system kept (the column's width).
LEGACY_REFERENCE_LENGTH = 40

#: The states a case may be brought in at, in the order of the main path: those before the decision. A
#: decided case carries records a row cannot give (the approval, the budget's commitment, payments).
MIGRATABLE = (
    "referral",
    "awaiting_assessment",
    "test_of_resources",
    "scheme_design",
    "application_incomplete",
    "application_valid",
)
#: Columns 'dfg case list --csv' writes that say nothing about a case to be opened: passed over.
PASSED_OVER = ("reference", "stage", "on_hold", "assigned_to", "approved_grant")
REQUIRED = ("district", "tenure", "address", "town", "postcode")

_NAMES = {alias: name for name, aliases in COLUMNS.items() for alias in (name, *aliases)}
#: Which column a problem :func:`opening_problems` finds is about, by the input it names.
_INPUT_COLUMNS = {
    "priority": "priority",
    "priority_reason": "priority_reason",
    "tenure": "tenure",
    "first_contact_date": "first_contact",
    "address_line_1": "address",
    "town": "town",
    "postcode": "postcode",
    "district": "district",
    "allow_duplicate": "duplicate",
    "applicant.date_of_birth": "date_of_birth",
    "occupant.date_of_birth": "occupant_date_of_birth",
    "applicant.postal_address": "postal_address",
    "address_line_2": "address2",
    "uprn": "uprn",
    "referral_source": "source",
    "applicant.title": "title",
    "applicant.given_name": "applicant",  # the name whole, or its parts: one problem for both
    "applicant.family_name": "applicant",
    "applicant.phone": "phone",
    "applicant.email": "email",
    "applicant.preferred_contact": "contact",
    "applicant.advocate": "advocate",
    "applicant.format_note": "format_note",
    "occupant.given_name": "occupant",
    "occupant.family_name": "occupant",
    "occupant.relationship_to_applicant": "relationship",
}
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0"}


@dataclass(frozen=True)
class ColumnMapping:
    """How another system's spreadsheet is read: which of its columns is which of the import's, the
    values it writes for the import's (``"With OT" = "awaiting_assessment"``), and its columns to pass
    over. Headers and values are matched whatever their case and spacing."""

    #: Their header (as :func:`column_key` makes it) to the import's column.
    columns: Mapping[str, str] = field(default_factory=dict)
    #: The import's column to {their value, in lower case: the import's value}.
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Their headers (as :func:`column_key` makes them) to pass over.
    ignore: frozenset[str] = frozenset()


#: No mapping: the spreadsheet names the import's own columns.
OWN_COLUMNS = ColumnMapping()


def read_mapping(path: Path) -> ColumnMapping:
    """The column mapping in a TOML file, every mistake in it said at once (:class:`InvalidInput`)::

    [columns]             # the import's column = their header
    applicant = "Client name"
    state = "Status"
    [values.state]        # their value = the import's
    "With OT" = "awaiting_assessment"
    [ignore]
    columns = ["Notes", "Officer"]
    """
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path.name}: not a TOML file: {exc}") from None
    problems = [f"[{k}] is not a part of a mapping (columns, values, ignore)" for k in data
                if k not in ("columns", "values", "ignore")]  # fmt: skip
    columns: dict[str, str] = {}
    for ours, theirs in _table(data, "columns", problems).items():
        if ours not in COLUMNS:
            problems.append(
                f"[columns] '{ours}' is not a column the import reads (see 'dfg import cases --help')"
            )
        elif not isinstance(theirs, str) or not column_key(theirs):
            problems.append(f"[columns] {ours}: give their column's header as text")
        elif column_key(theirs) in columns:
            problems.append(
                f"[columns] '{theirs}' is given for both {columns[column_key(theirs)]} and {ours}"
            )
        else:
            columns[column_key(theirs)] = ours
    values: dict[str, dict[str, str]] = {}
    for ours, table in _table(data, "values", problems).items():
        if ours not in COLUMNS:
            problems.append(f"[values.{ours}] '{ours}' is not a column the import reads")
        elif not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            problems.append(f"[values.{ours}] give each of their values with the import's, as text")
        else:
            values[ours] = {_value_key(theirs): value for theirs, value in table.items()}
    ignored = _table(data, "ignore", problems).get("columns", [])
    if not isinstance(ignored, list) or not all(isinstance(c, str) for c in ignored):
        problems.append("[ignore] columns: give a list of their headers")
        ignored = []
    if problems:
        raise InvalidInput("; ".join(f"{path.name}: {p}" for p in problems))
    return ColumnMapping(columns=columns, values=values, ignore=frozenset(column_key(c) for c in ignored))


def _table(data: Mapping[str, object], name: str, problems: list[str]) -> dict[str, object]:
    table = data.get(name, {})
    if isinstance(table, dict):
        return table
    problems.append(f"[{name}] must be a table")
    return {}


def _value_key(value: str) -> str:
    return " ".join(value.split()).lower()


@dataclass
class CaseImport:
    """What an import found and did: the rows read, every problem, and the references opened."""

    rows: int
    problems: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)


def column_key(header: str) -> str:
    """A column's name as the import reads it: 'First contact' and 'first-contact' are first_contact."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


class _Row:
    """One row's cells by column, and its problems, each said with the column's name as the file has it."""

    def __init__(
        self,
        number: int,
        cells: dict[str, SheetValue],
        headers: dict[str, str],
        values: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.number, self.cells, self.headers, self.values = number, cells, headers, values
        self.problems: list[str] = []
        self.wrong: set[str | None] = set()

    def problem(self, column: str | None, message: str) -> None:
        if column is not None and column in self.wrong:
            return  # one problem a column: a cell that could not be read is not also said to be missing
        self.wrong.add(column)
        where = f"row {self.number}" + (f", column {self.headers.get(column, column)}" if column else "")
        self.problems.append(f"{where}: {message}")

    def text(self, column: str) -> str | None:
        value = self.cells.get(column)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a number typed into a workbook (a UPRN, a phone) as it was typed
        if isinstance(value, date):
            value = value.isoformat()
        text = unneutralised(str(value).strip())
        if column in self.values:  # another system's word for one of the import's values
            text = self.values[column].get(_value_key(text), text)
        return text or None

    def day(self, column: str) -> date | None:
        value = self.cells.get(column)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = self.text(column)
        if text is None:
            return None
        try:
            return parse_date(text, field=column)
        except InvalidInput:
            self.problem(column, f"'{text}' is not a date (use 2026-03-31 or 31/03/2026)")
            return None

    def flag(self, column: str) -> bool:
        text = (self.text(column) or "no").lower()
        if text not in _YES | _NO:
            self.problem(column, f"'{text}' is not yes or no")
        return text in _YES


def read_case_rows(path: Path) -> list[list[SheetValue]]:
    """The spreadsheet's rows, its header first; a file with no row under its header is refused."""
    rows = read_sheet(path)
    if not rows or not any(_filled(v) for v in rows[0]):
        raise InvalidInput(f"{path.name}: the first row must name the columns (district, tenure, ...)")
    if not any(any(_filled(v) for v in row) for row in rows[1:]):
        raise InvalidInput(f"{path.name}: no cases to open under the first row")
    return rows


def _filled(value: SheetValue) -> bool:
    return value is not None and str(value).strip() != ""


def _header_problems(
    headers: list[SheetValue], mapping: ColumnMapping
) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """Which column each position holds, each column's name as written, and what is wrong with the header."""
    at: dict[int, str] = {}
    written: dict[str, str] = {}
    problems: list[str] = []
    for position, header in enumerate(headers):
        if not _filled(header):
            continue
        key = column_key(str(header))
        if key in mapping.ignore:
            continue
        name = mapping.columns.get(key) or _NAMES.get(key)
        if name is None:
            if key not in PASSED_OVER:
                where = "the mapping" if mapping.columns else "'dfg import cases --help'"
                problems.append(f"row 1: column '{header}' is not one the import reads (see {where})")
            continue
        if name in written:
            problems.append(f"row 1: columns '{written[name]}' and '{header}' are the same column")
            continue
        at[position], written[name] = name, str(header).strip()
    missing = [c for c in REQUIRED if c not in written]
    if "applicant" not in written and not {"given_name", "family_name"} <= written.keys():
        missing.append("applicant (or given_name and family_name)")
    if missing:
        problems.append(f"row 1: no column {', '.join(missing)}")
    return at, written, problems


def _new_case(row: _Row, today: date, unassigned: bool) -> NewCase:
    """The case a row describes, a cell that could not be read left blank (and said on the row)."""
    title, given, family = row.text("title"), row.text("given_name"), row.text("family_name")
    if not (given or family) and (whole := row.text("applicant")):
        split = split_name(whole, titled=True)
        if split is None:
            row.problem("applicant", f"'{whole}': give a given name and a family name, e.g. 'Margaret Holt'")
        else:
            title = title or split[0]
            given, family = split[1], split[2]
    elif not (given and family):
        for column, value in (("given_name", given), ("family_name", family)):
            if not value:
                row.problem(
                    column if column in row.headers else "applicant", "the applicant's name is required"
                )
    nhs_number = row.text("nhs_number")
    if nhs_number:
        try:
            nhs_number = parse_nhs_number(nhs_number, field="nhs_number")
        except InvalidInput as error:
            row.problem("nhs_number", error.message.removeprefix("nhs_number: "))
    postal_parts = [
        row.text(c) for c in ("postal_address", "postal_address2", "postal_town", "postal_postcode")
    ]
    postal = None
    if any(postal_parts):
        line_1, line_2, town, code = postal_parts
        if line_1 and town and code:
            postal = PostalAddress(line_1=line_1, line_2=line_2, town=town, postcode=code)
        else:
            row.problem("postal_address", "a postal address needs its first line, town and postcode")
    occupant_name = row.text("occupant")
    occupant = split_name(occupant_name) if occupant_name else None
    if occupant_name and occupant is None:
        row.problem("occupant", f"'{occupant_name}': give a given name and a family name")
    applicant = NewPerson(
        given_name=given or "",
        family_name=family or "",
        title=title,
        date_of_birth=row.day("date_of_birth"),
        is_applicant=True,
        is_disabled_occupant=not occupant_name,
        nhs_number=nhs_number,
        phone=row.text("phone"),
        email=row.text("email"),
        communication_needs="large_print" if row.flag("large_print") else None,
        preferred_contact=(row.text("contact") or "").lower().replace("e-mail", "email") or None,
        advocate=row.text("advocate"),
        format_note=row.text("format_note"),
        postal_address=postal,
    )
    people = [applicant]
    if occupant is not None:
        people.append(
            NewPerson(
                given_name=occupant[1],
                family_name=occupant[2],
                date_of_birth=row.day("occupant_date_of_birth"),
                is_disabled_occupant=True,
                relationship_to_applicant=row.text("relationship"),
            )
        )
    new = NewCase(
        district=(row.text("district") or "").upper(),
        priority=re.sub(r"[\s-]+", "_", (row.text("priority") or "non_urgent").lower()),
        priority_reason=row.text("priority_reason"),
        tenure=(row.text("tenure") or "").lower(),
        first_contact_date=row.day("first_contact") or today,
        address_line_1=row.text("address") or "",
        address_line_2=row.text("address2"),
        town=row.text("town") or "",
        postcode=row.text("postcode") or "",
        uprn=row.text("uprn"),
        referral_source=row.text("source"),
        people=tuple(people),
        allow_duplicate=row.flag("duplicate"),
        unassigned=unassigned,
    )
    if not new.district:
        row.problem("district", "the district is required")
    if not new.tenure:
        row.problem("tenure", "the tenure is required (owner, tenant, occupier or landlord)")
    return replace(new, migration=_migration(row, new, today))


def _migration(row: _Row, new: NewCase, today: date) -> Migration | None:
    """Where the row's case stands in the system it comes from, if past the referral: its state, and
    every date the main path records on the way there, each after the one before and none in the future."""
    definition = current_definition()
    written = row.text("state")
    legacy_reference = row.text("legacy_reference")
    if legacy_reference and len(legacy_reference) > LEGACY_REFERENCE_LENGTH:
        row.problem("legacy_reference", f"longer than {LEGACY_REFERENCE_LENGTH} characters")
        legacy_reference = None
    state = _state(definition, written) if written is not None else "referral"
    if state is None:
        row.problem(
            "state",
            f"'{written}' is not a state a case may be brought in at: {_migratable_states(definition)}",
        )
        return None
    on_path = MIGRATABLE[: MIGRATABLE.index(state) + 1]
    steps = _path_steps(definition.key)
    dates: dict[str, date] = {}
    entries: dict[int, date] = {}
    before, before_column = new.first_contact_date, "first_contact"
    for into in on_path[1:]:
        milestone = steps[into]
        column = milestone or "referral_accepted"
        day = row.day(column)
        if day is None and milestone is not None and column not in row.wrong:
            row.problem(
                column if column in row.headers else "state",
                f"a case at '{definition.states[state].label}' needs its {column.replace('_', ' ')}",
            )
        if day is None and milestone is None:  # an acceptance the other system did not keep
            entries.setdefault(definition.states[into].stage or 0, before)  # stage 1 from first contact
            continue
        if day is None:
            continue
        if day > today:
            row.problem(column, f"{day:%d/%m/%Y} is in the future")
        elif day < before:
            row.problem(
                column, f"{day:%d/%m/%Y} is before the {before_column.replace('_', ' ')} ({before:%d/%m/%Y})"
            )
        if milestone is not None:
            dates[milestone] = day
        entries.setdefault(definition.states[into].stage or 0, day)
        before, before_column = day, column
    for later in steps.values():  # a date for a step the case has not reached is a mistake in the row
        if later and later not in dates and row.text(later) and later not in row.wrong:
            row.problem(
                later, f"the case is {state.replace('_', ' ')}: it has no {later.replace('_', ' ')} yet"
            )
    if state == "referral":
        if legacy_reference:
            return Migration(state, {}, {}, legacy_reference, row=row.number)
        return None
    return Migration(state, dates, entries, legacy_reference, row=row.number)


def _state(definition: Definition, written: str) -> str | None:
    """The state a row names by its code or its label (``awaiting_assessment``, 'Awaiting OT assessment')."""
    key = re.sub(r"[\s-]+", "_", written.strip().lower())
    for name in MIGRATABLE:
        if key == name or _value_key(written) == definition.states[name].label.lower():
            return name
    return None


def _migratable_states(definition: Definition) -> str:
    return ", ".join(f"{name} ({definition.states[name].label})" for name in MIGRATABLE) + (
        "; a decided case's approval, commitment and payments are records a row cannot carry"
    )


@cache
def _path_steps(key: str) -> dict[str, str | None]:
    """For each state after the first a case may be brought in at, the milestone the step into it records
    (worked out once for each workflow version, not for each row)."""
    definition = definition_for(key)
    steps: dict[str, str | None] = {}
    for before, after in pairwise(MIGRATABLE):
        step = next(t for t in definition.triggers.values() if before in t.sources and t.dest == after)
        steps[after] = step.records
    return steps


def import_cases(
    db: Database,
    actor: Actor,
    rows: list[list[SheetValue]],
    *,
    mapping: ColumnMapping = OWN_COLUMNS,
    source: str = "a spreadsheet",
    dry_run: bool = False,
    unassigned: bool = False,
    progress: Progress = unwatched,
    now: datetime | None = None,
) -> CaseImport:
    """Check every row of a spreadsheet of cases (its header first, read through ``mapping``), then, if
    none is wrong and this is not a dry run, open them all in one transaction, in the order of the rows;
    ``source`` (the file's name) is kept on each case brought in from another system."""
    require_role(actor, "grant_officer")
    today = local_day(now or utcnow())
    at, written, problems = _header_problems(rows[0], mapping)
    if "reference" in {column_key(str(h)) for h in rows[0] if _filled(h)} and not mapping.columns:
        # a list 'dfg case list --csv' wrote (with the cases' own references) is read back as new referrals
        at = {p: name for p, name in at.items() if name != "state"}
        written.pop("state", None)
    report = CaseImport(rows=sum(1 for r in rows[1:] if any(_filled(v) for v in r)), problems=problems)
    if problems:
        return report
    read: list[tuple[_Row, NewCase]] = []
    for number, cells in enumerate(rows[1:], start=2):  # numbered as the spreadsheet shows them
        if not any(_filled(v) for v in cells):
            continue
        row = _Row(
            number, {name: cells[p] for p, name in at.items() if p < len(cells)}, written, mapping.values
        )
        if len(cells) > len(rows[0]) and any(_filled(v) for v in cells[len(rows[0]) :]):
            row.problem(None, "it has more values than the first row has columns")
        read.append((row, _new_case(row, today, unassigned)))
    # a row already wrong is still checked for everything else; for an open case of the same applicant
    # only once its cells are right (a blank name matches nothing worth saying)
    asked = [replace(new, allow_duplicate=new.allow_duplicate or bool(row.problems)) for row, new in read]
    checked: list[NewCase] = []
    earlier = SameCases()  # the rows above
    legacy: dict[str, int] = {}
    for (row, new), found in zip(read, openings_problems(db, actor, asked, now=now), strict=True):
        for input_name, message in found:
            row.problem(_INPUT_COLUMNS.get(input_name), message)
        if not row.problems and not new.allow_duplicate and (same := earlier.same_as(new)):
            row.problem(
                None,
                f"the same {same[0]} as row {same[1]}: put yes in its duplicate column if it is a separate need",
            )
        if not row.problems:
            earlier.add(new, row.number)  # a row marked as a duplicate is still one for the rows below
        if new.migration is not None and (old := new.migration.legacy_reference):
            if old.casefold() in legacy:
                row.problem(
                    "legacy_reference", f"'{old}' is also the old reference of row {legacy[old.casefold()]}"
                )
            legacy.setdefault(old.casefold(), row.number)
        report.problems.extend(row.problems)
        if new.migration is not None:
            new = replace(new, migration=replace(new.migration, file_name=source))
        checked.append(new)
    if report.problems or dry_run:
        return report
    try:
        report.opened = open_cases(db, actor, checked, progress=progress, now=now)
    except DfgError as error:  # changed since it was checked (another officer opened one meanwhile)
        report.problems.append(f"nothing was opened: {error.message}")
    return report
