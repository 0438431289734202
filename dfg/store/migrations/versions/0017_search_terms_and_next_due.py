"""Search through the database: each case's search terms, folded, with the database's own trigram index
over them (FTS5 on SQLite, pg_trgm on PostgreSQL), filled from the cases already recorded; and each
case's next due day for the worklists (empty until worked out: the next worklist or tick does it).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dfg.rules.search_text import PARTIAL_KINDS, Home, Named, case_terms
from dfg.store.text_index import create_text_index, drop_text_index

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def _backfill(connection: sa.Connection) -> None:
    """Every case's terms, a batch of cases at a time (the same terms opening the case now writes)."""
    terms = sa.table("search_terms", sa.column("case_id", sa.Integer), sa.column("kind"), sa.column("term"))
    last = 0
    while True:
        homes = connection.execute(
            sa.text(
                "SELECT c.id, c.reference, p.address_line_1, p.address_line_2, p.town, p.postcode "
                "FROM cases c JOIN properties p ON p.id = c.property_id WHERE c.id > :last ORDER BY c.id "
                "LIMIT :batch"
            ),
            {"last": last, "batch": _BATCH},
        ).all()
        if not homes:
            return
        people: dict[int, list[Named]] = {}
        for p in connection.execute(
            sa.text(
                "SELECT case_id, title, given_name, family_name, nhs_number FROM people "
                "WHERE case_id > :first AND case_id <= :last ORDER BY id"
            ),
            {"first": last, "last": homes[-1].id},
        ):
            people.setdefault(p.case_id, []).append(Named(p.title, p.given_name, p.family_name, p.nhs_number))
        rows = [
            {"case_id": h.id, "kind": kind, "term": term}
            for h in homes
            for kind, term in case_terms(
                h.reference,
                Home(h.address_line_1, h.address_line_2, h.town, h.postcode),
                people.get(h.id, []),
            )
        ]
        connection.execute(sa.insert(terms), rows)
        last = homes[-1].id


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("term", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_search_terms_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_terms")),
    )
    connection = op.get_bind()
    _backfill(connection)
    op.create_index(op.f("ix_search_terms_case_id"), "search_terms", ["case_id"], unique=False)
    op.create_index(op.f("ix_search_terms_term"), "search_terms", ["term"], unique=False)
    create_text_index(connection, PARTIAL_KINDS)
    op.add_column("cases", sa.Column("next_due", sa.Date(), nullable=True))
    op.create_index("ix_cases_district_next_due", "cases", ["district_code", "next_due"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_district_next_due", table_name="cases")
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("next_due")
    drop_text_index(op.get_bind())
    op.drop_index(op.f("ix_search_terms_term"), table_name="search_terms")
    op.drop_index(op.f("ix_search_terms_case_id"), table_name="search_terms")
    op.drop_table("search_terms")
