"""A generated population for the report tests, built once per backend and shared (the reports only read).

The population's plan (``bench/population.py``) is kept beside the database: each test works out what a
report should say from the plan itself, with the clock and calendar rules, never from report code.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bench.population import PlannedCase, insert_population, plan_population, seed_reference_data
from dfg.services.identity import user_actor
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import BACKENDS, PostgresDatabases

#: The population's "today": a Tuesday, in the middle of the 2026-27 financial year.
TODAY = date(2026, 10, 13)
CASES = 3000


@dataclass(frozen=True)
class Population:
    db: Database
    plans: tuple[PlannedCase, ...]
    today: date
    manager: Actor


@pytest.fixture(scope="session", params=BACKENDS)
def population(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Population]:
    """:data:`CASES` planned cases with their event logs, in a fresh database of each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("population") / "population.sqlite"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        postgres: PostgresDatabases = request.getfixturevalue("postgres")
        url = postgres.fresh()
    db = Database(url)
    seed_reference_data(db)
    plans = tuple(plan_population(CASES, today=TODAY, seed=7, years=3))
    insert_population(db, plans, events=True)
    yield Population(db, plans, TODAY, user_actor(db, "manager"))
    db.dispose()
