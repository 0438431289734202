"""The people on a case after it is opened (``dfg case person add/remove``): added or removed with a
reason, the history saying who, by whom and why, the names sealed beside the chain, the search index
and the case page following."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from dfg.errors import Conflict, GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.case_opening import NewPerson
from dfg.services.case_reading import show_case
from dfg.services.case_search import find_cases
from dfg.services.household import add_person, remove_person
from dfg.store.database import Database
from dfg.workflow.actor import Actor

PETER = NewPerson(given_name="Peter", family_name="Quimbley", date_of_birth=date(1948, 2, 3),
                  relationship_to_applicant="husband")  # fmt: skip


def test_a_person_added_and_removed_the_history_says_so(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    added = add_person(db, cast["officer"], reference, PETER, "relevant_person", "left off the referral")
    assert added.payload["person"] == 2 and added.payload["test_of_resources_may_change"] is True
    view = show_case(db, cast["officer"], reference)
    assert [p["name"] for p in view.people] == ["Mrs Margaret Holt", "Peter Quimbley"]
    assert view.people[1]["roles"] == ["relevant_person"]
    assert view.people[1]["relationship_to_applicant"] == "husband"
    assert [f.case.reference for f in find_cases(db, cast["officer"], "Quimbley")] == [reference]
    last = history(db, cast["officer"], reference)[-1]
    assert (last.kind, last.reason, last.actor) == ("person_added", "left off the referral", "officer")
    assert last.detail == "added Peter Quimbley (relevant person)"

    remove_person(db, cast["officer"], reference, 2, "moved out in March")
    view = show_case(db, cast["officer"], reference)
    assert [p["name"] for p in view.people] == ["Mrs Margaret Holt"]
    assert find_cases(db, cast["officer"], "Quimbley") == []
    last = history(db, cast["officer"], reference)[-1]
    assert (last.kind, last.reason) == ("person_removed", "moved out in March")
    assert last.detail == "removed Peter Quimbley (relevant person)"
    with db.read_connection() as connection:
        hashed = " ".join(
            connection.execute(
                text("SELECT payload || coalesce(reason, '') FROM events WHERE kind LIKE 'person_%'")
            ).scalars()
        )
    assert "Quimbley" not in hashed and "referral" not in hashed and "1948" not in hashed
    assert verify_audit(db, cast["manager"]).problems == ()


def test_every_problem_at_once_and_nothing_added(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    before = show_case(db, cast["officer"], reference)
    wrong = NewPerson(given_name=" ", family_name="Holt", date_of_birth=date(2999, 1, 1), email="nobody")
    with pytest.raises(InvalidInput) as refused:
        add_person(db, cast["officer"], reference, wrong, "lodger", " ")
    assert set(refused.value.fields) == {"role", "given_name", "email", "date_of_birth", "reason"}
    for part in ("role 'lodger'", "first name is required", "e-mail", "in the future", "reason: say why"):
        assert part in refused.value.message
    after = show_case(db, cast["officer"], reference)
    assert (after.version, len(after.people)) == (before.version, 1)


def test_the_applicant_and_the_only_disabled_occupant_stay(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    with pytest.raises(GuardFailed, match="is the applicant"):
        remove_person(db, cast["officer"], reference, 1, "wrong")
    add_person(db, cast["officer"], reference, PETER, "disabled_occupant", "also disabled")
    with pytest.raises(NotFound):
        remove_person(db, cast["officer"], reference, 3, "no one")
    remove_person(db, cast["officer"], reference, 2, "listed twice")
    version = show_case(db, cast["officer"], reference).version
    with pytest.raises(Conflict):
        add_person(
            db, cast["officer"], reference, PETER, "household_member", "x", expected_version=version - 1
        )
    add_person(db, cast["officer"], reference, PETER, "household_member", "x", expected_version=version)
    assert show_case(db, cast["officer"], reference).people[1]["roles"] == []


def test_only_a_grant_officer_of_the_district(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    with pytest.raises(PermissionDenied):
        add_person(db, cast["manager"], reference, PETER, "relevant_person", "x")
    other = open_sample("LIC", by="lichfield")
    with pytest.raises(PermissionDenied):
        remove_person(db, cast["officer"], other, 1, "x")


def test_the_commands(db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    run = CliRunner().invoke
    result = run(main, ["--db", db_url, "--as", "officer", "case", "person", "add", reference, "--name",
                        "Peter Quimbley", "--role", "relevant-person", "--reason", "left off"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{reference}: added Peter Quimbley (relevant person) as person 2\n")
    result = run(main, ["--db", db_url, "--as", "officer", "case", "person", "remove", reference, "1",
                        "--reason", "wrong", "--json"])  # fmt: skip
    assert result.exit_code == GuardFailed.exit_code and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "applicant" in result.stderr
    result = run(main, ["--db", db_url, "--as", "officer", "case", "person", "add", reference, "--name",
                        "Ann Holt", "--role", "household-member", "--reason", " "])  # fmt: skip
    assert result.exit_code == InvalidInput.exit_code and result.stderr.count("\n") == 1
    result = run(main, ["--db", db_url, "--as", "officer", "case", "person", "remove", reference, "2",
                        "--reason", "moved out", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    said = json.loads(result.stdout)
    assert said == {"reference": reference, "removed": 2, "name": "Peter Quimbley",
                    "roles": ["relevant_person"], "test_of_resources_may_change": True}  # fmt: skip
