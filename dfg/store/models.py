"""The tables: districts, users and roles, properties, cases, people, and the append-only event log.

Money is integer pence (``*_pence``); instants are timezone-aware UTC (:class:`UTCDateTime`); days are
plain dates. Enumerations are strings with CHECK constraints, portable to SQLite and PostgreSQL. The
schema is made by the Alembic migrations in ``dfg/store/migrations``; a test checks they match.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("grant_officer", "ot", "technical_officer", "approver", "manager", "admin")
PRIORITIES = ("urgent", "non_urgent")
TENURES = ("owner", "tenant", "occupier", "landlord")

# Every state any shipped workflow definition uses. A new state needs a migration that widens the
# CHECK constraint; tests/test_workflow_definition.py fails until it is added here.
CASE_STATES = (
    "referral", "awaiting_assessment", "test_of_resources", "scheme_design", "application_incomplete",
    "application_valid", "refused", "under_review", "approved", "works_ordered", "on_site",
    "works_complete", "certified", "paid", "closed", "withdrawn", "cancelled",
)  # fmt: skip


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC and always read back timezone-aware (SQLite keeps it as text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store only takes timezone-aware instants")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class District(Base):
    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    approval_limit_pence: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")


class Property(Base):
    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_line_1: Mapped[str] = mapped_column(String(120))
    address_line_2: Mapped[str | None] = mapped_column(String(120))
    town: Mapped[str] = mapped_column(String(60))
    postcode: Mapped[str] = mapped_column(String(10))
    uprn: Mapped[str | None] = mapped_column(String(12))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("state", CASE_STATES), name="state"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("tenure", TENURES), name="tenure"),
        CheckConstraint("approved_grant_pence >= 0", name="approved_grant_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    workflow_version: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(40), index=True)
    priority: Mapped[str] = mapped_column(String(12))
    priority_reason: Mapped[str | None] = mapped_column(Text)
    referral_source: Mapped[str | None] = mapped_column(String(60))
    tenure: Mapped[str] = mapped_column(String(12))
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_review_date: Mapped[date | None] = mapped_column(Date)

    first_contact_date: Mapped[date] = mapped_column(Date)
    assessment_date: Mapped[date | None] = mapped_column(Date)
    test_of_resources_date: Mapped[date | None] = mapped_column(Date)
    application_received_date: Mapped[date | None] = mapped_column(Date)
    valid_application_date: Mapped[date | None] = mapped_column(Date)
    approval_date: Mapped[date | None] = mapped_column(Date)
    refusal_date: Mapped[date | None] = mapped_column(Date)
    works_ordered_date: Mapped[date | None] = mapped_column(Date)
    works_started_date: Mapped[date | None] = mapped_column(Date)
    works_completed_date: Mapped[date | None] = mapped_column(Date)
    certified_date: Mapped[date | None] = mapped_column(Date)
    paid_date: Mapped[date | None] = mapped_column(Date)
    closed_date: Mapped[date | None] = mapped_column(Date)

    approved_grant_pence: Mapped[int | None] = mapped_column(BigInteger)

    # The head of this case's hash-chained audit stream moves with the case row, so appending an event
    # costs no extra statement and the version check serialises writers to the chain.
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    property: Mapped[Property] = relationship()
    people: Mapped[list[Person]] = relationship(back_populates="case", order_by="Person.id")

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(20))
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    is_applicant: Mapped[bool] = mapped_column(Boolean, default=False)
    is_disabled_occupant: Mapped[bool] = mapped_column(Boolean, default=False)
    is_relevant_person: Mapped[bool] = mapped_column(Boolean, default=False)
    relationship_to_applicant: Mapped[str | None] = mapped_column(String(40))
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(120))
    communication_needs: Mapped[str | None] = mapped_column(String(200))  # e.g. "large_print"
    # Where letters to this person go when they do not live at the home to be adapted (a landlord).
    postal_address_line_1: Mapped[str | None] = mapped_column(String(120))
    postal_address_line_2: Mapped[str | None] = mapped_column(String(120))
    postal_town: Mapped[str | None] = mapped_column(String(60))
    postal_postcode: Mapped[str | None] = mapped_column(String(10))

    case: Mapped[Case] = relationship(back_populates="people")

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.given_name, self.family_name) if part)


class Event(Base):
    """One entry of the audit trail. Never updated or deleted: the database refuses both."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("stream", "seq", name="stream_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(String(30))  # a case reference, or "system"
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(60))
    role: Mapped[str | None] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str | None] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON: exactly the text that was hashed
    workflow_version: Mapped[str | None] = mapped_column(String(30))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The head of each audit stream that is not a case's (a case keeps its head on its own row)."""

    __tablename__ = "audit_heads"

    stream: Mapped[str] = mapped_column(String(30), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ReferenceCounter(Base):
    """The last case number issued per district and year: ``CAN-2026-0042``."""

    __tablename__ = "reference_counters"

    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Assessment(Base):
    """An OT's (or trusted assessor's) assessment: the s.23 purposes and the "necessary and appropriate"
    finding (s.24(3)(a)), each with reasons. Never changed: a new assessment supersedes it."""

    __tablename__ = "assessments"
    __table_args__ = (CheckConstraint(_in("priority", PRIORITIES), name="priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    assessor: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(120))
    purposes: Mapped[str] = mapped_column(String(60))  # s.23 purpose codes, comma separated: "d,e,f"
    priority: Mapped[str] = mapped_column(String(12))
    priority_reason: Mapped[str | None] = mapped_column(Text)
    necessary_and_appropriate: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    works: Mapped[list[RecommendedWork]] = relationship(order_by="RecommendedWork.id")


class RecommendedWork(Base):
    __tablename__ = "recommended_works"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    work: Mapped[str] = mapped_column(String(40))  # a code of workflows/catalogue.toml
    description: Mapped[str | None] = mapped_column(Text)


class FeasibilityFinding(Base):
    """The technical officer's "reasonable and practicable" finding (s.24(3)(b)), with reasons."""

    __tablename__ = "feasibility_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decided_on: Mapped[date] = mapped_column(Date)
    reasonable_and_practicable: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Determination(Base):
    """A test of resources on a case: the household as given and the result with its workings.

    Never changed. Once the grant is approved, a further determination needs a reason code."""

    __tablename__ = "determinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    determined_on: Mapped[date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean)
    rates_version: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    contribution_pence: Mapped[int] = mapped_column(BigInteger)
    household: Mapped[str] = mapped_column(Text)  # canonical JSON, as given
    result: Mapped[str] = mapped_column(Text)  # canonical JSON of the determination and its trace
    code: Mapped[str | None] = mapped_column(String(40))  # why a locked determination was redone
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GrantCalculationRecord(Base):
    """A grant calculated for a case: the works, the charges, the contribution from the determination in
    force, the maximum, and every figure's working. Never changed; the approval names the one it used."""

    __tablename__ = "grant_calculations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    determination_id: Mapped[int] = mapped_column(ForeignKey("determinations.id"))
    calculated_on: Mapped[date] = mapped_column(Date)
    works_pence: Mapped[int] = mapped_column(BigInteger)
    estimated_expense_pence: Mapped[int] = mapped_column(BigInteger)
    contribution_pence: Mapped[int] = mapped_column(BigInteger)
    grant_pence: Mapped[int] = mapped_column(BigInteger)
    total_assistance_pence: Mapped[int] = mapped_column(BigInteger)
    is_nil: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(Text)  # canonical JSON of the calculation and its workings
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Letter(Base):
    """A letter the workflow produced, as it was sent: the PDF itself and its SHA-256 (which is also in the
    case's audit chain, on the ``letter_produced`` event). Never changed.

    An original is produced once for each (transition event, kind) the event names, so the event log is
    the queue and this table says what has been done; a reprint is a new row pointing at its original
    with ``copy_of``, which is why the uniqueness covers originals only."""

    __tablename__ = "letters"
    __table_args__ = (
        CheckConstraint(_in("recipient_role", ("applicant", "contractor")), name="recipient_role"),
        # and a unique index on (event_id, kind) for originals: see dfg/store/migrate.py
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))  # the step that called for the letter
    kind: Mapped[str] = mapped_column(String(40))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_role: Mapped[str] = mapped_column(String(12))
    template_version: Mapped[str] = mapped_column(String(64))  # digest of the template sources used
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the post room asks "since when"
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    copy_of: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))


