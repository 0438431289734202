"""Documents attached to a case: the register (append-only, erasable at disposal); bytes in a folder.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_as", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.String(length=60), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_documents_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_case_id"), ["case_id"], unique=False)
    # Append-only, but for the erasing of a disposed case's file names (as 0007 does for the others).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents "
            "WHEN OLD.case_id NOT IN (SELECT case_id FROM disposals) "
            "BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents "
            "BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END"
        )
    else:
        op.execute(
            "CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents "
            "FOR EACH ROW EXECUTE FUNCTION dfg_erasable_only()"
        )
        op.execute(
            "CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )
        op.execute(
            "CREATE TRIGGER documents_no_truncate BEFORE TRUNCATE ON documents "
            "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
        )


def downgrade() -> None:
    op.drop_table("documents")
