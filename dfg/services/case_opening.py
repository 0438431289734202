"""Opening a case: the people and the home, its reference and its first event; where letters to the
applicant go; and whose list it is on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dfg.errors import GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.rules.clock import local_day, utcnow
from dfg.rules.plausible import postcode, postcode_problem
from dfg.rules.search_text import Home, Named
from dfg.services.cases import Recorded, record_change
from dfg.services.people import (
    POSTAL_COLUMNS,
    born_problem,
    detail_problem,
    full_name,
    person_roles,
    postal_lines,
)
from dfg.services.progress import Progress, unwatched
from dfg.services.search_index import index_opened_cases
from dfg.store.audit import NewEvent, begin_streams
from dfg.store.database import Database
from dfg.store.models import (
    CASES,
    DISTRICTS,
    PEOPLE,
    PRIORITIES,
    PROPERTIES,
    TENURES,
    ReferenceCounter,
    User,
)
from dfg.workflow.actor import Actor
from dfg.workflow.definition import MILESTONES, Definition, current_definition
from dfg.workflow.facts import CaseFacts
from dfg.workflow.roles import require_role
from dfg.workflow.timeline import MIGRATED


@dataclass(frozen=True)
class PostalAddress:
    """Where letters to a person go when they do not live at the home to be adapted (a landlord)."""

    line_1: str
    town: str
    postcode: str
    line_2: str | None = None

    def checked(self) -> PostalAddress:
        """Trimmed, the postcode in capitals; :class:`InvalidInput` if a required part is blank."""
        for text, what in ((self.line_1, "address"), (self.town, "town"), (self.postcode, "postcode")):
            if not text.strip():
                raise InvalidInput(f"the postal {what} is required")
        if wrong := postcode_problem(self.postcode):
            raise InvalidInput(f"the postal address: {wrong}")
        return PostalAddress(
            line_1=self.line_1.strip(),
            town=self.town.strip(),
            postcode=postcode(self.postcode),
            line_2=(self.line_2 or "").strip() or None,
        )

    @property
    def lines(self) -> tuple[str, ...]:
        """The address as it is printed, postcode last."""
        return tuple(x for x in (self.line_1, self.line_2, self.town, self.postcode) if x)

    def columns(self) -> dict[str, str | None]:
        """The ``people`` row's columns for this address."""
        return dict(zip(POSTAL_COLUMNS, (self.line_1, self.line_2, self.town, self.postcode), strict=True))


#: The ``people`` row's columns when no postal address is recorded: letters go to the home.
NO_POSTAL_ADDRESS: dict[str, str | None] = dict.fromkeys(POSTAL_COLUMNS)


@dataclass(frozen=True)
class NewPerson:
    given_name: str
    family_name: str
    title: str | None = None
    date_of_birth: date | None = None
    is_applicant: bool = False
    is_disabled_occupant: bool = False
    is_relevant_person: bool = False
    relationship_to_applicant: str | None = None
    nhs_number: str | None = None
    phone: str | None = None
    email: str | None = None
    communication_needs: str | None = None
    #: How they would rather be contacted: one of people.PREFERRED_CONTACTS.
    preferred_contact: str | None = None
    #: An advocate or representative who speaks for them: their name and how to reach them.
    advocate: str | None = None
    #: A format letters must reach them in beyond large print: Braille, audio, an interpreter's language.
    format_note: str | None = None
    #: Where letters go if not to the home to be adapted (a landlord applicant needs one).
    postal_address: PostalAddress | None = None

    def row(self) -> dict[str, Any]:
        """The ``people`` row's columns (a disabled occupant is always a relevant person: their means are
        tested)."""
        columns = {k: v for k, v in vars(self).items() if k != "postal_address"}
        columns["is_relevant_person"] = self.is_relevant_person or self.is_disabled_occupant
        postal = self.postal_address.checked().columns() if self.postal_address else NO_POSTAL_ADDRESS
        return {**columns, **postal}


@dataclass(frozen=True)
class NewCase:
    district: str
    priority: str
    tenure: str
    first_contact_date: date
    address_line_1: str
    town: str
    postcode: str
    people: tuple[NewPerson, ...]
    address_line_2: str | None = None
    uprn: str | None = None
    priority_reason: str | None = None
    referral_source: str | None = None
    #: Open it although an open case of the district has the same applicant (a second, separate need).
    allow_duplicate: bool = False
    #: Leave it on no one's list; by default it is on the list of the grant officer who opens it.
    unassigned: bool = False
    #: Where it stands in the system it is brought in from; None for a new referral.
    migration: Migration | None = None


