"""Single sign-on: an identity mapping may name an OpenID Connect subject (kind ``oidc``, principal
``<issuer>|<subject>``), so the principal is longer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "kind IN ('os', 'db')"
_NEW = "kind IN ('os', 'db', 'oidc')"


def _mappings(check: str, principal_length: int) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite cannot alter a CHECK: the table is copied (identity_mappings has no triggers to make again)
    with op.batch_alter_table(
        "identity_mappings", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.alter_column("principal", type_=sa.String(length=principal_length), existing_nullable=False)
        batch_op.drop_constraint(op.f("ck_identity_mappings_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_identity_mappings_kind"), check)


def upgrade() -> None:
    _mappings(_NEW, 300)  # an Entra ID issuer and subject come to about 120 characters together


def downgrade() -> None:
    op.execute("DELETE FROM identity_mappings WHERE kind = 'oidc'")
    _mappings(_OLD, 120)
