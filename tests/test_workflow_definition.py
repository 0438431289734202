"""The workflow definition: it parses, lints clean, matches the database, and its lint catches mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dfg.errors import ConfigurationError
from dfg.store.models import CASE_STATES
from dfg.workflow.definition import all_definitions, current_definition, load_definition
from dfg.workflow.diagram import mermaid
from dfg.workflow.engine import machine_for
from dfg.workflow.lint import lint

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "workflows" / "dfg.toml").read_text()


@pytest.mark.parametrize("key", list(all_definitions()))
def test_every_shipped_definition_lints_clean(key: str) -> None:
    assert lint(all_definitions()[key]) == []


def test_database_allows_exactly_the_states_in_use() -> None:
    used = {state for d in all_definitions().values() for state in d.states}
    assert used == set(CASE_STATES)


def test_open_sources_are_expanded_to_explicit_states() -> None:
    definition = current_definition()
    cancel = definition.triggers["cancel"]
    assert cancel.sources == definition.open_states
    assert "closed" not in cancel.sources and cancel.from_any_open_state


def test_machine_is_shared_and_has_no_automatic_triggers() -> None:
    definition = current_definition()
    machine = machine_for(definition)
    assert machine_for(definition) is machine
    assert not any(name.startswith("to_") for name in machine.events)
    assert set(machine.events) == set(definition.triggers)


def _lint_text(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return lint(load_definition(path))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('guards = ["has_applicant", "has_disabled_occupant"]', 'guards = ["has_aplicant"]'),
         "trigger 'accept_referral': guard 'has_aplicant' is not a registered guard"),
        (('roles = ["ot"]\nneeds = "assessment"\nrecords = "assessment_date"\nclocks',
          'roles = ["surveyor"]\nneeds = "assessment"\nrecords = "assessment_date"\nclocks'),
         "trigger 'record_assessment': role 'surveyor' is not a role"),
        (('dest = "works_ordered"', 'dest = "works_orderd"'),
         "trigger 'order_works': destination 'works_orderd' is not a state"),
        (('source = ["paid"]\ndest = "closed"', 'source = ["paid"]\ndest = "paid"'),
         "state 'paid' is a dead end: only withdrawal, cancellation or holds leave it"),
        (('source = ["certified"]\ndest = "paid"', 'source = ["certified"]\ndest = "certified"'),
         "state 'paid' cannot be reached from 'referral'"),
        (('clocks = { stop = ["decision_due"], start = ["completion_due"] }', 'clocks = { start = ["complet_due"] }'),
         "trigger 'approve': clock 'complet_due' is not defined"),
        (('reason_codes = "refusal"', 'reason_codes = "refusals"'),
         "trigger 'refuse': reason code list 'refusals' is not defined"),
        (('records = "certified_date"', 'records = "certificate_date"'),
         "trigger 'certify': records 'certificate_date', which is not a milestone of a case"),
    ],
)  # fmt: skip
def test_lint_finds_mistakes(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    old, new = change
    assert SOURCE.count(old) == 1, old
    assert problem in _lint_text(tmp_path, SOURCE.replace(old, new))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("stage = 0\n", ""), "broken.toml: state 'referral': a non-terminal state needs a stage from 0 to 4"),
        (('reason = "required"\nreason_codes = "hold"', 'reason = "always"\nreason_codes = "hold"'),
         "trigger 'hold'.reason: expected 'required' or 'optional', got 'always'"),
        (('name = "close"\n', 'name = "close"\ncolour = "red"\n'), "trigger 'close': unknown key(s) colour"),
        (('version = 1', 'version = "one"'), "broken.toml: [workflow].version: expected int, got 'one'"),
        (("[workflow]", "[workflow"), "broken.toml: "),
    ],
)  # fmt: skip
def test_structural_mistakes_fail_to_load(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(SOURCE.replace(*change, 1))
    with pytest.raises(ConfigurationError) as raised:
        load_definition(path)
    assert message in str(raised.value)


def test_diagram_highlights_a_path() -> None:
    text = mermaid(
        current_definition(), path=["referral", "awaiting_assessment"], current="test_of_resources"
    )
    assert text.startswith("stateDiagram-v2\n")
    assert "    referral --> awaiting_assessment : accept_referral\n" in text
    assert "    class referral,awaiting_assessment visited\n" in text
    assert "    class test_of_resources current\n" in text
    assert "cancel (to cancelled)" in text


def test_committed_diagram_is_current() -> None:
    committed = (ROOT / "docs" / "workflow.md").read_text()
    assert f"```mermaid\n{mermaid(current_definition())}```" in committed, (
        "run: dfg workflow diagram --output docs/workflow.md"
    )


def test_lint_finds_an_unknown_letter(tmp_path: Path) -> None:
    old = 'letters = ["acknowledgement"]'
    assert SOURCE.count(old) == 1
    problems = _lint_text(tmp_path, SOURCE.replace(old, 'letters = ["acknowledgment"]'))
    assert "trigger 'accept_referral': letter 'acknowledgment' is not a letter kind" in problems


def test_lint_refuses_a_reminder_letter_named_by_a_step(tmp_path: Path) -> None:
    old = 'letters = ["acknowledgement"]'
    problems = _lint_text(tmp_path, SOURCE.replace(old, 'letters = ["completion_reminder"]'))
    assert (
        "trigger 'accept_referral': letter 'completion_reminder' is made by a reminder "
        "(workflows/policy/reminders.toml), not by a step"
    ) in problems


def test_lint_fails_when_a_template_does_not_show_a_required_field(tmp_path: Path) -> None:
    templates = tmp_path / "letter_templates"
    shutil.copytree(ROOT / "letter_templates", templates)
    page = templates / "approval_notice.html"
    page.write_text(page.read_text().replace("{{ deferred_payment_date|longdate }}", ""))
    problems = lint(current_definition(), templates_dir=templates)
    assert any(
        p.startswith("letter template: approval_notice: ") and "deferred_payment_date" in p for p in problems
    ), problems
    assert lint(current_definition()) == []
