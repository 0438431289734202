"""The search terms (``search_terms``) and each database's own index for finding a part of one.

An exact term is found through the table's ordinary index on ``term``. A part of a term (``mill lane``
in ``12 mill lane cannock``) is found through a trigram index, which each database has its own of, over
the kinds of term a part is looked for in only (names with their titles, addresses: a reference's or a
postcode's trigrams, ``-20`` and ``st1``, would be in every lookup's way):

- SQLite: an FTS5 table with the ``trigram`` tokenizer (``search_terms_text``), holding no text of its
  own (``content='search_terms'``) and kept in step by triggers, so a write to the terms is a write to
  the index in the same transaction. The terms are folded before they are stored, so the index compares
  them as they are (``case_sensitive 1``) and a search's ``GLOB`` needs no folding of its own.
- PostgreSQL: a partial GIN index with ``pg_trgm``'s operator class on ``term``, which a ``LIKE`` uses.

A start of a term (a postcode's) is a range of an ordinary B-tree index: SQLite's on ``term`` (its
``GLOB`` optimisation), PostgreSQL's ``text_pattern_ops`` one.

Either answers a part of fewer than three characters by reading every term (there is no trigram to
look up): still SQL, in the database, over the terms alone. Measured in ``bench/search.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, column, delete, insert, select, table

from dfg.store.tables import SEARCH_TERMS

_FTS = "search_terms_text"
_TRIGRAM_INDEX = "ix_search_terms_term_trigram"
_PREFIX_INDEX = "ix_search_terms_term_prefix"

#: What the migrations make outside the tables of :mod:`dfg.store.tables`: the FTS5 table (and the shadow
#: tables SQLite keeps for it), the trigram and prefix indexes. A schema comparison leaves these out.
TEXT_INDEX_NAMES = frozenset(
    {
        _FTS,
        *(f"{_FTS}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")),
        _TRIGRAM_INDEX,
        _PREFIX_INDEX,
    }
)


def outside_the_models(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's ``include_name``: False for the text index's own objects, which no model describes."""
    return name not in TEXT_INDEX_NAMES


def _sqlite(kinds: str) -> list[str]:
    # only the terms parts are looked for in are indexed: a reference or a postcode in the index would put
    # their trigrams ("-20", "st1") in every lookup's way
    wanted = f"new.kind IN ({kinds})"
    return [
        f"CREATE VIRTUAL TABLE {_FTS} USING fts5(term, content='search_terms', content_rowid='id', "
        "tokenize='trigram case_sensitive 1')",
        f"CREATE TRIGGER {_FTS}_insert AFTER INSERT ON search_terms WHEN {wanted} BEGIN "
        f"INSERT INTO {_FTS}(rowid, term) VALUES (new.id, new.term); END",
        f"CREATE TRIGGER {_FTS}_delete AFTER DELETE ON search_terms WHEN {wanted.replace('new.', 'old.')} BEGIN "
        f"INSERT INTO {_FTS}({_FTS}, rowid, term) VALUES ('delete', old.id, old.term); END",
    ]


def _postgresql(kinds: str) -> list[str]:
    # pg_trgm is a trusted extension (PostgreSQL 13 on): the database's owner, who runs the migrations, may
    # create it without being a superuser. A start of a term is a range of a text_pattern_ops index (the
    # ordinary one follows the database's collation, which a LIKE cannot use).
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX {_TRIGRAM_INDEX} ON search_terms USING gin (term gin_trgm_ops) WHERE kind IN ({kinds})",
        f"CREATE INDEX {_PREFIX_INDEX} ON search_terms (term text_pattern_ops)",
    ]


def create_text_index(connection: Connection, kinds: Sequence[str]) -> None:
    """Make the database's trigram index over the terms of ``kinds`` (those a part is looked for in), and
    on PostgreSQL the index a start of a term is looked up in (SQLite's ordinary one serves). Run by the
    migration that made the table; the terms are never updated, only deleted and inserted."""
    sqlite = connection.dialect.name == "sqlite"
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    for statement in _sqlite(listed) if sqlite else _postgresql(listed):
        connection.exec_driver_sql(statement)
    if sqlite:  # index the terms already there
        connection.exec_driver_sql(
            f"INSERT INTO {_FTS}(rowid, term) SELECT id, term FROM search_terms WHERE kind IN ({listed})"
        )


def drop_text_index(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for name in ("insert", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_FTS}_{name}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_FTS}")
    else:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {_TRIGRAM_INDEX}")
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {_PREFIX_INDEX}")


_fts = table(_FTS, column("rowid"), column("term"))


def holds(dialect: str, text: str, *, at_start: bool = False) -> ColumnElement[bool]:
    """The terms that hold ``text`` (already folded) anywhere, or at their start, through the dialect's
    own trigram index."""
    if dialect == "sqlite":
        escaped = "".join(f"[{c}]" if c in "*?[" else c for c in text)
        if at_start:  # a prefix is a range of the ordinary index on term (SQLite's GLOB optimisation)
            return SEARCH_TERMS.c.term.op("GLOB")(f"{escaped}*")
        return SEARCH_TERMS.c.id.in_(select(_fts.c.rowid).where(_fts.c.term.op("GLOB")(f"*{escaped}*")))
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return SEARCH_TERMS.c.term.like(f"{escaped}%" if at_start else f"%{escaped}%", escape="\\")


def replace_terms(connection: Connection, case_id: int, terms: Sequence[tuple[str, str]]) -> None:
    """Make ``terms`` the case's (kind, term) pairs, in the caller's transaction."""
    forget_terms(connection, case_id)
    add_terms(connection, case_id, terms)


def add_terms(connection: Connection, case_id: int, terms: Sequence[tuple[str, str]]) -> None:
    """Index a case that has no terms yet (one just opened) by its (kind, term) pairs."""
    add_many_terms(connection, [(case_id, terms)])


def add_many_terms(connection: Connection, cases: Sequence[tuple[int, Sequence[tuple[str, str]]]]) -> None:
    """Index cases that have no terms yet (just opened), each by its (kind, term) pairs, in one statement."""
    rows = [
        {"case_id": case_id, "kind": kind, "term": term} for case_id, terms in cases for kind, term in terms
    ]
    if rows:
        connection.execute(insert(SEARCH_TERMS), rows)


def forget_terms(connection: Connection, case_id: int) -> None:
    """Take a case's terms out of the table and out of the index over it."""
    connection.execute(delete(SEARCH_TERMS).where(SEARCH_TERMS.c.case_id == case_id))


def compact_text_index(connection: Connection) -> None:
    """Rewrite SQLite's FTS5 index without the entries deleted from it: until then a deleted term's
    trigrams stay in the index's older segments (marked deleted, never matched). Disposal runs it, so a
    disposed-of person's name leaves the index's pages too. PostgreSQL's index needs nothing: a deleted
    row's entries go with the row, at its next vacuum."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO {_FTS}({_FTS}) VALUES ('optimize')")
