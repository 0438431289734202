"""Initial schema: districts, users and roles, properties, cases, people, the append-only event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:38:56.876567
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("stream", sa.String(length=30), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    op.create_table(
        "properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_line_1", sa.String(length=120), nullable=False),
        sa.Column("address_line_2", sa.String(length=120), nullable=True),
        sa.Column("town", sa.String(length=60), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("uprn", sa.String(length=12), nullable=True),
        sa.Column("district_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_properties_district_code_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_properties")),
    )
    op.create_table(
        "reference_counters",
        sa.Column("district_code", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_reference_counters_district_code_districts")
        ),
        sa.PrimaryKeyConstraint("district_code", "year", name=op.f("pk_reference_counters")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("district_code", sa.String(length=8), nullable=True),
        sa.Column("approval_limit_pence", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_users_district_code_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("district_code", sa.String(length=8), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("workflow_version", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=12), nullable=False),
        sa.Column("priority_reason", sa.Text(), nullable=True),
        sa.Column("referral_source", sa.String(length=60), nullable=True),
        sa.Column("tenure", sa.String(length=12), nullable=False),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("hold_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_review_date", sa.Date(), nullable=True),
        sa.Column("first_contact_date", sa.Date(), nullable=False),
        sa.Column("assessment_date", sa.Date(), nullable=True),
        sa.Column("test_of_resources_date", sa.Date(), nullable=True),
        sa.Column("application_received_date", sa.Date(), nullable=True),
        sa.Column("valid_application_date", sa.Date(), nullable=True),
        sa.Column("approval_date", sa.Date(), nullable=True),
        sa.Column("refusal_date", sa.Date(), nullable=True),
        sa.Column("works_ordered_date", sa.Date(), nullable=True),
        sa.Column("works_started_date", sa.Date(), nullable=True),
        sa.Column("works_completed_date", sa.Date(), nullable=True),
        sa.Column("certified_date", sa.Date(), nullable=True),
        sa.Column("paid_date", sa.Date(), nullable=True),
        sa.Column("closed_date", sa.Date(), nullable=True),
        sa.Column("approved_grant_pence", sa.BigInteger(), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority IN ('urgent', 'non_urgent')", name=op.f("ck_cases_priority")),
        sa.CheckConstraint(
            "state IN ('referral', 'awaiting_assessment', 'test_of_resources', 'scheme_design', 'application_incomplete', 'application_valid', 'refused', 'under_review', 'approved', 'works_ordered', 'on_site', 'works_complete', 'certified', 'paid', 'closed', 'withdrawn', 'cancelled')",
            name=op.f("ck_cases_state"),
        ),
        sa.CheckConstraint(
            "tenure IN ('owner', 'tenant', 'occupier', 'landlord')", name=op.f("ck_cases_tenure")
        ),
        sa.CheckConstraint("approved_grant_pence >= 0", name=op.f("ck_cases_approved_grant_not_negative")),
        sa.ForeignKeyConstraint(["assigned_to"], ["users.id"], name=op.f("fk_cases_assigned_to_users")),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_cases_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_cases_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_district_code"), ["district_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_state"), ["state"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.CheckConstraint(
            "role IN ('grant_officer', 'ot', 'technical_officer', 'approver', 'manager', 'admin')",
            name=op.f("ck_user_roles_role"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=30), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=True),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("workflow_version", sa.String(length=30), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_events_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("stream", "seq", name="stream_seq"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=20), nullable=True),
        sa.Column("given_name", sa.String(length=80), nullable=False),
        sa.Column("family_name", sa.String(length=80), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("is_applicant", sa.Boolean(), nullable=False),
        sa.Column("is_disabled_occupant", sa.Boolean(), nullable=False),
        sa.Column("is_relevant_person", sa.Boolean(), nullable=False),
        sa.Column("relationship_to_applicant", sa.String(length=40), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=120), nullable=True),
        sa.Column("communication_needs", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_people_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_case_id"), ["case_id"], unique=False)
    _make_events_append_only()


# The audit trail is append-only in the database itself, not only in the code: an UPDATE or DELETE of
# an event fails on both backends (and TRUNCATE too on PostgreSQL, where it bypasses row triggers).
_SQLITE_GUARDS = [
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
]
_POSTGRES_GUARDS = [
    """CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'events are append-only'; END $$""",
    """CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION events_append_only()""",
    """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
       FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()""",
]


def _make_events_append_only() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_GUARDS if dialect == "sqlite" else _POSTGRES_GUARDS:
        op.execute(statement)


def _drop_append_only_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_no_update_delete ON events")
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")


def downgrade() -> None:
    _drop_append_only_guards()
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_case_id"))

    op.drop_table("people")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_case_id"))

    op.drop_table("events")
    op.drop_table("user_roles")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_state"))
        batch_op.drop_index(batch_op.f("ix_cases_district_code"))

    op.drop_table("cases")
    op.drop_table("users")
    op.drop_table("reference_counters")
    op.drop_table("properties")
    op.drop_table("districts")
    op.drop_table("audit_heads")
