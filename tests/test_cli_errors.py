"""A refusal of the database driver reaches the officer as the engine's own error: one line, the stable
exit code, and never the SQL or its values."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from cli import main
from dfg.errors import Conflict, DatabaseProblem
from dfg.services.database import engine_error
from dfg.workflow.actor import Actor

SQL = "UPDATE cases SET state = ? WHERE id = ?"


def _refusal(message: str) -> OperationalError:
    return OperationalError(SQL, ("approved", 17), sqlite3.OperationalError(message))


def test_a_locked_database_is_a_conflict() -> None:
    error = engine_error(_refusal("database is locked"))
    assert isinstance(error, Conflict)
    assert error.message == "the database is busy (another officer is saving): try again in a moment"


def test_another_refusal_is_a_database_problem_in_the_drivers_words_only() -> None:
    error = engine_error(_refusal("attempt to write a readonly database "))
    assert isinstance(error, DatabaseProblem)
    assert error.message == "database error: attempt to write a readonly database"


def test_anything_else_is_not_the_databases() -> None:
    assert engine_error(KeyError("boom")) is None


@pytest.mark.parametrize(
    ("driver_says", "code", "line"),
    [
        (
            "database is locked",
            7,
            "dfg: the database is busy (another officer is saving): try again in a moment\n",
        ),
        ("disk I/O error", 9, "dfg: database error: disk I/O error\n"),
    ],
)
def test_the_command_exits_with_the_engines_code(
    db_url: str,
    cast: dict[str, Actor],
    monkeypatch: pytest.MonkeyPatch,
    driver_says: str,
    code: int,
    line: str,
) -> None:
    import dfg.services.case_reading as cases

    def refused(*args: object, **kwargs: object) -> None:
        raise _refusal(driver_says)

    monkeypatch.setattr(cases, "list_cases", refused)
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "officer", "case", "list"])
    assert (result.exit_code, result.stderr, result.stdout) == (code, line, "")
    assert "UPDATE" not in result.stderr and "approved" not in result.stderr


def test_an_unexpected_database_error_shows_its_kind_not_its_sql(
    db_url: str, cast: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug that surfaces as a database error (here a broken unique index) is still one line and exit 70,
    but the SQL and the values bound to it (which can be personal data) stay out of it."""
    from sqlalchemy.exc import IntegrityError

    import dfg.services.case_reading as cases

    def broken(*args: object, **kwargs: object) -> None:
        raise IntegrityError(SQL, ("Margaret Holt", 17), sqlite3.IntegrityError("UNIQUE constraint failed"))

    monkeypatch.setattr(cases, "list_cases", broken)
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "officer", "case", "list"])
    assert (result.exit_code, result.stderr) == (
        70,
        "dfg: unexpected error (IntegrityError); set DFG_DEBUG=1 to see where\n",
    )
