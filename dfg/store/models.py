"""The records of the store as Python objects, for the services that use the ORM's unit of work.

Each class is mapped onto its Core table in :mod:`dfg.store.tables` (imperatively, which costs a third
of what declarative classes cost to import), and the table names are re-exported here, so code may
import either. Code that only runs Core statements should import :mod:`dfg.store.tables` and never pay
for the mappers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import Mapped, registry, relationship

from dfg.store.tables import (
    APPEND_ONLY,
    APPOINTMENTS,
    APPROVAL_KINDS,
    APPROVALS,
    ASSESSMENTS,
    AUDIT_HEADS,
    BUDGET_ENTRIES,
    BUDGET_ENTRY_KINDS,
    BUDGETS,
    CASE_STATES,
    CASES,
    CONTRACTOR_STATUSES,
    CONTRACTORS,
    DETERMINATIONS,
    DISTRICTS,
    ESTIMATE_DECISIONS,
    ESTIMATES,
    EVENTS,
    FEASIBILITY_FINDINGS,
    GRANT_CALCULATIONS,
    INVOICES,
    LAND_CHARGES,
    LANDLORD_DECISIONS,
    LETTERS,
    METADATA,
    PAID_FOR_WORKS,
    PAYEES,
    PAYMENT_KINDS,
    PAYMENTS,
    PEOPLE,
    PRIORITIES,
    PROPERTIES,
    RECOMMENDED_WORKS,
    REFERENCE_COUNTERS,
    REPAYMENT_CHOICES,
    REPAYMENT_DECISIONS,
    ROLES,
    TENURES,
    USER_ROLES,
    USERS,
    UTCDateTime,
)

# the tables and their enumerations are re-exported: services import them from here today
__all__ = [
    "APPEND_ONLY",
    "APPOINTMENTS",
    "APPROVALS",
    "APPROVAL_KINDS",
    "ASSESSMENTS",
    "AUDIT_HEADS",
    "BUDGETS",
    "BUDGET_ENTRIES",
    "BUDGET_ENTRY_KINDS",
    "CASES",
    "CASE_STATES",
    "CONTRACTORS",
    "CONTRACTOR_STATUSES",
    "DETERMINATIONS",
    "DISTRICTS",
    "ESTIMATES",
    "ESTIMATE_DECISIONS",
    "EVENTS",
    "FEASIBILITY_FINDINGS",
    "GRANT_CALCULATIONS",
    "INVOICES",
    "LANDLORD_DECISIONS",
    "LAND_CHARGES",
    "LETTERS",
    "PAID_FOR_WORKS",
    "PAYEES",
    "PAYMENTS",
    "PAYMENT_KINDS",
    "PEOPLE",
    "PRIORITIES",
    "PROPERTIES",
    "RECOMMENDED_WORKS",
    "REFERENCE_COUNTERS",
    "REPAYMENT_CHOICES",
    "REPAYMENT_DECISIONS",
    "ROLES",
    "TENURES",
    "USERS",
    "USER_ROLES",
    "Approval",
    "Assessment",
    "AssessmentAppointment",
    "AuditHead",
    "Base",
    "Budget",
    "BudgetEntry",
    "Case",
    "Contractor",
    "Determination",
    "District",
    "Estimate",
    "EstimateDecision",
    "Event",
    "FeasibilityFinding",
    "GrantCalculationRecord",
    "Invoice",
    "LandCharge",
    "Letter",
    "Payment",
    "Person",
    "Property",
    "RecommendedWork",
    "ReferenceCounter",
    "RepaymentDecision",
    "UTCDateTime",
    "User",
    "UserRole",
]


class Base:
    """What every record shares: the tables' metadata, and a constructor taking columns by name."""

    metadata: MetaData = METADATA

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        for name, value in values.items():
            if not hasattr(cls, name):
                raise TypeError(f"{name!r} is not a column or relationship of {cls.__name__}")
            setattr(self, name, value)


class District(Base):
    code: Mapped[str]
    name: Mapped[str]


class User(Base):
    id: Mapped[int]
    username: Mapped[str]
    full_name: Mapped[str]
    district_code: Mapped[str | None]
    approval_limit_pence: Mapped[int | None]
    active: Mapped[bool]
    created_at: Mapped[datetime]
    roles: Mapped[list[UserRole]]


class UserRole(Base):
    user_id: Mapped[int]
    role: Mapped[str]
    user: Mapped[User]


class Property(Base):
    id: Mapped[int]
    address_line_1: Mapped[str]
    address_line_2: Mapped[str | None]
    town: Mapped[str]
    postcode: Mapped[str]
    uprn: Mapped[str | None]
    district_code: Mapped[str]


