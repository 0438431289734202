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
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Select

_Processor = Callable[[Any], Any] | None
_REQUIRED = object()  # a parameter the caller must give (a constant of the statement need not be)


@dataclass(frozen=True)
class Driver:
    """The driver's own connection in a transaction (from
    :meth:`dfg.store.database.Database.driver_transaction`), and the dialect its SQL is rendered for."""

    connection: PoolProxiedConnection
    dialect: Dialect


#: Where a prepared statement runs, inside the caller's transaction: both have ``.connection`` (the
#: driver's) and ``.dialect``.
DriverConnection = Connection | Driver


class PreparedStatement:
    """One Core statement rendered for one dialect: its SQL, how to bind its parameters, how to read rows."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, *, column_keys: list[str] | None = None
    ) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=column_keys))
        self.sql = compiled.string
        self._positional = dialect.positional
        names = list(compiled.positiontup or ()) if dialect.positional else list(compiled.binds)
        expanding = [name for name, bind in compiled.binds.items() if bind.expanding]
        if expanding:  # an IN list is rendered per execution, which is what preparing avoids
            raise ValueError(f"cannot prepare an expanding IN ({expanding[0]}): compare with each value")
        # (name, converter, the value written into the statement: a constant, a LIMIT)
        self._binds: list[tuple[str, _Processor, Any]] = [
            (
                name,
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                _REQUIRED if compiled.binds[name].required else compiled.binds[name].value,
            )
            for name in names
        ]
        self._row: Any = None
        self._results: list[_Processor] = []
        if isinstance(statement, Select):
            columns = list(statement.selected_columns)
            self._row = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]
            self._results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """``values`` by bind name, converted for the driver and in the order its paramstyle wants."""
        converted = []
        for name, process, constant in self._binds:
            value = values[name] if constant is _REQUIRED else values.get(name, constant)
            converted.append((name, value if process is None else process(value)))
        if self._positional:
            return tuple(value for _, value in converted)
        return dict(converted)

    def run(self, connection: DriverConnection, values: Mapping[str, Any]) -> Any:
        """Execute on ``connection``'s driver cursor, in its current transaction; returns the cursor."""
        cursor = connection.connection.cursor()
        cursor.execute(self.sql, self.parameters(values))
        return cursor

    def rowcount(self, connection: DriverConnection, values: Mapping[str, Any]) -> int:
        """Execute an UPDATE or DELETE; the number of rows it matched."""
        cursor = self.run(connection, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def rows(self, connection: DriverConnection, values: Mapping[str, Any]) -> list[Any]:
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


class Prepared:
    """A statement prepared per dialect on first use (a process may open SQLite and PostgreSQL)."""

    def __init__(self, statement: ClauseElement, *, column_keys: list[str] | None = None) -> None:
        self._statement = statement
        self._column_keys = column_keys
        self._by_dialect: dict[str, PreparedStatement] = {}

    def for_(self, connection: DriverConnection) -> PreparedStatement:
        dialect = connection.dialect
        key = f"{dialect.name}+{dialect.driver}"  # drivers differ in paramstyle
        prepared = self._by_dialect.get(key)
        if prepared is None:
            prepared = PreparedStatement(self._statement, dialect, column_keys=self._column_keys)
            self._by_dialect[key] = prepared
        return prepared

    def rows(self, connection: DriverConnection, values: Mapping[str, Any]) -> list[Any]:
        """Execute a SELECT on ``connection``; its rows as named tuples."""
        return self.for_(connection).rows(connection, values)

    def rowcount(self, connection: DriverConnection, values: Mapping[str, Any]) -> int:
        """Execute an UPDATE or DELETE on ``connection``; the number of rows it matched."""
        return self.for_(connection).rowcount(connection, values)

    def execute(self, connection: DriverConnection, values: Mapping[str, Any]) -> None:
        """Execute an INSERT (or any statement whose result is not wanted) on ``connection``."""
        self.for_(connection).run(connection, values).close()
