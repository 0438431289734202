"""Letter contracts, and the static check that a template shows every field its contract requires."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from dfg.errors import InvalidInput
from dfg.letters import contracts
from dfg.letters.contracts import CONTRACTS, LETTER_KINDS, check_template, contract_for
from dfg.paths import letter_templates_dir


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """A copy of the letter templates to break."""
    root = tmp_path / "letter_templates"
    shutil.copytree(letter_templates_dir(), root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_every_template_meets_its_contract(kind: str) -> None:
    assert check_template(kind) == []


def test_there_is_a_template_for_each_kind_and_a_kind_for_each_template() -> None:
    letters = {p.stem for p in letter_templates_dir().glob("*.html") if not p.name.startswith("_")}
    assert letters - {"base"} == set(LETTER_KINDS)


def test_the_kinds_of_section_6() -> None:
    assert set(LETTER_KINDS) == {
        "acknowledgement", "assessment_appointment", "assessment_cancellation", "test_of_resources_result", "request_for_information",
        "valid_application_received", "approval_notice", "refusal_notice", "reapproval_variation",
        "works_order", "variation_order", "interim_payment", "completion_reminder", "completion_certified",
        "land_charge_notice", "hold_notice", "withdrawal_notice", "closure_notice", "repayment_demand",
    }  # fmt: skip
    contractor = {k for k in LETTER_KINDS if CONTRACTS[k].recipient == "contractor"}
    assert contractor == {"works_order", "variation_order", "interim_payment", "completion_reminder"}
    # Made from the daily tick's reminders, not from a step of the workflow.
    assert {k for k in LETTER_KINDS if CONTRACTS[k].reminder} == {"completion_reminder"}


def test_approval_notice_contract_covers_section_34() -> None:
    required = set(contract_for("approval_notice").all_required_fields)
    for path in (
        "calculation.works[].how_calculated",
        "calculation.charges[].how_calculated",
        "calculation.grant",
        "calculation.contribution",
        "deferred_payment_date",
        "direct_payment",
        "completion_due",
        "grant_condition_years",
        "land_charge_amount",
        "review_by",
        "branding.complaints_web",
    ):
        assert path in required


def test_unknown_kind() -> None:
    with pytest.raises(InvalidInput, match="unknown letter kind 'postcard'"):
        check_template("postcard")


def test_a_template_that_drops_a_required_field_is_reported(templates: Path) -> None:
    edit(
        templates / "_parts.html",
        '<span class="how">How we worked this out: {{ item.how_calculated }}</span>',
        "",
    )
    problems = check_template("approval_notice", templates_dir=templates)
    assert problems == [
        "approval_notice: template does not show required field 'calculation.works[].how_calculated'",
        "approval_notice: template does not show required field 'calculation.charges[].how_calculated'",
    ]


def test_a_field_only_tested_is_not_shown(templates: Path) -> None:
    edit(
        templates / "approval_notice.html",
        "<p>We will not pay the grant before {{ deferred_payment_date|longdate }}.</p>",
        "<p>There is a date before which we will not pay.</p>",
    )
    assert check_template("approval_notice", templates_dir=templates) == [
        "approval_notice: template does not show required field 'deferred_payment_date'"
    ]


def test_a_field_dropped_from_the_base_layout_is_reported_for_every_kind(templates: Path) -> None:
    edit(templates / "base.html", "<p>Phone: {{ branding.phone }}</p>", "")
    edit(templates / "base.html", "{{ officer.phone or branding.phone }}", "{{ officer.phone }}")
    edit(templates / "_review.html", "or phone {{ branding.phone }}", "")
    for kind in LETTER_KINDS:
        assert f"{kind}: template does not show required field 'branding.phone'" in check_template(
            kind, templates_dir=templates
        )


def test_a_block_overridden_by_the_child_does_not_count(templates: Path) -> None:
    # base.html's "references" block is replaced by the variation order's own, so a field printed only
    # in base.html's version of the block is never shown.
    edit(
        templates / "base.html",
        "{% block references %}{% endblock %}",
        "{% block references %}{{ case_reference }}{% endblock %}",
    )
    edit(templates / "base.html", "<dt>Our reference:</dt> <dd>{{ case_reference }}</dd>", "")
    edit(templates / "base.html", "Our reference {{ case_reference }}</span></footer>", "</span></footer>")
    edit(templates / "base.html", "Please quote our reference {{ case_reference }}.", "")
    assert check_template("variation_order", templates_dir=templates) == [
        "variation_order: template does not show required field 'case_reference'"
    ]
    assert check_template("hold_notice", templates_dir=templates) == []


def test_a_missing_phrase_is_reported(templates: Path) -> None:
    edit(templates / "works_order.html", "The contract for the works is between", "The contract is between")
    assert check_template("works_order", templates_dir=templates) == [
        "works_order: template does not say 'contract for the works is between'"
    ]


def test_a_missing_template_and_a_syntax_error_are_reported(templates: Path) -> None:
    (templates / "hold_notice.html").unlink()
    assert check_template("hold_notice", templates_dir=templates) == [
        "hold_notice: template hold_notice.html not found"
    ]
    (templates / "closure_notice.html").write_text("{% extends 'base.html' %}{% block body %}{{ reason }")
    (problem,) = check_template("closure_notice", templates_dir=templates)
    assert problem.startswith("closure_notice: syntax error in closure_notice.html line 1")


def test_a_contract_naming_a_field_that_does_not_exist_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    contract = CONTRACTS["hold_notice"]
    broken = replace(contract, required_fields=(*contract.required_fields, "review_dat", "next_steps[].text"))
    monkeypatch.setattr(contracts, "CONTRACTS", {**CONTRACTS, "hold_notice": broken})
    problems = check_template("hold_notice")
    assert "hold_notice: contract names 'review_dat', which is not a field of HoldNotice" in problems
    assert "hold_notice: contract names 'next_steps[].text', which is not a field of HoldNotice" in problems


def test_loops_sets_and_macros_resolve_to_context_paths(tmp_path: Path) -> None:
    (tmp_path / "_m.html").write_text("{% macro row(thing) %}{{ thing.amount|pounds }}{% endmacro %}")
    (tmp_path / "base.html").write_text("{% block body %}{% endblock %}")
    (tmp_path / "hold_notice.html").write_text(
        "{% extends 'base.html' %}{% from '_m.html' import row %}{% block body %}"
        "{% set when = review_date %}{{ when|longdate }}"
        "{% for step in next_steps|list %}{{ step }}{% endfor %}"
        "{{ hold_date if reason else '' }}{% with why = reason %}{{ why }}{% endwith %}"
        "{% endblock %}"
    )
    problems = check_template("hold_notice", templates_dir=tmp_path)
    # Everything of its own is shown; only the common fields (normally in the real base.html) are missing.
    assert problems == [
        f"hold_notice: template does not show required field {path!r}" for path in contracts.COMMON_FIELDS
    ]
