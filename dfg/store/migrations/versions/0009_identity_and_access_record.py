"""Proven identity (who may act as whom), the installation's own facts, and the access record.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_mappings",
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("principal", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mapped_by", sa.String(length=60), nullable=False),
        sa.Column("mapped_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('os', 'db')", name=op.f("ck_identity_mappings_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_identity_mappings_user_id_users")),
        sa.PrimaryKeyConstraint("kind", "principal", "user_id", name=op.f("pk_identity_mappings")),
    )
    op.create_table(
        "installation",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation")),
    )
    op.create_table(
        "access_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("view", sa.String(length=20), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "view IN ('case', 'history', 'letter', 'notes', 'document', 'subject_access')",
            name=op.f("ck_access_records_view"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_access_records_case_id_cases")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_records_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_records")),
    )
    with op.batch_alter_table("access_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_records_case_id"), ["case_id"], unique=False)

    # Who looked is never edited (as 0002's dfg_append_only()).
    table = "access_records"
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
    with op.batch_alter_table("access_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_records_case_id"))
    op.drop_table("access_records")
    op.drop_table("installation")
    op.drop_table("identity_mappings")
