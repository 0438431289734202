"""Reading cases: everything recorded on one case (``dfg case show``), and lists of cases by state, stage,
district, priority and hold (``dfg case list``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, select

from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.services.access import record_access
from dfg.services.cases import check_district, normalise_reference
from dfg.services.people import full_name, in_large_print, person_roles, postal_lines
from dfg.store.database import Database
from dfg.store.tables import (
    APPOINTMENTS,
    CASES,
    DISTRICTS,
    PEOPLE,
    PRIORITIES,
    PROPERTIES,
    USERS,
    VISIT_CANCELLATIONS,
)
from dfg.workflow.actor import Actor
from dfg.workflow.definition import MILESTONES, current_definition, definition_for

_cases = CASES
_people = PEOPLE


@dataclass(frozen=True)
class CaseView:
    reference: str
    district: str
    district_name: str
    state: str
    state_label: str
    stage: int | None
    owner_role: str | None
    priority: str
    priority_reason: str | None
    tenure: str
    referral_source: str | None
    workflow_version: str
    version: int
    assigned_to: str | None
    on_hold_since: datetime | None
    hold_review_date: date | None
    address: tuple[str, ...]
    milestones: dict[str, date | None]
    approved_grant_pence: int | None
    people: tuple[dict[str, Any], ...]
    created_at: datetime
    updated_at: datetime
    #: The assessment visit booked while the case awaits its assessment (the latest booking: rebooking
    #: rearranges it): when, who and where. None when none is booked or the case has moved on.
    booked_visit: dict[str, Any] | None = None
    #: The home's address line by line as recorded (``address`` leaves out the empty ones), for a form
    #: that corrects it.
    home: dict[str, str | None] = field(default_factory=dict)
    #: Its reference in the system it was brought in from (``dfg import cases``), if any.
    legacy_reference: str | None = None

    def as_dict(self) -> dict[str, Any]:
        def iso(value: Any) -> Any:
            return value.isoformat() if isinstance(value, date | datetime) else value

        return {
            "reference": self.reference,
            "district": self.district,
            "district_name": self.district_name,
            "state": self.state,
            "state_label": self.state_label,
            "stage": self.stage,
            "owner_role": self.owner_role,
            "priority": self.priority,
            "priority_reason": self.priority_reason,
            "tenure": self.tenure,
            "referral_source": self.referral_source,
            "workflow_version": self.workflow_version,
            "version": self.version,
            "assigned_to": self.assigned_to,
            "on_hold_since": iso(self.on_hold_since),
            "hold_review_date": iso(self.hold_review_date),
            "address": list(self.address),
            "milestones": {k: iso(v) for k, v in self.milestones.items() if v is not None},
            "approved_grant_pence": self.approved_grant_pence,
            "people": [{k: iso(v) for k, v in p.items()} for p in self.people],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "booked_visit": None
            if self.booked_visit is None
            else {k: iso(v) for k, v in self.booked_visit.items()},
            "home": dict(self.home),
            "legacy_reference": self.legacy_reference,
        }


# Core, not the ORM: showing a case is a command of its own, and the ORM's first query sets up every mapper
_CASE_VIEW = (
    select(
        _cases,
        DISTRICTS.c.name.label("district_name"),
        USERS.c.username.label("assignee"),
        PROPERTIES.c.address_line_1,
        PROPERTIES.c.address_line_2,
        PROPERTIES.c.town,
        PROPERTIES.c.postcode,
    )
    .join(DISTRICTS, DISTRICTS.c.code == _cases.c.district_code)
    .join(PROPERTIES, PROPERTIES.c.id == _cases.c.property_id)
    .outerjoin(USERS, USERS.c.id == _cases.c.assigned_to)
    .where(_cases.c.reference == bindparam("reference"))
)
_PEOPLE_VIEW = select(_people).where(_people.c.case_id == bindparam("case_id")).order_by(_people.c.id)
AWAITING_VISIT = "awaiting_assessment"  # the state a visit is booked (and rearranged) in
_bookings = APPOINTMENTS.alias("bookings")
_BOOKED_VISIT = (
    select(
        APPOINTMENTS.c.appointment_at.label("at"),
        APPOINTMENTS.c.assessor_name,
        APPOINTMENTS.c.assessor_role,
        APPOINTMENTS.c.assessor_organisation,
        APPOINTMENTS.c.location,
    )
    # the latest booking is the visit in force, unless it was cancelled (then no visit is booked)
    .where(
        APPOINTMENTS.c.id
        == select(func.max(_bookings.c.id))
        .where(_bookings.c.case_id == bindparam("case_id"))
        .scalar_subquery()
    )
    .where(~exists().where(VISIT_CANCELLATIONS.c.appointment_id == APPOINTMENTS.c.id))
)


def view_case(db: Database, actor: Actor, reference: str, *, now: datetime | None = None) -> CaseView:
    """Everything recorded on one case, as a person reads it (``dfg case show``, the browser's case page):
    the read is on the case's access record. Services that only check a case use :func:`show_case`."""
    view = show_case(db, actor, reference)
    record_access(db, actor, view.reference, "case", now=now)
    return view


def show_case(db: Database, actor: Actor, reference: str) -> CaseView:
    """Everything recorded on one case (not recorded as a read: see :func:`view_case`)."""
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        case = connection.execute(_CASE_VIEW, {"reference": reference}).one_or_none()
        if case is None:
            raise NotFound(f"no case {reference}")
        check_district(actor, reference, case.district_code)
        people_rows = connection.execute(_PEOPLE_VIEW, {"case_id": case.id}).all()
        visit = (
            connection.execute(_BOOKED_VISIT, {"case_id": case.id}).first()
            if case.state == AWAITING_VISIT
            else None
        )
    definition = definition_for(case.workflow_version)
    state = definition.states.get(case.state)
    people = tuple(
        {
            "name": full_name(p),
            # each part of the name and the contact details as recorded, for the form that corrects them
            "title": p.title,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "date_of_birth": p.date_of_birth,
            "nhs_number": p.nhs_number,
            "phone": p.phone,
            "email": p.email,
            "roles": person_roles(p),
            "relationship_to_applicant": p.relationship_to_applicant,
            "communication_needs": p.communication_needs,
            "large_print": in_large_print(p),
            "preferred_contact": p.preferred_contact,
            "advocate": p.advocate,
            "format_note": p.format_note,
            "postal_address": list(postal_lines(p)) or None,
        }
        for p in people_rows
    )
    return CaseView(
        reference=case.reference,
        district=case.district_code,
        district_name=case.district_name,
        state=case.state,
        state_label=state.label if state else case.state,
        stage=state.stage if state else None,
        owner_role=state.owner if state else None,
        priority=case.priority,
        priority_reason=case.priority_reason,
        tenure=case.tenure,
        referral_source=case.referral_source,
        legacy_reference=case.legacy_reference,
        workflow_version=case.workflow_version,
        version=case.version,
        assigned_to=case.assignee,
        on_hold_since=case.hold_since,
        hold_review_date=case.hold_review_date,
        address=tuple(p for p in (case.address_line_1, case.address_line_2, case.town, case.postcode) if p),
        home={
            "address_line_1": case.address_line_1,
            "address_line_2": case.address_line_2,
            "town": case.town,
            "postcode": case.postcode,
        },
        booked_visit=None if visit is None else dict(visit._mapping),
        milestones={m: case._mapping[m] for m in MILESTONES},
        approved_grant_pence=case.approved_grant_pence,
        people=people,
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    stage: int | None = None
    district: str | None = None
    priority: str | None = None
    assigned_to_me: bool = False
    on_hold: bool | None = None
    #: Only closed cases (True), only open ones (False), or both.
    closed: bool | None = None
    limit: int = 200


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    district: str
    state: str
    stage: int | None
    priority: str
    applicant: str
    first_contact_date: date
    on_hold: bool
    assigned_to: str | None
    approved_grant_pence: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "state": self.state,
            "stage": self.stage,
            "priority": self.priority,
            "applicant": self.applicant,
            "first_contact_date": self.first_contact_date.isoformat(),
            "on_hold": self.on_hold,
            "assigned_to": self.assigned_to,
            "approved_grant_pence": self.approved_grant_pence,
        }


def list_cases(db: Database, actor: Actor, where: CaseFilter) -> list[CaseSummary]:
    """Cases matching ``where`` that this user may see, oldest first contact first."""
    query = case_list_query(actor, where)
    with db.read_connection() as connection:
        return case_summaries(connection.execute(query))


def case_list_query(actor: Actor, where: CaseFilter) -> Select[Any]:
    """The query :func:`list_cases` runs: its rows are read by :func:`case_summaries`. A search runs it
    too, joined to what it found, so that it can never show a case the list would not."""
    definition = current_definition()
    if where.state is not None and where.state not in definition.states:
        raise InvalidInput(f"unknown state '{where.state}' (known: {', '.join(definition.states)})")
    if where.priority is not None and where.priority not in PRIORITIES:
        raise InvalidInput(f"priority '{where.priority}' is not one of: {', '.join(PRIORITIES)}")
    if where.stage is not None and where.stage not in range(5):
        raise InvalidInput("stage must be 0 to 4")
    if actor.district and where.district and where.district != actor.district:
        raise PermissionDenied(f"{actor.username} works for district {actor.district}")
    applicant = (
        select(
            func.trim(
                func.coalesce(_people.c.title + " ", "") + _people.c.given_name + " " + _people.c.family_name
            )
        )
        .where(and_(_people.c.case_id == _cases.c.id, _people.c.is_applicant.is_(True)))
        .limit(1)
        .scalar_subquery()
    )
    users = USERS
    query = (
        select(
            _cases.c.reference,
            _cases.c.district_code,
            _cases.c.state,
            _cases.c.priority,
            _cases.c.first_contact_date,
            _cases.c.hold_since,
            applicant.label("applicant"),
            users.c.username,
            _cases.c.approved_grant_pence,
        )
        .outerjoin(users, users.c.id == _cases.c.assigned_to)
        .order_by(_cases.c.first_contact_date, _cases.c.reference)
        .limit(where.limit)
    )
    district = where.district or actor.district
    if district:
        query = query.where(_cases.c.district_code == district)
    if where.state:
        query = query.where(_cases.c.state == where.state)
    if where.stage is not None:
        stages = definition.states.values()
        query = query.where(_cases.c.state.in_([s.name for s in stages if s.stage == where.stage]))
    if where.priority:
        query = query.where(_cases.c.priority == where.priority)
    if where.assigned_to_me:
        query = query.where(_cases.c.assigned_to == actor.user_id)
    if where.on_hold is not None:
        query = query.where(
            _cases.c.hold_since.is_not(None) if where.on_hold else _cases.c.hold_since.is_(None)
        )
    if where.closed is not None:
        query = query.where(
            _cases.c.closed_date.is_not(None) if where.closed else _cases.c.closed_date.is_(None)
        )
    return query


def case_summaries(rows: Iterable[Any]) -> list[CaseSummary]:
    """Rows of :func:`case_list_query` as case summaries."""
    stage_of = {s.name: s.stage for s in current_definition().states.values()}
    return [
        CaseSummary(
            r.reference,
            r.district_code,
            r.state,
            stage_of.get(r.state),
            r.priority,
            r.applicant or "",
            r.first_contact_date,
            r.hold_since is not None,
            r.username,
            r.approved_grant_pence,
        )
        for r in rows
    ]


def count_cases(db: Database) -> int:
    with db.read_connection() as connection:
        return int(connection.scalar(select(func.count()).select_from(CASES)) or 0)