class Case(Base):
    id: Mapped[int]
    reference: Mapped[str]
    district_code: Mapped[str]
    property_id: Mapped[int]
    workflow_version: Mapped[str]
    state: Mapped[str]
    priority: Mapped[str]
    priority_reason: Mapped[str | None]
    referral_source: Mapped[str | None]
    legacy_reference: Mapped[str | None]
    tenure: Mapped[str]
    assigned_to: Mapped[int | None]
    hold_since: Mapped[datetime | None]
    hold_review_date: Mapped[date | None]
    first_contact_date: Mapped[date]
    assessment_date: Mapped[date | None]
    test_of_resources_date: Mapped[date | None]
    application_received_date: Mapped[date | None]
    valid_application_date: Mapped[date | None]
    approval_date: Mapped[date | None]
    refusal_date: Mapped[date | None]
    works_ordered_date: Mapped[date | None]
    works_started_date: Mapped[date | None]
    works_completed_date: Mapped[date | None]
    certified_date: Mapped[date | None]
    paid_date: Mapped[date | None]
    closed_date: Mapped[date | None]
    approved_grant_pence: Mapped[int | None]
    audit_seq: Mapped[int]
    audit_head: Mapped[str]
    version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    property: Mapped[Property]
    people: Mapped[list[Person]]


class Person(Base):
    id: Mapped[int]
    case_id: Mapped[int]
    title: Mapped[str | None]
    given_name: Mapped[str]
    family_name: Mapped[str]
    date_of_birth: Mapped[date | None]
    is_applicant: Mapped[bool]
    is_disabled_occupant: Mapped[bool]
    is_relevant_person: Mapped[bool]
    relationship_to_applicant: Mapped[str | None]
    nhs_number: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    communication_needs: Mapped[str | None]
    preferred_contact: Mapped[str | None]
    advocate: Mapped[str | None]
    format_note: Mapped[str | None]
    postal_address_line_1: Mapped[str | None]
    postal_address_line_2: Mapped[str | None]
    postal_town: Mapped[str | None]
    postal_postcode: Mapped[str | None]
    case: Mapped[Case]

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.given_name, self.family_name) if part)


class Event(Base):
    """One entry of the audit trail. Never updated or deleted: the database refuses both."""

    id: Mapped[int]
    stream: Mapped[str]
    seq: Mapped[int]
    case_id: Mapped[int | None]
    occurred_at: Mapped[datetime]
    actor: Mapped[str]
    role: Mapped[str | None]
    kind: Mapped[str]
    trigger: Mapped[str | None]
    from_state: Mapped[str | None]
    to_state: Mapped[str | None]
    reason: Mapped[str | None]
    code: Mapped[str | None]
    payload: Mapped[str]
    workflow_version: Mapped[str | None]
    prev_hash: Mapped[str]
    hash: Mapped[str]


class AuditHead(Base):
    """The head of each audit stream that is not a case's (a case keeps its head on its own row)."""

    stream: Mapped[str]
    seq: Mapped[int]
    hash: Mapped[str]


class ReferenceCounter(Base):
    """The last case number issued per district and year: ``CAN-2026-0042``."""

    district_code: Mapped[str]
    year: Mapped[int]
    last_number: Mapped[int]


class Assessment(Base):
    """An OT's (or trusted assessor's) assessment: the s.23 purposes and the "necessary and appropriate"
    finding (s.24(3)(a)), each with reasons. Never changed: a new assessment supersedes it."""

    id: Mapped[int]
    case_id: Mapped[int]
    assessed_on: Mapped[date]
    assessor: Mapped[str]
    organisation: Mapped[str]
    purposes: Mapped[str]
    priority: Mapped[str]
    priority_reason: Mapped[str | None]
    necessary_and_appropriate: Mapped[bool]
    reasons: Mapped[str]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]
    works: Mapped[list[RecommendedWork]]


class RecommendedWork(Base):
    id: Mapped[int]
    assessment_id: Mapped[int]
    work: Mapped[str]
    description: Mapped[str | None]


