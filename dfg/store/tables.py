"""The tables: districts, users and roles, properties, cases, people, and the append-only event log.

SQLAlchemy Core ``Table`` objects only, so the code that reads and writes with Core statements (the hot
paths, the reports) need not build the ORM's mappers; the record classes in :mod:`dfg.store.models` are
mapped onto these tables. Money is integer pence (``*_pence``); instants are timezone-aware UTC
(:class:`UTCDateTime`); days are plain dates. Enumerations are strings with CHECK constraints, portable
to SQLite and PostgreSQL. The schema is made by the Alembic migrations in ``dfg/store/migrations``; a
test checks they match.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

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


CONTRACTOR_STATUSES = ("active", "suspended", "removed")
APPROVAL_KINDS = ("approval", "variation")
PAYMENT_KINDS = ("interim", "final")
#: Who a payment goes to: the works to the contractor (or the applicant, when the council does not pay
#: the contractor directly); each fee to the agency, the professional or the authority it is due to.
PAYEES = ("contractor", "applicant", "agency", "professional", "authority")
#: What a payment pays for: the works, or a charge's kind (agency_fee, survey, ...).
PAID_FOR_WORKS = "works"
REPAYMENT_CHOICES = ("full", "part", "waive")
BUDGET_ENTRY_KINDS = ("allocation", "commitment", "adjustment", "payment", "release")

METADATA = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


DISTRICTS = Table(
    "districts",
    METADATA,
    Column("code", String(8), primary_key=True),
    Column("name", String(100), nullable=False),
)


USERS = Table(
    "users",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("username", String(60), unique=True, nullable=False),
    Column("full_name", String(120), nullable=False),
    Column("district_code", ForeignKey("districts.code"), nullable=True),
    Column("approval_limit_pence", BigInteger, nullable=True),
    Column("active", Boolean, default=True, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


USER_ROLES = Table(
    "user_roles",
    METADATA,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("role", String(30), primary_key=True),
    CheckConstraint(_in("role", ROLES), name="role"),
)


PROPERTIES = Table(
    "properties",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("address_line_1", String(120), nullable=False),
    Column("address_line_2", String(120), nullable=True),
    Column("town", String(60), nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("uprn", String(12), nullable=True),
    Column("district_code", ForeignKey("districts.code"), nullable=False),
)


CASES = Table(
    "cases",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("reference", String(20), unique=True, nullable=False),
    Column("district_code", ForeignKey("districts.code"), index=True, nullable=False),
    Column("property_id", ForeignKey("properties.id"), nullable=False),
    Column("workflow_version", String(30), nullable=False),
    Column("state", String(40), index=True, nullable=False),
    Column("priority", String(12), nullable=False),
    Column("priority_reason", Text, nullable=True),
    Column("referral_source", String(60), nullable=True),
    #: Its reference in the system it was brought in from, if any (``dfg import cases``).
    Column("legacy_reference", String(40), nullable=True),
    Column("tenure", String(12), nullable=False),
    Column("assigned_to", ForeignKey("users.id"), nullable=True),
    Column("hold_since", UTCDateTime, nullable=True),
    Column("hold_review_date", Date, nullable=True),
    Column("first_contact_date", Date, nullable=False),
    Column("assessment_date", Date, nullable=True),
    Column("test_of_resources_date", Date, nullable=True),
    Column("application_received_date", Date, nullable=True),
    Column("valid_application_date", Date, nullable=True),
    Column("approval_date", Date, nullable=True),
    Column("refusal_date", Date, nullable=True),
    Column("works_ordered_date", Date, nullable=True),
    Column("works_started_date", Date, nullable=True),
    Column("works_completed_date", Date, nullable=True),
    Column("certified_date", Date, nullable=True),
    Column("paid_date", Date, nullable=True),
    Column("closed_date", Date, nullable=True),
    Column("approved_grant_pence", BigInteger, nullable=True),
    # The earliest day any of the case's worklist clocks (or its hold's review) can fall due, as worked
    # out from its history; NULL until worked out again after each event (dfg.services.worklist). A
    # worklist reads only the cases it brings within its horizon.
    Column("next_due", Date, nullable=True),
    # The head of this case's hash-chained audit stream moves with the case row, so appending an event
    # costs no extra statement and the version check serialises writers to the chain.
    Column("audit_seq", Integer, default=0, nullable=False),
    Column("audit_head", String(64), default="", nullable=False),
    Column("version", Integer, default=1, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("state", CASE_STATES), name="state"),
    CheckConstraint(_in("priority", PRIORITIES), name="priority"),
    CheckConstraint(_in("tenure", TENURES), name="tenure"),
    CheckConstraint("approved_grant_pence >= 0", name="approved_grant_not_negative"),
    Index("ix_cases_district_next_due", "district_code", "next_due"),
)


PEOPLE = Table(
    "people",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("title", String(20), nullable=True),
    Column("given_name", String(80), nullable=False),
    Column("family_name", String(80), nullable=False),
    Column("date_of_birth", Date, nullable=True),
    Column("is_applicant", Boolean, default=False, nullable=False),
    Column("is_disabled_occupant", Boolean, default=False, nullable=False),
    Column("is_relevant_person", Boolean, default=False, nullable=False),
    Column("relationship_to_applicant", String(40), nullable=True),
    Column("nhs_number", String(10), nullable=True),
    Column("phone", String(30), nullable=True),
    Column("email", String(120), nullable=True),
    Column("communication_needs", String(200), nullable=True),  # e.g. "large_print"
    # How they would be contacted (post, phone, email, advocate), who speaks for them, and a format
    # letters must reach them in that the engine cannot print (Braille, audio, an interpreter's language).
    Column("preferred_contact", String(10), nullable=True),
    Column("advocate", String(300), nullable=True),
    Column("format_note", String(200), nullable=True),
    # Where letters to this person go when they do not live at the home to be adapted (a landlord).
    Column("postal_address_line_1", String(120), nullable=True),
    Column("postal_address_line_2", String(120), nullable=True),
    Column("postal_town", String(60), nullable=True),
    Column("postal_postcode", String(10), nullable=True),
)


# What each case is found by (dfg.rules.search_text): its reference, postcode, address and its people's
# names and NHS numbers, folded, one row a term; rewritten with the case's people and home in the same
# transaction, and erased with them. Each database's own text index over ``term`` (FTS5 on SQLite,
# pg_trgm on PostgreSQL: dfg.store.text_index) finds a part of a name or an address.
SEARCH_TERMS = Table(
    "search_terms",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("kind", String(12), nullable=False),  # dfg.rules.search_text.TERM_KINDS
    Column("term", String(400), index=True, nullable=False),
)


EVENTS = Table(
    "events",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("stream", String(30), nullable=False),  # a case reference, or "system"
    Column("seq", Integer, nullable=False),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("actor", String(60), nullable=False),
    Column("role", String(30), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("trigger", String(60), nullable=True),
    Column("from_state", String(40), nullable=True),
    Column("to_state", String(40), nullable=True),
    Column("reason", Text, nullable=True),
    Column("code", String(40), nullable=True),
    Column("payload", Text, nullable=False),  # canonical JSON: exactly the text that was hashed
    Column("workflow_version", String(30), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # 1: personal values in the clear; 2: sealed (dfg.store.personal). The hash of a format 2 event
    # covers its format, so it cannot be passed off as the other.
    Column("format", Integer, nullable=False, server_default="1"),
    UniqueConstraint("stream", "seq", name="stream_seq"),
)


DOCUMENTS = Table(
    "documents",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("kind", String(20), nullable=False),  # ot_report, photo, quote, ...
    Column("file_name", String(200), nullable=False),  # as given, made safe
    Column("media_type", String(100), nullable=False),  # told from the content
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("stored_as", String(200), nullable=False),  # inside the documents folder
    Column("added_by", String(60), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)


# The cases disposed of: written by disposal just before it erases, it is what lets the database accept
# the erasing UPDATEs on records that are otherwise append-only (the triggers of migration 0007).
DISPOSALS = Table(
    "disposals",
    METADATA,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("disposed_at", UTCDateTime, nullable=False),
)


PERSONAL_VALUES = Table(
    "personal_values",
    METADATA,
    # SHA-256 of the salt and the value (dfg.store.personal): what the hashed event holds instead of it
    Column("digest", String(64), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("salt", String(32), nullable=False),
    Column("value", Text, nullable=False),  # canonical JSON
)


AUDIT_HEADS = Table(
    "audit_heads",
    METADATA,
    Column("stream", String(30), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)


REFERENCE_COUNTERS = Table(
    "reference_counters",
    METADATA,
    Column("district_code", ForeignKey("districts.code"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_number", Integer, nullable=False),
)


ASSESSMENTS = Table(
    "assessments",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("assessor", String(120), nullable=False),
    Column("organisation", String(120), nullable=False),
    Column("purposes", String(60), nullable=False),  # s.23 purpose codes, comma separated: "d,e,f"
    Column("priority", String(12), nullable=False),
    Column("priority_reason", Text, nullable=True),
    Column("necessary_and_appropriate", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("priority", PRIORITIES), name="priority"),
)


RECOMMENDED_WORKS = Table(
    "recommended_works",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", ForeignKey("assessments.id"), index=True, nullable=False),
    Column("work", String(40), nullable=False),  # a code of workflows/catalogue.toml
    Column("description", Text, nullable=True),
)


FEASIBILITY_FINDINGS = Table(
    "feasibility_findings",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("reasonable_and_practicable", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)


DETERMINATIONS = Table(
    "determinations",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("determined_on", Date, nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("rates_version", String(40), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("contribution_pence", BigInteger, nullable=False),
    Column("household", Text, nullable=False),  # canonical JSON, as given
    Column("result", Text, nullable=False),  # canonical JSON of the determination and its trace
    Column("code", String(40), nullable=True),  # why a locked determination was redone
    Column("reason", Text, nullable=True),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)


GRANT_CALCULATIONS = Table(
    "grant_calculations",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("determination_id", ForeignKey("determinations.id"), nullable=False),
    Column("calculated_on", Date, nullable=False),
    Column("works_pence", BigInteger, nullable=False),
    Column("estimated_expense_pence", BigInteger, nullable=False),
    Column("contribution_pence", BigInteger, nullable=False),
    Column("grant_pence", BigInteger, nullable=False),
    Column("total_assistance_pence", BigInteger, nullable=False),
    Column("is_nil", Boolean, nullable=False),
    Column("result", Text, nullable=False),  # canonical JSON of the calculation and its workings
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)


LETTERS = Table(
    "letters",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("event_id", ForeignKey("events.id"), nullable=False),  # the step that called for the letter
    Column("kind", String(40), nullable=False),
    Column("recipient_name", String(200), nullable=False),
    Column("recipient_role", String(12), nullable=False),
    Column("template_version", String(64), nullable=False),  # digest of the template sources used
    Column("created_by", String(60), nullable=False),
    Column("created_at", UTCDateTime, index=True, nullable=False),  # the post room asks "since when"
    Column("pdf", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("copy_of", ForeignKey("letters.id"), nullable=True),
    CheckConstraint(_in("recipient_role", ("applicant", "contractor")), name="recipient_role"),
    # and a unique index on (event_id, kind) for originals: see dfg/store/migrate.py
)


CONTRACTORS = Table(
    "contractors",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), unique=True, nullable=False),
    Column("contact_name", String(120), nullable=True),
    Column("address", String(300), nullable=True),
    Column("phone", String(30), nullable=True),
    Column("email", String(120), nullable=True),
    Column("accreditation", String(120), nullable=True),  # e.g. "TrustMark", a framework
    Column("accreditation_expires", Date, nullable=True),
    Column("status", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("status", CONTRACTOR_STATUSES), name="status"),
)


ESTIMATES = Table(
    "estimates",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("contractor_id", ForeignKey("contractors.id"), nullable=False),
    Column("price_pence", BigInteger, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("contractor_reference", String(60), nullable=True),
    Column("notes", Text, nullable=True),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint("price_pence >= 0", name="price_not_negative"),
)


ESTIMATE_DECISIONS = Table(
    "estimate_decisions",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("estimate_id", ForeignKey("estimates.id"), nullable=True),
    Column("eligible_works_pence", BigInteger, nullable=True),
    Column("applicant_pays_pence", BigInteger, nullable=True),
    Column("reason", Text, nullable=True),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("kind", ("waiver", "selection")), name="kind"),
)


APPROVALS = Table(
    "approvals",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("grant_calculation_id", ForeignKey("grant_calculations.id"), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("contractor_id", ForeignKey("contractors.id"), nullable=True),
    Column("works_pence", BigInteger, nullable=False),
    Column("charges_pence", BigInteger, nullable=False),
    Column("contribution_pence", BigInteger, nullable=False),
    Column("grant_pence", BigInteger, nullable=False),  # the mandatory grant
    Column("total_assistance_pence", BigInteger, nullable=False),  # grant + discretionary lines
    Column("funding", Text, nullable=False),  # canonical JSON: {"mandatory": pence, "top_up": pence, ...}
    Column("deferred_payment_date", Date, nullable=True),
    Column("pay_contractor_directly", Boolean, nullable=False),
    Column("conditions", Text, nullable=False),  # canonical JSON list of the conditions as stated
    Column("works_begun_reason", Text, nullable=True),  # the good reason, when works had begun
    Column("variation", Text, nullable=True),  # what changed, for a variation
    Column("variation_price_pence", BigInteger, nullable=True),
    Column("approved_by", String(60), nullable=False),
    Column("second_approver", String(60), nullable=True),  # above the first's delegated limit
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "version", name="case_version"),
    CheckConstraint(_in("kind", APPROVAL_KINDS), name="kind"),
)


PAYMENTS = Table(
    "payments",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("approval_id", ForeignKey("approvals.id"), nullable=False),  # the version in force
    Column("kind", String(8), nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    Column("work_done_pence", BigInteger, nullable=True),  # the valuation, for an interim payment
    Column("payee", String(12), nullable=False),
    Column("paid_for", String(40), nullable=True),  # PAID_FOR_WORKS or a charge's kind; None: the works
    Column("contractor_id", ForeignKey("contractors.id"), nullable=True),
    Column("paid_on", Date, nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("kind", PAYMENT_KINDS), name="kind"),
    CheckConstraint(_in("payee", PAYEES), name="payee"),
    CheckConstraint("amount_pence > 0", name="amount_positive"),
)


INVOICES = Table(
    "invoices",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("contractor_id", ForeignKey("contractors.id"), nullable=True),
    Column("supplier", String(120), nullable=False),
    Column("invoice_reference", String(60), nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint("amount_pence > 0", name="amount_positive"),
)


APPOINTMENTS = Table(
    "assessment_appointments",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("appointment_at", UTCDateTime, nullable=False),
    Column("assessor_name", String(120), nullable=False),
    Column("assessor_role", String(60), nullable=False),  # "occupational therapist", "trusted assessor"
    Column("assessor_organisation", String(120), nullable=False),
    Column("location", String(300), nullable=False),  # "At your home", or an address
    Column("booked_by", String(60), nullable=False),
    Column("booked_at", UTCDateTime, nullable=False),
)


# A booked visit called off (the reason is on the step's event, sealed): the booking itself is never changed.
VISIT_CANCELLATIONS = Table(
    "visit_cancellations",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("appointment_id", ForeignKey("assessment_appointments.id"), unique=True, nullable=False),
    Column("cancelled_by", String(60), nullable=False),
    Column("cancelled_at", UTCDateTime, nullable=False),
)


LAND_CHARGES = Table(
    "land_charges",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("repayable_pence", BigInteger, nullable=False),
    Column("terms_version", String(40), nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("registry_reference", String(60), nullable=False),
    Column("condition_end", Date, nullable=False),  # certified date + 5 years
    Column("expires_on", Date, nullable=False),  # certified date + 10 years
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)


REPAYMENT_DECISIONS = Table(
    "repayment_decisions",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("land_charge_id", ForeignKey("land_charges.id"), nullable=False),
    Column("disposal_on", Date, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("demanded_pence", BigInteger, nullable=False),
    Column("factors", String(200), nullable=False),  # codes, comma separated: "hardship,health"
    Column("reason", Text, nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("decision", REPAYMENT_CHOICES), name="decision"),
    CheckConstraint("demanded_pence >= 0", name="demanded_not_negative"),
)


# The authority's decision on the amount of a landlord's grant (s.31 HGCRA 1996), with what it weighed.
LANDLORD_DECISIONS = Table(
    "landlord_decisions",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    Column("factors", String(200), nullable=False),  # codes, comma separated: "rent,policy"
    Column("reason", Text, nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint("amount_pence > 0", name="amount_positive"),
)


BUDGETS = Table(
    "budgets",
    METADATA,
    Column("district_code", ForeignKey("districts.code"), primary_key=True),
    Column("financial_year", Integer, primary_key=True),
    Column("funding_line", String(40), primary_key=True),
    Column("allocation_pence", BigInteger, nullable=False),
    Column("committed_pence", BigInteger, nullable=False),
    Column("spent_pence", BigInteger, nullable=False),
)


BUDGET_ENTRIES = Table(
    "budget_entries",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("district_code", ForeignKey("districts.code"), nullable=False),
    Column("financial_year", Integer, nullable=False),
    Column("funding_line", String(40), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("amount_pence", BigInteger, nullable=False),  # signed: a release or reduction is negative
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=True),
    Column("approval_id", ForeignKey("approvals.id"), nullable=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=True),
    Column("override_reason", Text, nullable=True),  # a manager's, when it over-commits
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("kind", BUDGET_ENTRY_KINDS), name="kind"),
)


# an operating-system account (a SQLite file), a PostgreSQL login, a single sign-on subject (``iss|sub``)
PRINCIPAL_KINDS = ("os", "db", "oidc")

# Who may act as whom: the proof behind --as. One principal may be mapped to several users (an officer's
# own identity and a deputy approver's); each mapping and unmapping is an event on the system stream.
IDENTITY_MAPPINGS = Table(
    "identity_mappings",
    METADATA,
    Column("kind", String(4), primary_key=True),
    Column("principal", String(300), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("mapped_by", String(60), nullable=False),
    Column("mapped_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("kind", PRINCIPAL_KINDS), name="kind"),
)


# Facts about the installation itself, one row each (``demo``: made by ``dfg demo``, so --as is free).
INSTALLATION = Table(
    "installation",
    METADATA,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)


ACCESS_VIEWS = ("case", "history", "letter", "notes", "document", "subject_access", "search")

# Who read a case's personal data, when, and through which view. Append-only, but kept off the hash
# chain: one row per read would make the chain grow with every look at a case.
ACCESS_RECORDS = Table(
    "access_records",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), index=True, nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("view", String(20), nullable=False),
    Column("read_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("view", ACCESS_VIEWS), name="view"),
)


# A user's means of signing in to the browser application (one row each, made when an administrator
# invites them). Mutable: the password is changed, the attempts counted; each change that matters is an
# event on the system stream (never the hash or the secret). ``session_epoch`` moves on at every password
# change, reset or deactivation, which ends every signed cookie issued before it.
WEB_CREDENTIALS = Table(
    "web_credentials",
    METADATA,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("password_hash", String(200), nullable=True),
    Column("totp_secret", String(64), nullable=True),
    Column("invitation_digest", String(64), nullable=True, unique=True),
    Column("invitation_expires_at", UTCDateTime, nullable=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("session_epoch", Integer, nullable=False, default=1),
    Column("updated_at", UTCDateTime, nullable=False),
)


#: Tables whose rows are decisions: never updated or deleted (the database refuses both).
APPEND_ONLY = (
    "events", "assessments", "recommended_works", "feasibility_findings", "determinations", "grant_calculations",
    "letters", "estimates", "estimate_decisions", "approvals", "payments", "invoices", "land_charges",
    "repayment_decisions", "budget_entries", "assessment_appointments", "documents", "access_records",
    "landlord_decisions",
    "visit_cancellations",
)  # fmt: skip
