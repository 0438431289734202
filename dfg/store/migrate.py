"""Schema migrations: Alembic, driven from code (no alembic.ini), imported only by `dfg db` commands."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Index, text

from dfg.errors import DatabaseProblem
from dfg.store.database import KNOWN_REVISIONS, Database
from dfg.store.tables import LETTERS

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# One original letter per (event, kind): a partial unique index. It is declared here rather than on the
# model because dialect-specific keywords make SQLAlchemy import both dialects (about 60 ms on every
# command's start-up); only schema tooling (migrations, the models-match-migrations test) needs it.
Index(
    "uq_letters_original_event_kind",
    LETTERS.c.event_id,
    LETTERS.c.kind,
    unique=True,
    sqlite_where=text("copy_of IS NULL"),
    postgresql_where=text("copy_of IS NULL"),
)


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema up to ``revision``; return (revision before, revision after)."""
    before = database.schema_revision()
    if before is not None and before not in KNOWN_REVISIONS:
        raise DatabaseProblem(
            f"{database.display_name} was made by a newer version of dfg (schema {before}): upgrade dfg"
        )
    config = alembic_config(database)
    with database.migration_connection() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    after = database.schema_revision()
    assert after is not None
    return before, after


def script_head() -> str:
    """The newest revision among the migration scripts."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def script_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