class FeasibilityFinding(Base):
    """The technical officer's "reasonable and practicable" finding (s.24(3)(b)), with reasons."""

    id: Mapped[int]
    case_id: Mapped[int]
    decided_on: Mapped[date]
    reasonable_and_practicable: Mapped[bool]
    reasons: Mapped[str]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class Determination(Base):
    """A test of resources on a case: the household as given and the result with its workings.

    Never changed. Once the grant is approved, a further determination needs a reason code."""

    id: Mapped[int]
    case_id: Mapped[int]
    determined_on: Mapped[date]
    provisional: Mapped[bool]
    rates_version: Mapped[str]
    outcome: Mapped[str]
    contribution_pence: Mapped[int]
    household: Mapped[str]
    result: Mapped[str]
    code: Mapped[str | None]
    reason: Mapped[str | None]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class GrantCalculationRecord(Base):
    """A grant calculated for a case: the works, the charges, the contribution from the determination in
    force, the maximum, and every figure's working. Never changed; the approval names the one it used."""

    id: Mapped[int]
    case_id: Mapped[int]
    determination_id: Mapped[int]
    calculated_on: Mapped[date]
    works_pence: Mapped[int]
    estimated_expense_pence: Mapped[int]
    contribution_pence: Mapped[int]
    grant_pence: Mapped[int]
    total_assistance_pence: Mapped[int]
    is_nil: Mapped[bool]
    result: Mapped[str]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class Letter(Base):
    """A letter the workflow produced, as it was sent: the PDF itself and its SHA-256 (which is also in the
    case's audit chain, on the ``letter_produced`` event). Never changed.

    An original is produced once for each (transition event, kind) the event names, so the event log is
    the queue and this table says what has been done; a reprint is a new row pointing at its original
    with ``copy_of``, which is why the uniqueness covers originals only."""

    id: Mapped[int]
    case_id: Mapped[int]
    event_id: Mapped[int]
    kind: Mapped[str]
    recipient_name: Mapped[str]
    recipient_role: Mapped[str]
    template_version: Mapped[str]
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    pdf: Mapped[bytes]
    sha256: Mapped[str]
    copy_of: Mapped[int | None]


class Contractor(Base):
    """A contractor on the council's register. The register is kept up to date (accreditations lapse and
    are renewed), so rows change; every change is an event on the ``system`` audit stream."""

    id: Mapped[int]
    name: Mapped[str]
    contact_name: Mapped[str | None]
    address: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    accreditation: Mapped[str | None]
    accreditation_expires: Mapped[date | None]
    status: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Estimate(Base):
    """A contractor's priced estimate for the works on a case. Never changed: a revised price is a new
    estimate."""

    id: Mapped[int]
    case_id: Mapped[int]
    contractor_id: Mapped[int]
    price_pence: Mapped[int]
    received_on: Mapped[date]
    contractor_reference: Mapped[str | None]
    notes: Mapped[str | None]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class EstimateDecision(Base):
    """The council's decision on a case's estimates: a ``waiver`` (a direction that fewer than two
    estimates will do, with its reason) or a ``selection`` of one estimate. The eligible works are the
    lowest acceptable estimate; choosing a dearer one needs a reason and leaves the difference to the
    applicant. The latest decision of each kind is in force."""

    id: Mapped[int]
    case_id: Mapped[int]
    kind: Mapped[str]
    estimate_id: Mapped[int | None]
    eligible_works_pence: Mapped[int | None]
    applicant_pays_pence: Mapped[int | None]
    reason: Mapped[str | None]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class Approval(Base):
    """One version of the approved grant: the approval itself (version 1) and each approved variation
    after it. Records what the approval notice must state, and who signed. Never changed."""

    id: Mapped[int]
    case_id: Mapped[int]
    version: Mapped[int]
    kind: Mapped[str]
    grant_calculation_id: Mapped[int]
    decided_on: Mapped[date]
    contractor_id: Mapped[int | None]
    works_pence: Mapped[int]
    charges_pence: Mapped[int]
    contribution_pence: Mapped[int]
    grant_pence: Mapped[int]
    total_assistance_pence: Mapped[int]
    funding: Mapped[str]
    deferred_payment_date: Mapped[date | None]
    pay_contractor_directly: Mapped[bool]
    conditions: Mapped[str]
    works_begun_reason: Mapped[str | None]
    variation: Mapped[str | None]
    variation_price_pence: Mapped[int | None]
    approved_by: Mapped[str]
    second_approver: Mapped[str | None]
    recorded_at: Mapped[datetime]


class Payment(Base):
    """Money paid out on a case: an interim payment against a valuation of the work done, or the final
    payment after the certified date. Never changed."""

    id: Mapped[int]
    case_id: Mapped[int]
    approval_id: Mapped[int]
    kind: Mapped[str]
    amount_pence: Mapped[int]
    work_done_pence: Mapped[int | None]
    payee: Mapped[str]
    contractor_id: Mapped[int | None]
    paid_on: Mapped[date]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class Invoice(Base):
    """An invoice received for the works (never for the applicant's or a relative's own labour)."""

    id: Mapped[int]
    case_id: Mapped[int]
    contractor_id: Mapped[int | None]
    supplier: Mapped[str]
    invoice_reference: Mapped[str]
    amount_pence: Mapped[int]
    received_on: Mapped[date]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class AssessmentAppointment(Base):
    """A visit booked for the OT (or trusted assessor) assessment. Rebooking adds a row; never changed."""

    id: Mapped[int]
    case_id: Mapped[int]
    appointment_at: Mapped[datetime]
    assessor_name: Mapped[str]
    assessor_role: Mapped[str]
    assessor_organisation: Mapped[str]
    location: Mapped[str]
    booked_by: Mapped[str]
    booked_at: Mapped[datetime]


