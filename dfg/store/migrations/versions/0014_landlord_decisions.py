"""The authority's decision on the amount of a landlord's grant (s.31 HGCRA 1996), with its reasons.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "landlord_decisions"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("factors", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_landlord_decisions_amount_positive")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_landlord_decisions_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landlord_decisions")),
    )
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_landlord_decisions_case_id"), ["case_id"], unique=False)
    # A decision is never edited or deleted; disposal alone may overwrite the reason of a case it has
    # recorded in `disposals` (as the other decision records, migration 0007).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_update BEFORE UPDATE ON {_TABLE} "
            "WHEN OLD.case_id NOT IN (SELECT case_id FROM disposals) "
            f"BEGIN SELECT RAISE(ABORT, '{_TABLE} are append-only'); END"
        )
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_delete BEFORE DELETE ON {_TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{_TABLE} are append-only'); END"
        )
        return
    op.execute(
        f"CREATE TRIGGER {_TABLE}_no_update BEFORE UPDATE ON {_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION dfg_erasable_only()"
    )
    op.execute(
        f"CREATE TRIGGER {_TABLE}_no_delete BEFORE DELETE ON {_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {_TABLE}_no_truncate BEFORE TRUNCATE ON {_TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION dfg_append_only()"
    )


def downgrade() -> None:
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_landlord_decisions_case_id"))
    op.drop_table(_TABLE)
