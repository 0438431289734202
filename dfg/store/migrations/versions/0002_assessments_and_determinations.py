"""Assessments, recommended works, feasibility findings and means-test determinations (all append-only).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:02:34.886020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessor", sa.String(length=120), nullable=False),
        sa.Column("organisation", sa.String(length=120), nullable=False),
        sa.Column("purposes", sa.String(length=60), nullable=False),
        sa.Column("priority", sa.String(length=12), nullable=False),
        sa.Column("priority_reason", sa.Text(), nullable=True),
        sa.Column("necessary_and_appropriate", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority IN ('urgent', 'non_urgent')", name=op.f("ck_assessments_priority")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_assessments_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "determinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("determined_on", sa.Date(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("rates_version", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("contribution_pence", sa.BigInteger(), nullable=False),
        sa.Column("household", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_determinations_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_determinations")),
    )
    with op.batch_alter_table("determinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_determinations_case_id"), ["case_id"], unique=False)

    op.create_table(
        "feasibility_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("reasonable_and_practicable", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_feasibility_findings_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feasibility_findings")),
    )
    with op.batch_alter_table("feasibility_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feasibility_findings_case_id"), ["case_id"], unique=False)

    op.create_table(
        "recommended_works",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("work", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_recommended_works_assessment_id_assessments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommended_works")),
    )
    with op.batch_alter_table("recommended_works", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommended_works_assessment_id"), ["assessment_id"], unique=False
        )
    _make_append_only()


_TABLES = ("assessments", "recommended_works", "feasibility_findings", "determinations")


def _make_append_only() -> None:
    # Decisions are never edited: a change is a new row with its reason (as for events in 0001).
    if op.get_bind().dialect.name == "sqlite":
        for table in _TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
                )
        return
    op.execute(
        """CREATE FUNCTION dfg_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$"""
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
        )


def _drop_append_only() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in _TABLES:
        if sqlite:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS dfg_append_only()")


def downgrade() -> None:
    _drop_append_only()
    with op.batch_alter_table("recommended_works", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommended_works_assessment_id"))

    op.drop_table("recommended_works")
    with op.batch_alter_table("feasibility_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feasibility_findings_case_id"))

    op.drop_table("feasibility_findings")
    with op.batch_alter_table("determinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_determinations_case_id"))

    op.drop_table("determinations")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_case_id"))

    op.drop_table("assessments")
