"""Signing in to the browser application: each user's password hash, second factor, invitation and
attempt count.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_credentials",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("invitation_digest", sa.String(length=64), nullable=True),
        sa.Column("invitation_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_credentials_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_web_credentials")),
        sa.UniqueConstraint("invitation_digest", name=op.f("uq_web_credentials_invitation_digest")),
    )


def downgrade() -> None:
    op.drop_table("web_credentials")
