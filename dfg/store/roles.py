"""The PostgreSQL roles the engine runs as: what each may do to each table, as SQL for the owner to run.

The migrations run as the owner of the tables. Officers' own logins are members of a NOLOGIN group role
(``dfg_engine``) granted only what the engine does: SELECT and INSERT on the append-only tables (the
events, the decisions, the ledger, the access record), and changes to the tables that hold current state.
Users, their roles and identity mappings are changed only by administrators, whose logins are members of
a second group role (``dfg_admin``) too. Neither owns anything, so neither can ALTER a table, disable its
triggers or drop it.
"""

from __future__ import annotations

import re

from dfg.errors import InvalidInput
from dfg.store.tables import APPEND_ONLY, METADATA

#: Tables only an administrator changes: who may act, and as whom.
ADMIN_ONLY = ("users", "user_roles", "identity_mappings")

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_role_name(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name):
        raise InvalidInput(f"role '{name}' must be 1 to 63 lower-case letters, digits or '_'")
    return name


def grant_statements(engine_role: str, admin_role: str) -> list[str]:
    """The statements that create the two group roles (if missing) and set their grants afresh on every
    table of the schema; safe to run again after each ``dfg db upgrade``."""
    engine, admin = f'"{check_role_name(engine_role)}"', f'"{check_role_name(admin_role)}"'
    sql = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
        f'THEN CREATE ROLE "{name}" NOLOGIN; END IF; END $$'
        for name in (engine_role, admin_role)
    ]
    sql += [f"GRANT {engine} TO {admin}", f"GRANT USAGE ON SCHEMA public TO {engine}"]
    for table in ["alembic_version", *(t.name for t in METADATA.sorted_tables)]:
        sql.append(f"REVOKE ALL ON {table} FROM {engine}, {admin}")
        if table == "alembic_version":
            sql.append(f"GRANT SELECT ON {table} TO {engine}")
        elif table in APPEND_ONLY:
            sql.append(f"GRANT SELECT, INSERT ON {table} TO {engine}")
        elif table in ADMIN_ONLY:
            sql += [
                f"GRANT SELECT ON {table} TO {engine}",
                f"GRANT INSERT, UPDATE, DELETE ON {table} TO {admin}",
            ]
        else:
            sql.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {engine}")
    sql.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {engine}")
    return sql
