"""The letter register: every letter produced, with its PDF and SHA-256 (append-only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:25:38.955788
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One original per (event, kind); reprints repeat the pair and point at their original.
_ORIGINALS_ONLY = sa.text("copy_of IS NULL")


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_role", sa.String(length=12), nullable=False),
        sa.Column("template_version", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("copy_of", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "recipient_role IN ('applicant', 'contractor')", name=op.f("ck_letters_recipient_role")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_letters_case_id_cases")),
        sa.ForeignKeyConstraint(["copy_of"], ["letters.id"], name=op.f("fk_letters_copy_of_letters")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_letters_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
    )
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_letters_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_letters_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "uq_letters_original_event_kind",
            ["event_id", "kind"],
            unique=True,
            sqlite_where=_ORIGINALS_ONLY,
            postgresql_where=_ORIGINALS_ONLY,
        )
    # A letter is a record of what was sent: never edited (as 0002; dfg_append_only() comes from there).
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER letters_no_{action.lower()} BEFORE {action} ON letters "
                "BEGIN SELECT RAISE(ABORT, 'letters are append-only'); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER letters_no_update_delete BEFORE UPDATE OR DELETE ON letters "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )
        op.execute(
            "CREATE TRIGGER letters_no_truncate BEFORE TRUNCATE ON letters "
            "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_letters_original_event_kind", sqlite_where=_ORIGINALS_ONLY, postgresql_where=_ORIGINALS_ONLY
        )
        batch_op.drop_index(batch_op.f("ix_letters_created_at"))
        batch_op.drop_index(batch_op.f("ix_letters_case_id"))

    op.drop_table("letters")
