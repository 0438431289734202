"""How a person would be contacted: the way they prefer, an advocate who speaks for them, and a note
of the format letters must reach them in beyond large print (Braille, audio, an interpreter).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("preferred_contact", 10), ("advocate", 300), ("format_note", 200))


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        for name, length in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
