"""The contractor register.

The register is shared by every district in the database and kept current (accreditations lapse and
are renewed, contractors are suspended), so its rows change; each change is an event on the ``system``
audit stream with what changed. The estimates contractors give on a case are in
:mod:`dfg.services.estimates`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dfg.errors import InvalidInput, NotFound
from dfg.rules.clock import local_day, utcnow
from dfg.rules.estimates import accreditation_current
from dfg.store.audit import SYSTEM_STREAM, NewEvent, append_to_system
from dfg.store.database import Database
from dfg.store.models import CONTRACTOR_STATUSES, CONTRACTORS, AuditHead, Contractor
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

REGISTER_ROLES = ("grant_officer", "admin")

# the column widths of the register (dfg/store/models.py), checked here so both databases say the same
_LIMITS = {
    "name": 120, "contact_name": 120, "address": 300, "phone": 30, "email": 120, "accreditation": 120,
}  # fmt: skip
_LABELS = {
    "name": "the name", "contact_name": "the contact", "address": "the address", "phone": "the phone number",
    "email": "the email address", "accreditation": "the accreditation",
}  # fmt: skip


def typed_text(value: str | None, field: str, limit: int | None = None) -> str | None:
    """A typed value with its spaces trimmed (a short field's runs of spaces made one); blank is ``None``."""
    if value is None or not value.strip():
        return None
    value = " ".join(value.split()) if limit is not None else value.strip()
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{_LABELS.get(field, field)} is longer than {limit} characters")
    return value


def _email(value: str | None) -> str | None:
    value = typed_text(value, "email", _LIMITS["email"])
    if value is not None and ("@" not in value or " " in value):
        raise InvalidInput(f"'{value}' is not an email address")
    return value


# ---------------------------------------------------------------------- the register


@dataclass(frozen=True)
class NewContractor:
    """A contractor to put on the register."""

    name: str
    contact_name: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    accreditation: str | None = None  # e.g. "TrustMark", a framework
    accreditation_expires: date | None = None


@dataclass(frozen=True)
class ContractorView:
    """A contractor as the register has it, and whether its accreditation is current on ``on``."""

    id: int
    name: str
    contact_name: str | None
    address: str | None
    phone: str | None
    email: str | None
    accreditation: str | None
    accreditation_expires: date | None
    status: str
    on: date
    accreditation_current: bool
    created_at: datetime
    updated_at: datetime

    @property
    def accreditation_text(self) -> str:
        """``TrustMark to 31/03/2027``, ``TrustMark, expired 31/01/2026``, or ``none``."""
        if self.accreditation is None:
            return "none"
        if self.accreditation_expires is None:
            return f"{self.accreditation} (no expiry date)"
        if self.accreditation_current:
            return f"{self.accreditation} to {self.accreditation_expires:%d/%m/%Y}"
        return f"{self.accreditation}, expired {self.accreditation_expires:%d/%m/%Y}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "contact_name": self.contact_name,
            "address": self.address,
            "phone": self.phone,
            "email": self.email,
            "accreditation": self.accreditation,
            "accreditation_expires": _iso(self.accreditation_expires),
            "status": self.status,
            "on": self.on.isoformat(),
            "accreditation_current": self.accreditation_current,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _view(row: Contractor | Row[Any], on: date) -> ContractorView:
    return ContractorView(
        id=row.id,
        name=row.name,
        contact_name=row.contact_name,
        address=row.address,
        phone=row.phone,
        email=row.email,
        accreditation=row.accreditation,
        accreditation_expires=row.accreditation_expires,
        status=row.status,
        on=on,
        accreditation_current=accreditation_current(row.accreditation, row.accreditation_expires, on),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_REGISTER_FIELDS = (
    "name", "contact_name", "address", "phone", "email", "accreditation", "accreditation_expires", "status",
)  # fmt: skip


def _entry(contractor: Contractor) -> dict[str, Any]:
    """What the audit trail says about a contractor: the register's fields, no timestamps."""
    return {"contractor": contractor.id, **{name: getattr(contractor, name) for name in _REGISTER_FIELDS}}


def _matching(names: Sequence[tuple[int, str]], name: str) -> int | None:
    # Names are compared in Python, not with SQL lower(): SQLite lowers only ASCII, and both databases
    # must find "Émile Builders" the same way. The register is small.
    wanted = " ".join(name.split()).casefold()
    return next((i for i, known in names if known.casefold() == wanted), None)


def _names(connection: Connection | Session) -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in connection.execute(select(CONTRACTORS.c.id, CONTRACTORS.c.name))]


def _lock_register(session: Session) -> None:
    # Register changes all append to the system stream, so holding its head from the start serialises
    # them: two officers adding "Acme" and "ACME" at once cannot both find the name free.
    session.execute(select(AuditHead.seq).where(AuditHead.stream == SYSTEM_STREAM).with_for_update())


def _tidied(values: Mapping[str, str | None], problems: dict[str, str]) -> dict[str, str | None]:
    """Each detail given tidied (blank is ``None``); what is wrong with one goes into ``problems``."""
    tidied: dict[str, str | None] = {}
    for field, value in values.items():
        try:
            tidied[field] = _email(value) if field == "email" else typed_text(value, field, _LIMITS[field])
        except InvalidInput as problem:
            problems[field] = problem.message
    return tidied


def check_details(details: Mapping[str, str | None]) -> None:
    """Refuse, with every problem at once by its detail, any typed detail of the register (``name``,
    ``contact_name``, ``address``, ``phone``, ``email``, ``accreditation``) that could not be recorded:
    a form checks them beside its own problems (a date it could not read) before anything is written."""
    problems: dict[str, str] = {}
    _tidied(details, problems)
    if problems:
        raise InvalidInput("; ".join(problems.values()), fields=problems)


def _checked(new: NewContractor) -> dict[str, Any]:
    """The new contractor's details, tidied; every problem at once, each by the detail it is about."""
    problems: dict[str, str] = {}
    details = ("name", "contact_name", "address", "phone", "email", "accreditation")
    fields: dict[str, Any] = _tidied({field: getattr(new, field) for field in details}, problems)
    if fields.get("name") is None and "name" not in problems:
        problems["name"] = "the contractor's name is required"
    if new.accreditation_expires is not None and not (new.accreditation or "").strip():
        problems["accreditation_expires"] = (
            "an accreditation expiry date needs the accreditation it is for (e.g. TrustMark)"
        )
    if problems:
        raise InvalidInput("; ".join(problems.values()), fields=problems)
    return {**fields, "accreditation_expires": new.accreditation_expires}


def add_contractor(
    db: Database, actor: Actor, new: NewContractor, *, now: datetime | None = None
) -> ContractorView:
    """Put a contractor on the register, active (role: grant officer or administrator).

    Names are unique whatever their capitals: "ACME Builders" is "Acme Builders"."""
    now = now or utcnow()
    role = require_role(actor, *REGISTER_ROLES)
    fields = _checked(new)
    with db.writing() as session:
        _lock_register(session)
        if _matching(_names(session), fields["name"]) is not None:
            raise InvalidInput(f"there is already a contractor '{fields['name']}' on the register")
        contractor = Contractor(**fields, status="active", created_at=now, updated_at=now)
        session.add(contractor)
        try:
            session.flush()
        except IntegrityError:  # the name was taken between the check and the insert
            raise InvalidInput(f"there is already a contractor '{fields['name']}' on the register") from None
        append_to_system(
            session,
            NewEvent(
                occurred_at=now, actor=actor.username, role=role, kind="contractor_added",
                payload=_entry(contractor),
            ),
        )  # fmt: skip
        return _view(contractor, local_day(now))


def _contractor_in(session: Session, name_or_id: str | int) -> Contractor:
    if isinstance(name_or_id, int):
        found = session.get(Contractor, name_or_id)
    else:
        contractor_id = _matching(_names(session), name_or_id)
        if contractor_id is None and name_or_id.strip().isdigit():
            contractor_id = int(name_or_id)
            if contractor_id > 2**63 - 1:  # beyond the database's keys: no such contractor
                contractor_id = None
        found = None if contractor_id is None else session.get(Contractor, contractor_id)
    if found is None:
        raise NotFound(f"no contractor '{name_or_id}' on the register (see 'dfg contractor list')")
    return found


def update_contractor(
    db: Database,
    actor: Actor,
    name: str | int,
    *,
    contact_name: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    accreditation: str | None = None,
    accreditation_expires: date | None = None,
    status: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> ContractorView:
    """Change a contractor's details, accreditation or status (role: grant officer or administrator).

    ``None`` leaves a field as it is; an empty text clears it (clearing the accreditation clears its
    expiry date too). ``status`` is active, suspended or removed; ``reason`` goes on the audit trail."""
    now = now or utcnow()
    role = require_role(actor, *REGISTER_ROLES)
    if status is not None and status not in CONTRACTOR_STATUSES:
        raise InvalidInput(f"status '{status}' is not one of: {', '.join(CONTRACTOR_STATUSES)}")
    problems: dict[str, str] = {}
    details = {"contact_name": contact_name, "address": address, "phone": phone, "email": email,
               "accreditation": accreditation}  # fmt: skip
    given: dict[str, Any] = _tidied({f: v for f, v in details.items() if v is not None}, problems)
    if problems:
        raise InvalidInput("; ".join(problems.values()), fields=problems)
    if accreditation_expires is not None:
        given["accreditation_expires"] = accreditation_expires
    if status is not None:
        given["status"] = status
    if not given:
        raise InvalidInput("nothing to change: give the details, accreditation or status to change")
    with db.writing() as session:
        _lock_register(session)
        contractor = _contractor_in(session, name)
        if "accreditation" in given and given["accreditation"] is None:
            if accreditation_expires is not None:
                raise InvalidInput("an accreditation expiry date needs the accreditation it is for")
            given["accreditation_expires"] = None
        if (
            given.get("accreditation_expires") is not None
            and given.get("accreditation", contractor.accreditation) is None
        ):
            raise InvalidInput(
                f"{contractor.name} has no accreditation recorded: give the accreditation its expiry date is for"
            )
        changed = {
            field: {"from": getattr(contractor, field), "to": value}
            for field, value in given.items()
            if getattr(contractor, field) != value
        }
        if not changed:
            raise InvalidInput(f"nothing changed: {contractor.name}'s register entry already says that")
        for field, value in given.items():
            setattr(contractor, field, value)
        contractor.updated_at = now
        session.flush()
        append_to_system(
            session,
            NewEvent(
                occurred_at=now, actor=actor.username, role=role, kind="contractor_updated",
                reason=typed_text(reason, "reason"),
                payload={"contractor": contractor.id, "name": contractor.name, "changed": changed},
            ),
        )  # fmt: skip
        return _view(contractor, local_day(now))


def list_contractors(
    db: Database, actor: Actor, *, include_removed: bool = False, on: date | None = None
) -> list[ContractorView]:
    """The register, by name, each saying whether its accreditation is current on ``on`` (default today).

    Removed contractors only with ``include_removed``."""
    on = on or local_day(utcnow())
    query = select(CONTRACTORS)
    if not include_removed:
        query = query.where(CONTRACTORS.c.status != "removed")
    with db.read_connection() as connection:
        rows = list(connection.execute(query))
    return [_view(row, on) for row in sorted(rows, key=lambda r: (r.name.casefold(), r.id))]


def find_contractor(
    db: Database, actor: Actor, name_or_id: str | int, *, on: date | None = None
) -> ContractorView:
    """One contractor, by name (any capitals) or by number."""
    with db.reading() as session:
        return _view(_contractor_in(session, name_or_id), on or local_day(utcnow()))


def contractor_on_register(connection: Connection, name: str) -> Row[Any]:
    """The register's row for the contractor called ``name`` (any case, any spacing); NotFound if none."""
    contractor_id = _matching(_names(connection), name)
    row = (
        None
        if contractor_id is None
        else connection.execute(select(CONTRACTORS).where(CONTRACTORS.c.id == contractor_id)).first()
    )
    if row is None:
        raise NotFound(f"no contractor '{name}' on the register (see 'dfg contractor list')")
    return row