@dataclass(frozen=True)
class Migration:
    """Where a case brought in from another system stands: its state, the milestone dates it reached that
    state by, the stages' first days, and where the record came from (recorded as :data:`MIGRATED`)."""

    state: str
    #: Milestone columns of the case (``assessment_date``...) with the dates the other system kept.
    dates: Mapping[str, date]
    #: The day each stage (0–4) was entered, as far as the dates tell; the clocks count from them.
    stage_entries: Mapping[int, date]
    legacy_reference: str | None = None
    #: Where it was read: the file's name (sealed on the chain: a file may be named after a person) and
    #: the row.
    file_name: str = ""
    row: int = 0

    @property
    def changes(self) -> dict[str, Any]:
        """The case's columns as the migration leaves them."""
        return {"state": self.state, **self.dates, "legacy_reference": self.legacy_reference}

    def event(self, actor: Actor, role: str, definition: Definition, now: datetime) -> NewEvent:
        """The event that moves the case just opened to its state, with its dates."""
        return NewEvent(
            occurred_at=now,
            actor=actor.username,
            role=role,
            kind=MIGRATED,
            from_state=definition.initial,
            to_state=self.state,
            payload={
                **{column: day.isoformat() for column, day in self.dates.items()},
                "stage_entries": {str(k): d.isoformat() for k, d in sorted(self.stage_entries.items())},
                "legacy_reference": self.legacy_reference,
                "file_name": self.file_name,
                "row": self.row,
            },
            workflow_version=definition.key,
        )


#: No grant file still open began before this: an earlier first contact is a typing mistake.
EARLIEST_CONTACT = date(1990, 1, 1)


def new_case_problems(new: NewCase, today: date) -> list[tuple[str, str]]:
    """Every mistake in the new case, each with the input it is about: a field of :class:`NewCase`, or
    ``applicant.date_of_birth``, ``occupant.postal_address``... for a person's."""
    problems: list[tuple[str, str]] = []
    if new.priority not in PRIORITIES:
        problems.append(("priority", f"priority '{new.priority}' is not one of: {', '.join(PRIORITIES)}"))
    if new.priority == "urgent" and not new.priority_reason:
        problems.append(("priority_reason", "an urgent case needs a --priority-reason"))
    if new.tenure not in TENURES:
        problems.append(("tenure", f"tenure '{new.tenure}' is not one of: {', '.join(TENURES)}"))
    if new.first_contact_date > today:
        problems.append(
            ("first_contact_date", f"first contact date {new.first_contact_date:%d/%m/%Y} is in the future")
        )
    elif new.first_contact_date < EARLIEST_CONTACT:
        problems.append((
            "first_contact_date",
            f"first contact date {new.first_contact_date:%d/%m/%Y} is before {EARLIEST_CONTACT:%Y}: check the year",
        ))  # fmt: skip
    if sum(p.is_applicant for p in new.people) != 1:
        problems.append(("people", "a case needs exactly one applicant"))
    for person in new.people:
        problems += [(field, problem) for field, problem, _ in person_problems(person, today)]
    for text, what, field in ((new.address_line_1, "address", "address_line_1"), (new.town, "town", "town"),
                              (new.postcode, "postcode", "postcode")):  # fmt: skip
        if not text.strip():
            problems.append((field, f"the {what} is required"))
    if new.postcode.strip() and (wrong := postcode_problem(new.postcode)):
        problems.append(("postcode", wrong))
    for name, said in _HOME_DETAILS.items():
        text = (getattr(new, name) or "").strip()
        if text and (unfit := detail_problem(name, text, said)):
            problems.append((name, f"the {said}: {unfit[0]}"))
    for person in new.people:
        problems += _postal_problems(person)
    return problems


def person_problems(person: NewPerson, today: date) -> list[tuple[str, str, str]]:
    """Every mistake in one person's details as given (their names, each detail, their date of birth):
    each by the input it is about (``applicant.email``, ``occupant.date_of_birth``), the problem, and the
    problem in a person's words for a form. For opening a case and adding a person to one; their postal
    address is checked by :func:`_postal_problems`."""
    problems = _person_problems(person)
    born = person.date_of_birth and born_problem(person.date_of_birth, today)
    if born:
        problems.append((
            f"{_part(person)}.date_of_birth", f"{person.given_name} {person.family_name}: {born[0]}", born[1],
        ))  # fmt: skip
    return problems


