"""Personal values sealed out of the hash chain (event format 2), so a file can be disposed of.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dfg.rules.clock import utcnow
from dfg.store.audit import reseal_case_streams

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("format", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "personal_values",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_personal_values_case_id_cases")),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_personal_values")),
    )
    with op.batch_alter_table("personal_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_values_case_id"), ["case_id"], unique=False)
    op.create_table(
        "disposals",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_disposals_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_disposals")),
    )
    _let_disposal_erase()
    # Today's case events are sealed and rehashed, the one time the append-only guard is lifted.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER events_no_update")
    else:
        op.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
    reseal_case_streams(op.get_bind(), now=utcnow())
    if sqlite:
        op.execute(
            """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
        )
    else:
        op.execute("ALTER TABLE events ENABLE TRIGGER events_no_update_delete")


# The records that hold personal text stay append-only, except that disposal may overwrite the rows of
# a case it has recorded in ``disposals`` (in the same transaction, with its tombstone event).
ERASABLE = (
    "assessments", "feasibility_findings", "determinations", "letters", "estimates", "estimate_decisions",
    "approvals", "repayment_decisions", "budget_entries", "assessment_appointments",
)  # fmt: skip
_DISPOSED = "SELECT case_id FROM disposals"
_WORKS_DISPOSED = "SELECT a.id FROM assessments a JOIN disposals d ON d.case_id = a.case_id"


def _let_disposal_erase() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, key, disposed in (
            *((t, "case_id", _DISPOSED) for t in ERASABLE),
            ("recommended_works", "assessment_id", _WORKS_DISPOSED),
        ):
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN OLD.{key} NOT IN ({disposed}) "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
            )
        return
    for function, key, disposed in (
        ("dfg_erasable_only", "case_id", _DISPOSED),
        ("dfg_erasable_works_only", "assessment_id", _WORKS_DISPOSED),
    ):
        op.execute(
            f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF OLD.{key} IN ({disposed}) THEN RETURN NEW; END IF;
                 RAISE EXCEPTION '% are append-only', TG_TABLE_NAME;
               END $$"""
        )
    for table, function in (
        *((t, "dfg_erasable_only") for t in ERASABLE),
        ("recommended_works", "dfg_erasable_works_only"),
    ):
        op.execute(f"DROP TRIGGER {table}_no_update_delete ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dfg_append_only()"
        )


def downgrade() -> None:
    # Sealed events stay sealed: their format 1 text would need the values, which may be disposed of.
    raise NotImplementedError("event format 2 cannot be downgraded; restore the backup taken before")
