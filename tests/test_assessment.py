"""The OT's assessment, the feasibility finding, batch import and the test of resources on a case."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from cli import main
from dfg.errors import GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.services.assessment import (
    assessments_of,
    determination,
    determinations,
    import_assessments,
    parse_assessment,
    record_assessment,
    record_feasibility,
    run_means_test,
)
from dfg.services.case_history import history
from dfg.services.case_opening import NewPerson
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.store.database import Database
from dfg.store.models import Assessment, Person, RecommendedWork
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import HOUSEHOLD, approve, sample_assessment, take_step

ROW = {
    "assessed_on": "2026-02-10",
    "assessor": "Ruth Ashley",
    "organisation": "Staffordshire County Council",
    "purposes": "d;f",
    "works": "stairlift_straight;other:grab rails by the bath",
    "priority": "urgent",
    "priority_reason": "hospital discharge",
    "necessary_and_appropriate": "yes",
    "reasons": "Cannot climb the stairs",
    "nhs_number": "943 476 5919",
}


@pytest.fixture
def awaiting(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral", TriggerInput(on=date(2026, 1, 7)))
    return reference


def _count(db: Database, table: type) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_necessary_works_move_the_case_on(db: Database, cast: dict[str, Actor], awaiting: str) -> None:
    result = record_assessment(db, cast["ot"], awaiting, parse_assessment(ROW))
    assert (result.trigger, result.to_state, result.effective_date) == (
        "record_assessment",
        "test_of_resources",
        date(2026, 2, 10),
    )
    view = show_case(db, cast["officer"], awaiting)
    assert (view.priority, view.priority_reason) == ("urgent", "hospital discharge")
    assert view.milestones["assessment_date"] == date(2026, 2, 10)
    with db.reading() as session:
        assert session.scalar(select(Person.nhs_number)) == "9434765919"
        assert session.scalars(select(RecommendedWork.description)).all() == [None, "grab rails by the bath"]
    [found] = assessments_of(db, cast["officer"], awaiting)
    assert found["purposes"] == ["d", "f"] and found["finding"] == "necessary and appropriate"


def test_works_not_necessary_close_the_case_with_reasons(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    result = record_assessment(db, cast["ot"], awaiting, sample_assessment(date(2026, 2, 1), necessary=False))
    assert (result.trigger, result.to_state) == ("assess_not_eligible", "closed")
    last = history(db, cast["officer"], awaiting)[-1]
    assert (last.code, last.reason) == (
        "not_necessary_appropriate",
        "Cannot climb the stairs or step into the bath safely",
    )


def test_a_bare_trigger_cannot_skip_the_assessment(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    with pytest.raises(GuardFailed, match="record the assessment with 'dfg assess record'"):
        advance(db, cast["ot"], awaiting, "record_assessment")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"purposes": "d;z"}, "unknown s.23 purpose 'z'"),
        ({"works": "stairlift"}, "unknown work 'stairlift'"),
        ({"works": "other"}, "work 'other' needs a description"),
        ({"nhs_number": "943 476 5918"}, "nhs_number: '943 476 5918' fails the check digit"),
        ({"reasons": ""}, "reasons: required"),
        ({"priority_reason": None}, "priority_reason: an urgent assessment needs a reason"),
        (
            {"necessary_and_appropriate": "maybe"},
            "necessary_and_appropriate: expected yes or no, got 'maybe'",
        ),
        ({"assessed_on": "10/13/2026"}, "assessed_on: '10/13/2026' is not a date"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_bad_assessments_are_refused_and_change_nothing(
    db: Database, cast: dict[str, Actor], awaiting: str, change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        record_assessment(db, cast["ot"], awaiting, parse_assessment({**ROW, **change}))
    assert _count(db, Assessment) == 0
    assert show_case(db, cast["officer"], awaiting).state == "awaiting_assessment"


def test_only_an_ot_records_an_assessment(db: Database, cast: dict[str, Actor], awaiting: str) -> None:
    with pytest.raises(PermissionDenied, match="needs the role Occupational therapist"):
        record_assessment(db, cast["officer"], awaiting, parse_assessment(ROW))
    assert _count(db, Assessment) == 0


def test_a_future_assessment_is_refused(db: Database, cast: dict[str, Actor], awaiting: str) -> None:
    with pytest.raises(InvalidInput, match="is in the future"):
        record_assessment(
            db, cast["ot"], awaiting, replace(parse_assessment(ROW), assessed_on=date(2099, 1, 1))
        )


def test_batch_import_all_or_nothing(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    references = [open_sample() for _ in range(3)]
    for reference in references:
        advance(db, cast["officer"], reference, "accept_referral")
    rows = [{"reference": r, **ROW} for r in references]
    rows[1] = {**rows[1], "works": "jacuzzi"}
    rows[2] = {**rows[2], "reference": "CAN-2026-0999"}
    report = import_assessments(db, cast["ot"], rows)
    assert report.imported == []
    assert report.problems == [
        "row 2.works: unknown work 'jacuzzi' (known: " + report.problems[0].split("(known: ")[1],
        "row 3: no case CAN-2026-0999",
    ]
    assert _count(db, Assessment) == 0
    dry = import_assessments(db, cast["ot"], [{"reference": r, **ROW} for r in references], dry_run=True)
    assert (dry.problems, dry.imported, _count(db, Assessment)) == ([], [], 0)
    done = import_assessments(db, cast["ot"], [{"reference": r, **ROW} for r in references])
    assert [a.to_state for a in done.imported] == ["test_of_resources"] * 3


def test_batch_import_from_csv_on_the_command_line(
    db_url: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], tmp_path: Path
) -> None:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    path = tmp_path / "batch.csv"
    path.write_text(
        "reference,"
        + ",".join(ROW)
        + "\n"
        + reference
        + ","
        + ",".join(f'"{v}"' for v in ROW.values())
        + "\n"
    )
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "ot", "assess", "import", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{reference}: record_assessment (awaiting_assessment -> test_of_resources)\n"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**ROW, "reference": reference, "purposes": "q"}]))
    refused = CliRunner().invoke(main, ["--db", db_url, "--as", "ot", "assess", "import", str(bad)])
    assert refused.exit_code == 8
    assert refused.stderr.splitlines()[-1] == "dfg: 1 of 1 row(s) are wrong: nothing was recorded"


def test_feasibility_finding(db: Database, cast: dict[str, Actor], awaiting: str) -> None:
    record_feasibility(db, cast["technical"], awaiting, decided_on=date(2026, 3, 1), reasonable_and_practicable=False,
                       reasons="Structural defects in the stair")  # fmt: skip
    assert assessments_of(db, cast["officer"], awaiting)[-1]["finding"] == "not reasonable and practicable"
    with pytest.raises(PermissionDenied):
        record_feasibility(db, cast["officer"], awaiting, decided_on=date(2026, 3, 1), reasonable_and_practicable=True,
                           reasons="x")  # fmt: skip
    with pytest.raises(InvalidInput, match="--reasons: required"):
        record_feasibility(db, cast["technical"], awaiting, decided_on=date(2026, 3, 1), reasonable_and_practicable=True,
                           reasons=" ")  # fmt: skip


def test_means_test_is_provisional_then_locked(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    steps = [("accept_referral", "officer"), ("record_assessment", "ot")]
    for trigger, who in steps:
        take_step(db, cast, reference, trigger, who, TriggerInput())
    with pytest.raises(GuardFailed, match="has_determination"):
        advance(db, cast["officer"], reference, "complete_test_of_resources")
    first = run_means_test(db, cast["officer"], reference, {**HOUSEHOLD, "capital": "1000.00"})
    second = run_means_test(db, cast["officer"], reference, HOUSEHOLD)
    assert first.provisional and second.provisional
    assert second.determination.contribution_pence == 10_199_45
    assert determination(db, cast["officer"], reference).id == second.id
    for trigger in ("complete_test_of_resources", "receive_application"):
        advance(db, cast["officer"], reference, trigger)
    take_step(db, cast, reference, "validate_application", "officer", TriggerInput())
    approve(db, cast, reference, 5_000_00)
    with pytest.raises(InvalidInput, match="is approved: its determination is locked"):
        run_means_test(db, cast["officer"], reference, HOUSEHOLD)
    with pytest.raises(InvalidInput, match="unknown --code 'oops'"):
        run_means_test(db, cast["officer"], reference, HOUSEHOLD, code="oops", reason="x")
    third = run_means_test(
        db, cast["officer"], reference, HOUSEHOLD, code="error_corrected", reason="Pension misread"
    )
    assert not third.provisional and third.code == "error_corrected"
    assert [d.id for d in determinations(db, cast["officer"], reference)] == [first.id, second.id, third.id]
    assert "Redone after approval [error_corrected]: Pension misread" in third.explain()
    with pytest.raises(DatabaseError, match="append-only"), db.write_engine.begin() as connection:
        connection.execute(text("UPDATE determinations SET contribution_pence = 0"))
    with pytest.raises(NotFound, match="has no determination 999"):
        determination(db, cast["officer"], reference, 999)


def test_means_test_on_the_command_line(
    db_url: str, db: Database, cast: dict[str, Actor], awaiting: str, tmp_path: Path
) -> None:
    household = tmp_path / "household.json"
    household.write_text(json.dumps(HOUSEHOLD))
    run = CliRunner().invoke(
        main,
        ["--db", db_url, "--as", "officer", "means-test", "run", awaiting, "--household", str(household)],
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout.endswith("assessed, contribution £10,199.45 (rates england-2008-10)\n")
    explained = CliRunner().invoke(
        main, ["--db", db_url, "--as", "officer", "means-test", "explain", awaiting]
    )
    assert "Applicable amount: £94.95 + £61.30 = £156.25 a week" in explained.stdout
    as_json = json.loads(
        CliRunner()
        .invoke(main, ["--db", db_url, "--as", "officer", "means-test", "explain", awaiting, "--json"])
        .stdout
    )
    assert (as_json["contribution_pence"], as_json["provisional"]) == (10_199_45, True)
    household.write_text(json.dumps({**HOUSEHOLD, "tenure": "tenant"}))  # the case is an owner's
    mismatch = CliRunner().invoke(
        main,
        ["--db", db_url, "--as", "officer", "means-test", "run", awaiting, "--household", str(household)],
    )
    assert (mismatch.exit_code, mismatch.stderr) == (
        8,
        "dfg: tenure: the household is for a tenant's application, but the case is an owner's application: "
        "a test of resources is for the case's own kind of application\n",
    )
    assert len(determinations(db, cast["officer"], awaiting)) == 1  # nothing recorded on refusal
    household.write_text('{"tenure": "castle"}')
    bad = CliRunner().invoke(
        main,
        ["--db", db_url, "--as", "officer", "means-test", "run", awaiting, "--household", str(household)],
    )
    assert bad.exit_code == 8 and bad.stderr.startswith("dfg: ") and bad.stderr.count("\n") == 1


def test_an_nhs_number_is_never_given_to_the_wrong_person(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    couple = (
        NewPerson(given_name="Margaret", family_name="Holt", is_applicant=True, is_disabled_occupant=True,
                  date_of_birth=date(1950, 1, 1)),
        NewPerson(given_name="Brian", family_name="Holt", is_disabled_occupant=True, date_of_birth=date(1949, 1, 1)),
    )  # fmt: skip
    reference = open_sample(people=couple)
    advance(db, cast["officer"], reference, "accept_referral")
    with pytest.raises(InvalidInput, match="the case has 2 disabled occupants"):
        record_assessment(db, cast["ot"], reference, parse_assessment(ROW))
    assert _count(db, Assessment) == 0