def _postal_problems(person: NewPerson) -> list[tuple[str, str]]:
    if person.postal_address is None:
        return []
    try:
        person.postal_address.checked()
    except InvalidInput as error:
        return [(f"{_part(person)}.postal_address", error.message)]
    return []


def _part(person: NewPerson) -> str:
    return "applicant" if person.is_applicant else "occupant"


#: The home's details and the case's checked as they are given, in the words a problem names them by.
_HOME_DETAILS = {
    "address_line_1": "address", "address_line_2": "second line of the address", "town": "town",
    "uprn": "UPRN", "referral_source": "referral source",
}  # fmt: skip
#: A person's details checked as they are given, in the words a problem names them by.
_PERSON_DETAILS = {
    "title": "title", "given_name": "first name", "family_name": "last name",
    "relationship_to_applicant": "relationship to the applicant", "phone": "phone number",
    "email": "e-mail address", "communication_needs": "communication needs",
    "preferred_contact": "preferred contact", "advocate": "advocate", "format_note": "format note",
}  # fmt: skip


def _person_problems(person: NewPerson) -> list[tuple[str, str, str]]:
    """A person's names (both required), and each detail no longer than the store keeps, an e-mail
    address and phone number in a form they can have; each by ``applicant.email``, ``occupant.given_name``."""
    part, problems = _part(person), []
    whose = (
        "the applicant's"
        if person.is_applicant
        else "the disabled person's"
        if person.is_disabled_occupant
        else "the person's"
    )
    for name, said in _PERSON_DETAILS.items():
        text = (getattr(person, name) or "").strip()
        if not text:
            if name in ("given_name", "family_name"):
                problems.append((f"{part}.{name}", f"{whose} {said} is required", f"Enter their {said}"))
            continue
        if wrong := detail_problem(name, text, said):
            problems.append((f"{part}.{name}", f"{whose} {said}: {wrong[0]}", wrong[1]))
    return problems


def _validate_new_case(new: NewCase, today: date) -> None:
    """Every mistake in the new case at once, in one message."""
    if problems := new_case_problems(new, today):
        raise InvalidInput("; ".join(p for _, p in problems), fields=dict(problems))


def opening_problems(
    db: Database, actor: Actor, new: NewCase, *, now: datetime | None = None
) -> list[tuple[str, str]]:
    """What would stop :func:`open_case` opening this case, found without writing anything: each mistake
    in it, a district that is not the actor's or does not exist, and an open case of the district for the
    same applicant or home (unless ``allow_duplicate``). Each with the input it is about, as
    :func:`new_case_problems` names them. The actor must be a grant officer (:class:`PermissionDenied`)."""
    return openings_problems(db, actor, [new], now=now)[0]


def openings_problems(
    db: Database, actor: Actor, cases: Sequence[NewCase], *, now: datetime | None = None
) -> list[list[tuple[str, str]]]:
    """:func:`opening_problems` of each case, read in a few queries for the lot (an import of thousands)."""
    require_role(actor, "grant_officer")
    today = local_day(now or utcnow())
    found = [new_case_problems(new, today) for new in cases]
    with db.read_connection() as connection:
        known = _districts(connection, {new.district for new in cases})
        for new, problems in zip(cases, found, strict=True):
            if not actor.may_act_in(new.district):
                problems.append(("district", _not_your_district(actor, new)))
            elif new.district not in known:
                problems.append(("district", _no_district(new)))
        asked = [i for i, new in enumerate(cases) if not found[i] and not new.allow_duplicate]
        for i, open_already in zip(asked, _open_already(connection, [cases[i] for i in asked]), strict=True):
            if open_already:
                found[i].append(("allow_duplicate", _already_open_for(open_already)))
    return found


def _districts(connection: Connection, codes: set[str]) -> set[str]:
    """Which of the district codes exist."""
    return set(connection.scalars(select(DISTRICTS.c.code).where(DISTRICTS.c.code.in_(sorted(codes)))))


def _not_your_district(actor: Actor, new: NewCase) -> str:
    return f"{actor.username} works for district {actor.district}, not {new.district}"


def _no_district(new: NewCase) -> str:
    return f"no district '{new.district}' (see 'dfg district list')"


def _already_open_for(reference: str) -> str:
    return f"{reference} is already open for this applicant or home: add to it, or give --duplicate to open another"


