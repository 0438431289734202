"""What a report covers when no period is given, on cases walked through the real services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from dfg.reports.data_return import data_return
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import walk_to

TODAY = date(2026, 11, 20)  # in 2026-27: the last complete financial year is 2025-26


def test_the_data_return_is_for_the_last_complete_year_with_completions_else_the_latest(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    manager = cast["manager"]
    # Nothing completed yet: the last complete year, empty.
    nothing = data_return(db, manager, today=TODAY)
    assert (nothing.scope.financial_year, nothing.completed.cases, nothing.in_progress) == (
        "2025-26",
        0,
        False,
    )

    # Completions only in the year in progress (a new installation, or the demonstration): that year, to
    # date, and the return says so.
    this_year = open_sample()
    walk_to(db, cast, this_year, "certified", on=date(2026, 6, 1))
    to_date = data_return(db, manager, today=TODAY)
    assert (to_date.scope.financial_year, to_date.completed.cases, to_date.in_progress) == (
        "2026-27",
        1,
        True,
    )
    assert "The year is not over: figures to 20 November 2026." in to_date.as_text()
    assert to_date.as_dict()["in_progress"] is True

    # Once the last complete year has a completion, it is the one, as the annual return is made for it.
    last_year = open_sample(first_contact_date=date(2025, 1, 6))
    walk_to(db, cast, last_year, "certified", on=date(2025, 6, 2))
    annual = data_return(db, manager, today=TODAY)
    assert (annual.scope.financial_year, annual.completed.cases, annual.in_progress) == ("2025-26", 1, False)
    assert "The year is not over" not in annual.as_text()
    # A year given is the year reported, completions or not.
    assert data_return(db, manager, financial_year="2024-25", today=TODAY).completed.cases == 0
