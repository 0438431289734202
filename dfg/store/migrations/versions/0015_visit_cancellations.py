"""A booked assessment visit can be cancelled: the cancellation is a record of its own (append-only).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "visit_cancellations"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=60), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["assessment_appointments.id"],
            name=op.f("fk_visit_cancellations_appointment_id_assessment_appointments"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_visit_cancellations_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_cancellations")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_visit_cancellations_appointment_id")),
    )
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_cancellations_case_id"), ["case_id"], unique=False)
    # What the applicant was told stands: never edited (it holds nothing personal, so nothing to erase).
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {_TABLE}_no_{action.lower()} BEFORE {action} ON {_TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{_TABLE} are append-only'); END"
            )
    else:
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_update_delete BEFORE UPDATE OR DELETE ON {_TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_truncate BEFORE TRUNCATE ON {_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_cancellations_case_id"))
    op.drop_table(_TABLE)