#: How many new cases one query checks for an open case of the same home or applicant.
_CHECKED_AT_ONCE = 500


class SameCases:
    """Cases known so far (open ones of the districts, or the rows above in an import), by what makes a
    new case the same one: the same home, or the same applicant by NHS number, or by name and date of
    birth (any date, when the new case gives none), in one district. The same person referred twice is
    usually one case, not two. Each is known by ``who`` (a reference, a row number); the first added is
    the one named."""

    def __init__(self) -> None:
        self._homes: dict[tuple[str, str, str], Any] = {}
        self._numbers: dict[tuple[str, str], tuple[int, Any]] = {}
        self._names: dict[tuple[str, str, str], list[tuple[date | None, int, Any]]] = {}
        self._added = 0

    def add_home(self, district: str, code: str, line_1: str, who: Any) -> None:
        self._homes.setdefault((district, postcode(code), line_1.strip().lower()), who)

    def add_applicant(
        self, district: str, given: str, family: str, born: date | None, nhs_number: str | None, who: Any
    ) -> None:
        self._added += 1  # the order added, so the first of a name and an NHS number match is named
        if nhs_number:
            self._numbers.setdefault((district, nhs_number), (self._added, who))
        name = (district, given.strip().lower(), family.strip().lower())
        self._names.setdefault(name, []).append((born, self._added, who))

    def add(self, new: NewCase, who: Any) -> None:
        applicant = _applicant(new)
        self.add_home(new.district, new.postcode, new.address_line_1, who)
        self.add_applicant(new.district, applicant.given_name, applicant.family_name,
                           applicant.date_of_birth, applicant.nhs_number, who)  # fmt: skip

    def same_as(self, new: NewCase) -> tuple[str, Any] | None:
        """What a known case shares with ``new`` (``home``, ``applicant``) and who it is; a home first."""
        home = self._homes.get((new.district, postcode(new.postcode), new.address_line_1.strip().lower()))
        if home is not None:
            return "home", home
        applicant = _applicant(new)
        name = (new.district, applicant.given_name.strip().lower(), applicant.family_name.strip().lower())
        found = [(order, who) for born, order, who in self._names.get(name, ())
                 if applicant.date_of_birth is None or born == applicant.date_of_birth]  # fmt: skip
        if applicant.nhs_number and (number := self._numbers.get((new.district, applicant.nhs_number))):
            found.append(number)
        return ("applicant", min(found, key=lambda f: f[0])[1]) if found else None


def _applicant(new: NewCase) -> NewPerson:
    return next(p for p in new.people if p.is_applicant)


#: How many new cases one query checks for an open case of the same home or applicant.
_CHECKED_AT_ONCE = 500


def _open_already(connection: Connection, cases: Sequence[NewCase]) -> list[str | None]:
    """For each case, the earliest opened case of its district still open that is the same one
    (:class:`SameCases`), if any. Two queries for each few hundred cases."""
    found: list[str | None] = []
    for at in range(0, len(cases), _CHECKED_AT_ONCE):
        chunk = cases[at : at + _CHECKED_AT_ONCE]
        districts = sorted({new.district for new in chunk})
        known = SameCases()
        for reference, district, code, line in connection.execute(
            select(CASES.c.reference, CASES.c.district_code, PROPERTIES.c.postcode, PROPERTIES.c.address_line_1)
            .join(PROPERTIES, PROPERTIES.c.id == CASES.c.property_id)
            .where(CASES.c.district_code.in_(districts), CASES.c.closed_date.is_(None),
                   PROPERTIES.c.postcode.in_(sorted({postcode(new.postcode) for new in chunk})))
            .order_by(CASES.c.id)
        ):  # fmt: skip
            known.add_home(district, code, line, reference)
        applicants = [_applicant(new) for new in chunk]
        families = sorted({a.family_name.strip().lower() for a in applicants})
        numbers = sorted({a.nhs_number for a in applicants if a.nhs_number})
        for reference, district, given, family, born, number in connection.execute(
            select(CASES.c.reference, CASES.c.district_code, PEOPLE.c.given_name, PEOPLE.c.family_name,
                   PEOPLE.c.date_of_birth, PEOPLE.c.nhs_number)
            .join(PEOPLE, PEOPLE.c.case_id == CASES.c.id)
            .where(CASES.c.district_code.in_(districts), CASES.c.closed_date.is_(None),
                   PEOPLE.c.is_applicant.is_(True),
                   or_(func.lower(PEOPLE.c.family_name).in_(families), PEOPLE.c.nhs_number.in_(numbers)))
            .order_by(CASES.c.id)
        ):  # fmt: skip
            known.add_applicant(district, given, family, born, number, reference)
        found.extend(same[1] if (same := known.same_as(new)) else None for new in chunk)
    return found


