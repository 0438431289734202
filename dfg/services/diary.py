"""The visits diary: the assessment visits booked for the days ahead, per assessor and day.

A visit is a case's latest booking while it awaits its assessment (booking again rearranges it; the
assessment, a cancellation, or the case leaving that state, ends it). The diary names the case, the town and the
postcode, not the people: the case page, whose read is on the access record, has the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, select

from dfg.errors import InvalidInput
from dfg.rules.clock import ENGLAND, local_day, utcnow
from dfg.services.case_reading import AWAITING_VISIT
from dfg.store.database import Database
from dfg.store.tables import APPOINTMENTS, CASES, PROPERTIES, VISIT_CANCELLATIONS
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

DIARY_READERS = ("ot", "grant_officer", "technical_officer", "manager")
LONGEST_SPAN = 92


@dataclass(frozen=True)
class Visit:
    at: datetime
    assessor: str
    assessor_role: str
    organisation: str
    location: str
    reference: str
    district: str
    town: str | None
    postcode: str

    @property
    def day(self) -> date:
        return local_day(self.at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "day": self.day.isoformat(),
            "assessor": self.assessor,
            "assessor_role": self.assessor_role,
            "organisation": self.organisation,
            "location": self.location,
            "reference": self.reference,
            "district": self.district,
            "town": self.town,
            "postcode": self.postcode,
        }


def diary(
    db: Database,
    actor: Actor,
    *,
    start: date | None = None,
    days: int = 7,
    assessor: str | None = None,
) -> list[Visit]:
    """The visits booked from ``start`` (default today) for ``days`` days, in the actor's district (or
    every district), by assessor (part of a name, any case) if given; in order of time."""
    require_role(actor, *DIARY_READERS)
    if not 1 <= days <= LONGEST_SPAN:
        raise InvalidInput(f"--days must be 1 to {LONGEST_SPAN}, not {days}")
    start = start or local_day(utcnow())
    begins = datetime.combine(start, time(), ENGLAND)
    ends = datetime.combine(start + timedelta(days=days), time(), ENGLAND)
    latest = select(func.max(APPOINTMENTS.c.id).label("id")).group_by(APPOINTMENTS.c.case_id).subquery()
    query = (
        select(
            APPOINTMENTS, CASES.c.reference, CASES.c.district_code, PROPERTIES.c.town, PROPERTIES.c.postcode
        )
        .join(latest, latest.c.id == APPOINTMENTS.c.id)
        .join(CASES, CASES.c.id == APPOINTMENTS.c.case_id)
        .join(PROPERTIES, PROPERTIES.c.id == CASES.c.property_id)
        .where(CASES.c.state == AWAITING_VISIT)
        .where(~exists().where(VISIT_CANCELLATIONS.c.appointment_id == APPOINTMENTS.c.id))
        .where(APPOINTMENTS.c.appointment_at >= begins, APPOINTMENTS.c.appointment_at < ends)
        .order_by(APPOINTMENTS.c.appointment_at, CASES.c.reference)
    )
    if actor.district is not None:
        query = query.where(CASES.c.district_code == actor.district)
    if assessor:
        query = query.where(func.lower(APPOINTMENTS.c.assessor_name).contains(assessor.strip().lower()))
    with db.read_connection() as connection:
        rows = connection.execute(query).all()
    return [
        Visit(
            r.appointment_at,
            r.assessor_name,
            r.assessor_role,
            r.assessor_organisation,
            r.location,
            r.reference,
            r.district_code,
            r.town,
            r.postcode,
        )
        for r in rows
    ]
