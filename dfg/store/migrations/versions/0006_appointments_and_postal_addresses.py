"""Assessment appointments, and a postal address for a person who does not live at the home.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTAL = (
    ("postal_address_line_1", 120),
    ("postal_address_line_2", 120),
    ("postal_town", 60),
    ("postal_postcode", 10),
)


def upgrade() -> None:
    op.create_table(
        "assessment_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessor_name", sa.String(length=120), nullable=False),
        sa.Column("assessor_role", sa.String(length=60), nullable=False),
        sa.Column("assessor_organisation", sa.String(length=120), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("booked_by", sa.String(length=60), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_assessment_appointments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_appointments")),
    )
    with op.batch_alter_table("assessment_appointments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_appointments_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("people", schema=None) as batch_op:
        for name, length in _POSTAL:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))

    # A booking is a record of what the applicant was told: never edited (as 0002's dfg_append_only()).
    table = "assessment_appointments"
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
            )
    else:
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        for name, _ in reversed(_POSTAL):
            batch_op.drop_column(name)
    with op.batch_alter_table("assessment_appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_appointments_case_id"))
    op.drop_table("assessment_appointments")