def _next_references(session: Session, district: str, year: int, count: int) -> list[str]:
    """The next ``count`` references of a district's year, taken at once from its counter (locked)."""
    counter = session.get(ReferenceCounter, (district, year), with_for_update=True)
    if counter is None:
        # The first case of a district's year: two officers may both find no counter. Create it in a
        # savepoint; whoever loses the race reads the winner's row, locked.
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(district_code=district, year=year, last_number=0))
        except IntegrityError:
            pass
        counter = session.get(
            ReferenceCounter, (district, year), with_for_update=True, populate_existing=True
        )
        assert counter is not None
    first = counter.last_number + 1
    counter.last_number += count
    session.flush()
    return [f"{district}-{year}-{number:04d}" for number in range(first, first + count)]


def open_case(db: Database, actor: Actor, new: NewCase, *, now: datetime | None = None) -> str:
    """Open a case at the workflow's initial state, on the opening officer's list unless
    ``new.unassigned``; return its reference."""
    return open_cases(db, actor, [new], now=now)[0]


def open_cases(
    db: Database,
    actor: Actor,
    cases: Sequence[NewCase],
    *,
    progress: Progress = unwatched,
    now: datetime | None = None,
) -> list[str]:
    """Open every case in one transaction, all or none, in order; return their references. A case with a
    :class:`Migration` is brought to the state it stands in elsewhere by its second event (:data:`MIGRATED`).

    Each is checked against the open cases as :func:`open_case` checks one, not against the others being
    opened with it (an import checks its rows against each other first)."""
    now = now or utcnow()
    today = local_day(now)
    role = require_role(actor, "grant_officer")
    for new in cases:
        _validate_new_case(new, today)
        if not actor.may_act_in(new.district):
            raise PermissionDenied(_not_your_district(actor, new))
    definition = current_definition()
    references: list[str] = []
    progress(0, len(cases))
    with db.writing() as session:
        connection = session.connection()
        known = _districts(connection, {new.district for new in cases})
        for new in cases:
            if new.district not in known:
                raise NotFound(_no_district(new))
        for new, open_already in zip(cases, _open_already(connection, cases), strict=True):
            if open_already and not new.allow_duplicate:
                raise GuardFailed(_already_open_for(open_already))
        by_district: dict[str, list[str]] = {}
        for district in sorted(known):  # counters taken in one order: two imports never wait on each other
            wanted = sum(1 for new in cases if new.district == district)
            by_district[district] = _next_references(session, district, today.year, wanted)[::-1]
        for at in range(0, len(cases), _WRITTEN_AT_ONCE):
            chunk = cases[at : at + _WRITTEN_AT_ONCE]
            written = [by_district[new.district].pop() for new in chunk]
            _write(connection, actor, role, definition, chunk, written, now)
            references.extend(written)
            progress(len(chunk), len(cases))
    return references


#: How many cases one round of statements writes.
_WRITTEN_AT_ONCE = 500


def _write(
    connection: Connection,
    actor: Actor,
    role: str,
    definition: Definition,
    cases: Sequence[NewCase],
    references: Sequence[str],
    now: datetime,
) -> None:
    """Insert the cases' homes, rows, people, search terms and first events, a statement for each kind."""
    homes = connection.execute(
        insert(PROPERTIES).returning(PROPERTIES.c.id, sort_by_parameter_order=True),
        [{"address_line_1": new.address_line_1, "address_line_2": new.address_line_2, "town": new.town,
          "postcode": postcode(new.postcode), "uprn": new.uprn, "district_code": new.district}
         for new in cases],
    ).scalars().all()  # fmt: skip
    ids = connection.execute(
        insert(CASES).returning(CASES.c.id, sort_by_parameter_order=True),
        [_case_row(actor, definition, new, reference, home, now)
         for new, reference, home in zip(cases, references, homes, strict=True)],
    ).scalars().all()  # fmt: skip
    people = [[p.row() for p in new.people] for new in cases]
    connection.execute(insert(PEOPLE), [{**row, "case_id": i} for i, rows in zip(ids, people, strict=True)
                                        for row in rows])  # fmt: skip
    index_opened_cases(connection, [
        (case_id, reference, Home(new.address_line_1, new.address_line_2, new.town, postcode(new.postcode)),
         [Named(r["title"], r["given_name"], r["family_name"], r["nhs_number"]) for r in rows],
         new.migration.legacy_reference if new.migration else None)
        for case_id, reference, new, rows in zip(ids, references, cases, people, strict=True)
    ])  # fmt: skip
    streams = []
    for case_id, reference, new, rows in zip(ids, references, cases, people, strict=True):
        opened = _opened_event(actor, role, definition, new, [SimpleNamespace(**row) for row in rows], now)
        migrated = [new.migration.event(actor, role, definition, now)] if new.migration else []
        streams.append((case_id, reference, [opened, *migrated]))
    begin_streams(connection, streams)


