"""Payments to whom each line of the grant is due: fees to the agency, the professional or the
authority, as well as the works to the contractor (or the applicant); each payment says what it pays for.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "payee IN ('contractor', 'applicant')"
_NEW = "payee IN ('contractor', 'applicant', 'agency', 'professional', 'authority')"


def _payee_check(check: str, *, paid_for: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite cannot alter a CHECK: the table is copied, which drops its append-only triggers (made again)
    with op.batch_alter_table("payments", schema=None, recreate="always" if sqlite else "auto") as batch_op:
        if paid_for:
            batch_op.add_column(sa.Column("paid_for", sa.String(length=40), nullable=True))
        else:
            batch_op.drop_column("paid_for")
        batch_op.drop_constraint(op.f("ck_payments_payee"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_payee"), check)
    if sqlite:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER payments_no_{action.lower()} BEFORE {action} ON payments "
                "BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END"
            )


def upgrade() -> None:
    _payee_check(_NEW, paid_for=True)


def downgrade() -> None:
    _payee_check(_OLD, paid_for=False)
