"""Persistence: engines and transactions, tables, migrations and the append-only audit log."""