CONTRACTOR_STATUSES = ("active", "suspended", "removed")
APPROVAL_KINDS = ("approval", "variation")
PAYMENT_KINDS = ("interim", "final")
PAYEES = ("contractor", "applicant")
REPAYMENT_CHOICES = ("full", "part", "waive")
BUDGET_ENTRY_KINDS = ("allocation", "commitment", "adjustment", "payment", "release")


class Contractor(Base):
    """A contractor on the council's register. The register is kept up to date (accreditations lapse and
    are renewed), so rows change; every change is an event on the ``system`` audit stream."""

    __tablename__ = "contractors"
    __table_args__ = (CheckConstraint(_in("status", CONTRACTOR_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(120))
    accreditation: Mapped[str | None] = mapped_column(String(120))  # e.g. "TrustMark", a framework
    accreditation_expires: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Estimate(Base):
    """A contractor's priced estimate for the works on a case. Never changed: a revised price is a new
    estimate."""

    __tablename__ = "estimates"
    __table_args__ = (CheckConstraint("price_pence >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractors.id"))
    price_pence: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    contractor_reference: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EstimateDecision(Base):
    """The council's decision on a case's estimates: a ``waiver`` (a direction that fewer than two
    estimates will do, with its reason) or a ``selection`` of one estimate. The eligible works are the
    lowest acceptable estimate; choosing a dearer one needs a reason and leaves the difference to the
    applicant. The latest decision of each kind is in force."""

    __tablename__ = "estimate_decisions"
    __table_args__ = (CheckConstraint(_in("kind", ("waiver", "selection")), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    estimate_id: Mapped[int | None] = mapped_column(ForeignKey("estimates.id"))
    eligible_works_pence: Mapped[int | None] = mapped_column(BigInteger)
    applicant_pays_pence: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Approval(Base):
    """One version of the approved grant: the approval itself (version 1) and each approved variation
    after it. Records what the approval notice must state, and who signed. Never changed."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("case_id", "version", name="case_version"),
        CheckConstraint(_in("kind", APPROVAL_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    grant_calculation_id: Mapped[int] = mapped_column(ForeignKey("grant_calculations.id"))
    decided_on: Mapped[date] = mapped_column(Date)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"))
    works_pence: Mapped[int] = mapped_column(BigInteger)
    charges_pence: Mapped[int] = mapped_column(BigInteger)
    contribution_pence: Mapped[int] = mapped_column(BigInteger)
    grant_pence: Mapped[int] = mapped_column(BigInteger)  # the mandatory grant
    total_assistance_pence: Mapped[int] = mapped_column(BigInteger)  # grant + discretionary lines
    funding: Mapped[str] = mapped_column(Text)  # canonical JSON: {"mandatory": pence, "top_up": pence, ...}
    deferred_payment_date: Mapped[date | None] = mapped_column(Date)
    pay_contractor_directly: Mapped[bool] = mapped_column(Boolean)
    conditions: Mapped[str] = mapped_column(Text)  # canonical JSON list of the conditions as stated
    works_begun_reason: Mapped[str | None] = mapped_column(Text)  # the good reason, when works had begun
    variation: Mapped[str | None] = mapped_column(Text)  # what changed, for a variation
    variation_price_pence: Mapped[int | None] = mapped_column(BigInteger)
    approved_by: Mapped[str] = mapped_column(String(60))
    second_approver: Mapped[str | None] = mapped_column(String(60))  # above the first's delegated limit
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    """Money paid out on a case: an interim payment against a valuation of the work done, or the final
    payment after the certified date. Never changed."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("kind", PAYMENT_KINDS), name="kind"),
        CheckConstraint(_in("payee", PAYEES), name="payee"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"))  # the version in force
    kind: Mapped[str] = mapped_column(String(8))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    work_done_pence: Mapped[int | None] = mapped_column(BigInteger)  # the valuation, for an interim payment
    payee: Mapped[str] = mapped_column(String(12))
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"))
    paid_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invoice(Base):
    """An invoice received for the works (never for the applicant's or a relative's own labour)."""

    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"))
    supplier: Mapped[str] = mapped_column(String(120))
    invoice_reference: Mapped[str] = mapped_column(String(60))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AssessmentAppointment(Base):
    """A visit booked for the OT (or trusted assessor) assessment. Rebooking adds a row; never changed."""

    __tablename__ = "assessment_appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    appointment_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assessor_name: Mapped[str] = mapped_column(String(120))
    assessor_role: Mapped[str] = mapped_column(String(60))  # "occupational therapist", "trusted assessor"
    assessor_organisation: Mapped[str] = mapped_column(String(120))
    location: Mapped[str] = mapped_column(String(300))  # "At your home", or an address
    booked_by: Mapped[str] = mapped_column(String(60))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LandCharge(Base):
    """A local land charge registered on an owner's home for the repayable part of the grant."""

    __tablename__ = "land_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    repayable_pence: Mapped[int] = mapped_column(BigInteger)
    terms_version: Mapped[str] = mapped_column(String(40))
    registered_on: Mapped[date] = mapped_column(Date)
    registry_reference: Mapped[str] = mapped_column(String(60))
    condition_end: Mapped[date] = mapped_column(Date)  # certified date + 5 years
    expires_on: Mapped[date] = mapped_column(Date)  # certified date + 10 years
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepaymentDecision(Base):
    """What the council decided after a disposal within the charge's period: demand in full, in part, or
    waive, with the factors it weighed."""

    __tablename__ = "repayment_decisions"
    __table_args__ = (
        CheckConstraint(_in("decision", REPAYMENT_CHOICES), name="decision"),
        CheckConstraint("demanded_pence >= 0", name="demanded_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    land_charge_id: Mapped[int] = mapped_column(ForeignKey("land_charges.id"))
    disposal_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(8))
    demanded_pence: Mapped[int] = mapped_column(BigInteger)
    factors: Mapped[str] = mapped_column(String(200))  # codes, comma separated: "hardship,health"
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Budget(Base):
    """A district's budget for one funding line in one financial year (``financial_year`` is the year it
    starts: 2026 is April 2026 to March 2027). The running totals move only with a ``budget_entries``
    row in the same transaction, so the ledger always sums to them (a test checks)."""

    __tablename__ = "budgets"

    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    financial_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    funding_line: Mapped[str] = mapped_column(String(40), primary_key=True)
    allocation_pence: Mapped[int] = mapped_column(BigInteger)
    committed_pence: Mapped[int] = mapped_column(BigInteger)
    spent_pence: Mapped[int] = mapped_column(BigInteger)


class BudgetEntry(Base):
    """One movement of a budget: an allocation (or a change to it), a commitment at approval, an
    adjustment for a variation, a payment (moves committed to spent) or a release. Never changed."""

    __tablename__ = "budget_entries"
    __table_args__ = (CheckConstraint(_in("kind", BUDGET_ENTRY_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    financial_year: Mapped[int] = mapped_column(Integer)
    funding_line: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    amount_pence: Mapped[int] = mapped_column(BigInteger)  # signed: a release or reduction is negative
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    override_reason: Mapped[str | None] = mapped_column(Text)  # a manager's, when it over-commits
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Tables whose rows are decisions: never updated or deleted (the database refuses both).
APPEND_ONLY = (
    "events", "assessments", "recommended_works", "feasibility_findings", "determinations", "grant_calculations",
    "letters", "estimates", "estimate_decisions", "approvals", "payments", "invoices", "land_charges",
    "repayment_decisions", "budget_entries", "assessment_appointments",
)  # fmt: skip

# Typed handles on the tables, for the Core statements of the hot paths (advance, audit append).
CASES = cast(Table, Case.__table__)
PEOPLE = cast(Table, Person.__table__)
EVENTS = cast(Table, Event.__table__)
USERS = cast(Table, User.__table__)
ASSESSMENTS = cast(Table, Assessment.__table__)
RECOMMENDED_WORKS = cast(Table, RecommendedWork.__table__)
FEASIBILITY_FINDINGS = cast(Table, FeasibilityFinding.__table__)
DETERMINATIONS = cast(Table, Determination.__table__)
GRANT_CALCULATIONS = cast(Table, GrantCalculationRecord.__table__)
LETTERS = cast(Table, Letter.__table__)
APPOINTMENTS = cast(Table, AssessmentAppointment.__table__)
CONTRACTORS = cast(Table, Contractor.__table__)
ESTIMATES = cast(Table, Estimate.__table__)
ESTIMATE_DECISIONS = cast(Table, EstimateDecision.__table__)
APPROVALS = cast(Table, Approval.__table__)
PAYMENTS = cast(Table, Payment.__table__)
INVOICES = cast(Table, Invoice.__table__)
LAND_CHARGES = cast(Table, LandCharge.__table__)
REPAYMENT_DECISIONS = cast(Table, RepaymentDecision.__table__)
BUDGETS = cast(Table, Budget.__table__)
BUDGET_ENTRIES = cast(Table, BudgetEntry.__table__)