class LandCharge(Base):
    """A local land charge registered on an owner's home for the repayable part of the grant."""

    id: Mapped[int]
    case_id: Mapped[int]
    repayable_pence: Mapped[int]
    terms_version: Mapped[str]
    registered_on: Mapped[date]
    registry_reference: Mapped[str]
    condition_end: Mapped[date]
    expires_on: Mapped[date]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class RepaymentDecision(Base):
    """What the council decided after a disposal within the charge's period: demand in full, in part, or
    waive, with the factors it weighed."""

    id: Mapped[int]
    case_id: Mapped[int]
    land_charge_id: Mapped[int]
    disposal_on: Mapped[date]
    decision: Mapped[str]
    demanded_pence: Mapped[int]
    factors: Mapped[str]
    reason: Mapped[str]
    decided_on: Mapped[date]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


class Budget(Base):
    """A district's budget for one funding line in one financial year (``financial_year`` is the year it
    starts: 2026 is April 2026 to March 2027). The running totals move only with a ``budget_entries``
    row in the same transaction, so the ledger always sums to them (a test checks)."""

    district_code: Mapped[str]
    financial_year: Mapped[int]
    funding_line: Mapped[str]
    allocation_pence: Mapped[int]
    committed_pence: Mapped[int]
    spent_pence: Mapped[int]


class BudgetEntry(Base):
    """One movement of a budget: an allocation (or a change to it), a commitment at approval, an
    adjustment for a variation, a payment (moves committed to spent) or a release. Never changed."""

    id: Mapped[int]
    district_code: Mapped[str]
    financial_year: Mapped[int]
    funding_line: Mapped[str]
    kind: Mapped[str]
    amount_pence: Mapped[int]
    case_id: Mapped[int | None]
    approval_id: Mapped[int | None]
    payment_id: Mapped[int | None]
    override_reason: Mapped[str | None]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


_registry = registry(metadata=METADATA)
_registry.map_imperatively(District, DISTRICTS)
_registry.map_imperatively(
    User,
    USERS,
    properties={"roles": relationship(UserRole, back_populates="user", cascade="all, delete-orphan")},
)
_registry.map_imperatively(
    UserRole, USER_ROLES, properties={"user": relationship(User, back_populates="roles")}
)
_registry.map_imperatively(Property, PROPERTIES)
_registry.map_imperatively(
    Case,
    CASES,
    properties={
        "property": relationship(Property),
        "people": relationship(Person, back_populates="case", order_by=PEOPLE.c.id),
    },
    version_id_col=CASES.c.version,
)
_registry.map_imperatively(Person, PEOPLE, properties={"case": relationship(Case, back_populates="people")})
_registry.map_imperatively(Event, EVENTS)
_registry.map_imperatively(AuditHead, AUDIT_HEADS)
_registry.map_imperatively(ReferenceCounter, REFERENCE_COUNTERS)
_registry.map_imperatively(
    Assessment,
    ASSESSMENTS,
    properties={"works": relationship(RecommendedWork, order_by=RECOMMENDED_WORKS.c.id)},
)
_registry.map_imperatively(RecommendedWork, RECOMMENDED_WORKS)
_registry.map_imperatively(FeasibilityFinding, FEASIBILITY_FINDINGS)
_registry.map_imperatively(Determination, DETERMINATIONS)
_registry.map_imperatively(GrantCalculationRecord, GRANT_CALCULATIONS)
_registry.map_imperatively(Letter, LETTERS)
_registry.map_imperatively(Contractor, CONTRACTORS)
_registry.map_imperatively(Estimate, ESTIMATES)
_registry.map_imperatively(EstimateDecision, ESTIMATE_DECISIONS)
_registry.map_imperatively(Approval, APPROVALS)
_registry.map_imperatively(Payment, PAYMENTS)
_registry.map_imperatively(Invoice, INVOICES)
_registry.map_imperatively(AssessmentAppointment, APPOINTMENTS)
_registry.map_imperatively(LandCharge, LAND_CHARGES)
_registry.map_imperatively(RepaymentDecision, REPAYMENT_DECISIONS)
_registry.map_imperatively(Budget, BUDGETS)
_registry.map_imperatively(BudgetEntry, BUDGET_ENTRIES)
