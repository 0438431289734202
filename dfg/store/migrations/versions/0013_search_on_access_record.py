"""The access record also takes the cases a search showed, with their applicants' names.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "view IN ('case', 'history', 'letter', 'notes', 'document', 'subject_access')"
_NEW = "view IN ('case', 'history', 'letter', 'notes', 'document', 'subject_access', 'search')"


def _views(check: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite cannot alter a CHECK: the table is copied, which drops its append-only triggers (made again)
    with op.batch_alter_table(
        "access_records", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_records_view"), type_="check")
        batch_op.create_check_constraint(op.f("ck_access_records_view"), check)
    if sqlite:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER access_records_no_{action.lower()} BEFORE {action} ON access_records "
                "BEGIN SELECT RAISE(ABORT, 'access_records are append-only'); END"
            )


def upgrade() -> None:
    _views(_NEW)


def downgrade() -> None:
    # rows recorded as 'search' cannot be deleted (append-only), so the old check cannot come back over them
    _views(_OLD)
