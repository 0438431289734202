"""Grant calculations on cases (append-only, like the other decisions).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:14:43.159712
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grant_calculations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("determination_id", sa.Integer(), nullable=False),
        sa.Column("calculated_on", sa.Date(), nullable=False),
        sa.Column("works_pence", sa.BigInteger(), nullable=False),
        sa.Column("estimated_expense_pence", sa.BigInteger(), nullable=False),
        sa.Column("contribution_pence", sa.BigInteger(), nullable=False),
        sa.Column("grant_pence", sa.BigInteger(), nullable=False),
        sa.Column("total_assistance_pence", sa.BigInteger(), nullable=False),
        sa.Column("is_nil", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_grant_calculations_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["determination_id"],
            ["determinations.id"],
            name=op.f("fk_grant_calculations_determination_id_determinations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_calculations")),
    )
    with op.batch_alter_table("grant_calculations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grant_calculations_case_id"), ["case_id"], unique=False)
    # Decisions are never edited (as in 0002; the PostgreSQL function dfg_append_only() comes from there).
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER grant_calculations_no_{action.lower()} BEFORE {action} ON grant_calculations "
                "BEGIN SELECT RAISE(ABORT, 'grant_calculations are append-only'); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER grant_calculations_no_update_delete BEFORE UPDATE OR DELETE ON grant_calculations "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )
        op.execute(
            "CREATE TRIGGER grant_calculations_no_truncate BEFORE TRUNCATE ON grant_calculations "
            "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("grant_calculations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_calculations_case_id"))

    op.drop_table("grant_calculations")
