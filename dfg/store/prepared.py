"""Statements of the hot path, compiled once per dialect and run on the driver's own cursor.

Running a statement through SQLAlchemy's ``Connection.execute`` costs about 100 µs of Python on top of
the driver's 15 µs (execution context, events, result set-up); advancing a case runs three of them.
A :class:`PreparedStatement` is the same Core statement rendered once by SQLAlchemy's compiler for the
database's dialect, with the same type conversions on the way in and out (SQLite keeps dates as text,
instants go through :class:`~dfg.store.models.UTCDateTime`), run on the DBAPI cursor of the connection
the caller already holds, in the caller's transaction.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Select

_Processor = Callable[[Any], Any] | None


class PreparedStatement:
    """One Core statement rendered for one dialect: its SQL, how to bind its parameters, how to read rows."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, *, column_keys: list[str] | None = None
    ) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=column_keys))
        self.sql = compiled.string
        self._positional = dialect.positional
        names = list(compiled.positiontup or ()) if dialect.positional else list(compiled.binds)
        self._binds: list[tuple[str, _Processor]] = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]
        self._row: Any = None
        self._results: list[_Processor] = []
        if isinstance(statement, Select):
            columns = list(statement.selected_columns)
            self._row = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]
            self._results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """``values`` by bind name, converted for the driver and in the order its paramstyle wants."""
        converted = [
            (name, values[name] if process is None else process(values[name]))
            for name, process in self._binds
        ]
        if self._positional:
            return tuple(value for _, value in converted)
        return dict(converted)

    def run(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Execute on ``connection``'s driver cursor, in its current transaction; returns the cursor."""
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self.parameters(values))
        return cursor

    def rowcount(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Execute an UPDATE or DELETE; the number of rows it matched."""
        cursor = self.run(connection, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Execute a SELECT; its rows as named tuples keyed like the statement's columns."""
        cursor = self.run(connection, values)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make, processors = self._row._make, self._results
        if not any(processors):
            return [make(row) for row in fetched]
        return [
            make(
                [
                    value if process is None else process(value)
                    for value, process in zip(row, processors, strict=True)
                ]
            )
            for row in fetched
        ]


class PreparedCache:
    """Prepared statements per dialect, made on first use (a process may open SQLite and PostgreSQL)."""

    def __init__(self, make: Callable[[Dialect], PreparedStatement]) -> None:
        self._make = make
        self._by_dialect: dict[str, PreparedStatement] = {}

    def for_(self, connection: Connection) -> PreparedStatement:
        dialect = connection.dialect
        key = f"{dialect.name}+{dialect.driver}"  # drivers differ in paramstyle
        prepared = self._by_dialect.get(key)
        if prepared is None:
            prepared = self._by_dialect[key] = self._make(dialect)
        return prepared
