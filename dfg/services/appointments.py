"""Assessment appointments: the visit booked for the OT (or trusted assessor), and the letter telling the
applicant when, where and who.

Booking is the workflow step ``book_assessment`` (the case stays awaiting assessment): the appointment row,
the step's event and its letter (``assessment_appointment``) are recorded in one transaction. Rebooking is
the same step again (rearranging the visit): a new row and a new letter, so the register shows every time
the applicant was told. Cancelling is the step ``cancel_assessment_visit``: a cancellation row for the
booking in force, the reason on the step's event and the letter ``assessment_cancellation``. The visit in
force is the latest booking, unless it was cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from dfg.errors import GuardFailed, InvalidInput
from dfg.rules.clock import ENGLAND, utcnow
from dfg.services.cases import Advanced, advance
from dfg.store.database import Database
from dfg.store.tables import APPOINTMENTS, VISIT_CANCELLATIONS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput

#: What the letter calls the assessor when the booking does not say.
DEFAULT_ROLE = "occupational therapist"
#: Where the visit happens when the booking does not say.
AT_HOME = "At your home"
#: The longest each part of a booking may be (the store's columns).
LONGEST = {"assessor_name": 120, "assessor_organisation": 120, "assessor_role": 60, "location": 300}
#: The longest reason for a cancellation (it is kept, sealed, on the step's event).
REASON_LONGEST = 2000


@dataclass(frozen=True)
class Appointment:
    """A visit to book. ``at`` is timezone-aware (the CLI reads it as a time in England)."""

    at: datetime
    assessor_name: str
    assessor_organisation: str
    assessor_role: str = DEFAULT_ROLE
    location: str = AT_HOME


def _checked(appointment: Appointment, now: datetime) -> Appointment:
    if appointment.at.tzinfo is None:
        raise InvalidInput("the appointment time must say its time zone")
    if appointment.at <= now:
        when = appointment.at.astimezone(ENGLAND)
        raise InvalidInput(f"--at: {when:%d/%m/%Y %H:%M} has passed; an appointment is booked ahead")
    texts = {  # option: (the field, its value)
        "--assessor": ("assessor_name", appointment.assessor_name),
        "--organisation": ("assessor_organisation", appointment.assessor_organisation),
        "--role": ("assessor_role", appointment.assessor_role),
        "--where": ("location", appointment.location),
    }
    for option, (name, value) in texts.items():
        if not value.strip():
            raise InvalidInput(f"{option} must not be empty")
        if len(value.strip()) > LONGEST[name]:
            raise InvalidInput(f"{option} must be {LONGEST[name]} characters or fewer")
    return Appointment(
        at=appointment.at,
        assessor_name=appointment.assessor_name.strip(),
        assessor_organisation=appointment.assessor_organisation.strip(),
        assessor_role=appointment.assessor_role.strip(),
        location=appointment.location.strip(),
    )


def book_appointment(
    db: Database,
    actor: Actor,
    reference: str,
    appointment: Appointment,
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Book the assessment visit: the step ``book_assessment``, with its appointment row and letter.
    ``expected_version``: the version of the case the booking was made on (a form's), as for advance."""
    now = now or utcnow()
    booking = _checked(appointment, now)

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        replaced = visit_in_force(connection, case_id)
        booked = connection.execute(
            insert(APPOINTMENTS).returning(APPOINTMENTS.c.id),
            {
                "case_id": case_id,
                "appointment_at": booking.at,
                "assessor_name": booking.assessor_name,
                "assessor_role": booking.assessor_role,
                "assessor_organisation": booking.assessor_organisation,
                "location": booking.location,
                "booked_by": actor.username,
                "booked_at": now,
            },
        ).scalar_one()
        said: dict[str, Any] = {"appointment": booked, "appointment_at": booking.at.isoformat()}
        if replaced is not None:  # booking again over a visit in force rearranges it
            said["rearranges"] = replaced.id
        return said

    return advance(
        db, actor, reference, "book_assessment", TriggerInput(), now=now, write_details=write,
        expected_version=expected_version,
    )  # fmt: skip


@dataclass(frozen=True)
class BookedVisit:
    """An assessment visit as it was booked (each rebooking is one more), and its cancellation if any."""

    id: int
    at: datetime
    assessor_name: str
    assessor_role: str
    assessor_organisation: str
    location: str
    booked_by: str
    booked_at: datetime
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


_BOOKINGS = (
    select(APPOINTMENTS, VISIT_CANCELLATIONS.c.cancelled_by, VISIT_CANCELLATIONS.c.cancelled_at)
    .outerjoin(VISIT_CANCELLATIONS, VISIT_CANCELLATIONS.c.appointment_id == APPOINTMENTS.c.id)
    .order_by(APPOINTMENTS.c.id)
)


def booked_visits(connection: Connection, case_id: int) -> list[BookedVisit]:
    """The case's bookings, in the order they were made (the last is the one in force unless cancelled)."""
    rows = connection.execute(_BOOKINGS.where(APPOINTMENTS.c.case_id == case_id))
    return [
        BookedVisit(
            id=r.id,
            at=r.appointment_at,
            assessor_name=r.assessor_name,
            assessor_role=r.assessor_role,
            assessor_organisation=r.assessor_organisation,
            location=r.location,
            booked_by=r.booked_by,
            booked_at=r.booked_at,
            cancelled_by=r.cancelled_by,
            cancelled_at=r.cancelled_at,
        )
        for r in rows
    ]


def in_force(visits: Sequence[BookedVisit]) -> BookedVisit | None:
    """The visit the applicant expects of these bookings (oldest first): the latest, or None if there is
    none or it was cancelled."""
    return visits[-1] if visits and not visits[-1].cancelled else None


def visit_in_force(connection: Connection, case_id: int) -> BookedVisit | None:
    """The case's visit in force (see :func:`in_force`)."""
    return in_force(booked_visits(connection, case_id))


def cancel_visit(
    db: Database,
    actor: Actor,
    reference: str,
    reason: str,
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Cancel the visit in force: the step ``cancel_assessment_visit``, with its cancellation row, the
    (sealed) reason on its event and the cancellation letter. Refused when no visit is in force or its
    time has passed (the visit then happened or was missed: book another, or record the assessment)."""
    now = now or utcnow()
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "--reason: say why the visit is cancelled", fields={"reason": "Enter why the visit is cancelled"}
        )
    if len(reason) > REASON_LONGEST:
        words = f"The reason must be {REASON_LONGEST:,} characters or fewer"
        raise InvalidInput(
            f"--reason must be {REASON_LONGEST:,} characters or fewer", fields={"reason": words}
        )

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        visit = visit_in_force(connection, case_id)
        if visit is None:
            raise GuardFailed(
                "cannot cancel_assessment_visit: no visit is booked (or it is already cancelled)"
            )
        if visit.at <= now:
            when = visit.at.astimezone(ENGLAND)
            raise InvalidInput(
                f"the visit of {when:%d/%m/%Y %H:%M} has passed: book another visit, or record the assessment"
            )
        connection.execute(
            insert(VISIT_CANCELLATIONS),
            {
                "case_id": case_id,
                "appointment_id": visit.id,
                "cancelled_by": actor.username,
                "cancelled_at": now,
            },
        )
        return {"appointment": visit.id, "appointment_at": visit.at.isoformat()}

    return advance(
        db, actor, reference, "cancel_assessment_visit", TriggerInput(reason=reason), now=now,
        write_details=write, expected_version=expected_version,
    )  # fmt: skip