def _case_row(
    actor: Actor, definition: Definition, new: NewCase, reference: str, home: int, now: datetime
) -> dict[str, Any]:
    """A new case's row, at the state its events leave it in (the head and version move with them)."""
    row: dict[str, Any] = {
        "reference": reference,
        "district_code": new.district,
        "property_id": home,
        "workflow_version": definition.key,
        "state": definition.initial,
        "priority": new.priority,
        "priority_reason": new.priority_reason,
        "referral_source": new.referral_source,
        "tenure": new.tenure,
        "first_contact_date": new.first_contact_date,
        "assigned_to": None if new.unassigned else actor.user_id,
        "audit_seq": 0,
        "audit_head": "",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    # every row the same columns: one INSERT of many rows takes its columns from the first
    row.update(dict.fromkeys(m for m in MILESTONES if m != "first_contact_date"), legacy_reference=None)
    if new.migration is not None:
        row.update(new.migration.changes)
    return row


def _opened_event(
    actor: Actor, role: str, definition: Definition, new: NewCase, people: Sequence[Any], now: datetime
) -> NewEvent:
    """A case's first event: what it was opened with (its people as their rows, ``people``)."""
    payload = {
        "district": new.district,
        "priority": new.priority,
        "priority_reason": new.priority_reason,
        "tenure": new.tenure,
        "referral_source": new.referral_source,
        "first_contact_date": new.first_contact_date,
        "property": {
            "address": [new.address_line_1, new.address_line_2, new.town],
            "postcode": postcode(new.postcode),
        },
        "people": [
            {
                "name": full_name(p),
                "date_of_birth": p.date_of_birth,
                "roles": person_roles(p),
                **({"postal_address": list(postal_lines(p))} if p.postal_postcode else {}),
            }
            for p in people
        ],
        **({} if new.unassigned else {"assigned_to": actor.username}),
    }
    return NewEvent(
        occurred_at=now,
        actor=actor.username,
        role=role,
        kind="case_opened",
        to_state=definition.initial,
        payload=payload,
        workflow_version=definition.key,
    )


def set_postal_address(
    db: Database, actor: Actor, reference: str, address: PostalAddress | None, *, now: datetime | None = None
) -> Recorded:
    """Record where letters to the applicant go (``None``: back to the home to be adapted). Letters already
    produced keep the address they were sent to; letters waiting for one are produced on the next run."""
    role = require_role(actor, "grant_officer")
    address = address.checked() if address else None
    columns = address.columns() if address else NO_POSTAL_ADDRESS

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        connection.execute(
            update(PEOPLE).where(PEOPLE.c.case_id == case_id, PEOPLE.c.is_applicant.is_(True)).values(columns)
        )
        return {}

    return record_change(
        db, actor, reference, role=role, kind="postal_address_changed", write_details=write,
        payload={"postal_address": list(address.lines) if address else None}, now=now,
    )  # fmt: skip


def assign(db: Database, actor: Actor, reference: str, username: str, *, now: datetime | None = None) -> None:
    """Put the case on a named officer's list."""
    role = require_role(actor, "grant_officer")
    with db.reading() as session:
        user = session.execute(
            select(User.id, User.district_code).where(User.username == username)
        ).one_or_none()
    if user is None:
        raise NotFound(f"no user '{username}'")

    def check(case: CaseFacts) -> None:
        if user.district_code not in (None, case.district):
            raise InvalidInput(
                f"{username} works for district {user.district_code}; {case.reference} is in {case.district}"
            )

    record_change(
        db, actor, reference, role=role, kind="assigned", check=check, changes={"assigned_to": user.id},
        payload={"to": username}, now=now,
    )  # fmt: skip
