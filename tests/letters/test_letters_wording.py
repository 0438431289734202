"""Letters say only what an applicant should read: the figures in plain words, every threshold and name
from data, and no file names, policy keys or internal phrases, in the templates or in the text the
services pass them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from letter_pdfs import INTERNAL, flat_text
from letter_samples import CREATED_AT

from dfg.letters import context as c
from dfg.letters.render import render_pdf
from dfg.paths import letter_templates_dir
from dfg.rules.grant import ChargeRequest, calculate_grant, grant_to_dict
from dfg.rules.means_test import TraceLine
from dfg.rules.policy import load_charges_policy, load_funding_lines
from dfg.rules.rates import maximum_grant_for
from dfg.services.letter_wording import charge_how, grant_how, working_line

ON = date(2026, 4, 1)
POUNDS = 100


def figures(works: int, contribution: int, **kwargs: object) -> dict[str, object]:
    """A real grant calculation as the case stores it."""
    calculation = calculate_grant(
        works_pence=works * POUNDS,
        contribution_pence=contribution * POUNDS,
        maximum=maximum_grant_for(ON),
        policy=load_charges_policy(),
        **kwargs,  # type: ignore[arg-type]
    )
    return grant_to_dict(calculation)


def test_a_fee_reads_as_a_share_of_the_works_and_its_limit() -> None:
    stored = figures(60_000, 0, charges=[ChargeRequest("agency_fee"), ChargeRequest("survey", 350 * POUNDS)])
    agency, survey = stored["charges"]  # type: ignore[misc]
    # 15% of £60,000 is £9,000, which the policy caps at £7,500.
    assert charge_how(agency, 60_000 * POUNDS) == (
        "15% of the cost of the works, £60,000.00, limited to £7,500.00, the most our policy allows."
    )
    assert charge_how(survey, 60_000 * POUNDS) == "The fee as estimated."


def test_a_fee_recorded_before_its_figures_were_kept_apart_loses_the_file_name() -> None:
    old = {
        "kind": "agency_fee",
        "how_calculated": "15% of the eligible works £16,600.00 = £2,490.00, per charges.toml",
    }
    assert charge_how(old, 16_600 * POUNDS) == "15% of the eligible works £16,600.00 = £2,490.00."


@pytest.mark.parametrize(
    ("works", "contribution", "cap_order", "said"),
    [
        (
            20_000,
            5_000,
            None,
            "The total cost, £20,000.00, less your contribution, £5,000.00, is £15,000.00. "
            "The maximum grant is £30,000.00.",
        ),
        (
            40_000,
            5_000,
            None,
            "The total cost, £40,000.00, less your contribution, £5,000.00, is £35,000.00: more than the "
            "maximum grant, so your grant is £30,000.00.",
        ),
        (
            40_000,
            5_000,
            "cap_then_deduct",
            "The total cost, £40,000.00, is more than the maximum grant of £30,000.00: £30,000.00 less your "
            "contribution, £5,000.00, is £25,000.00.",
        ),
        (
            4_000,
            10_000,
            None,
            "Your contribution, £10,000.00, is at least the total cost, so no grant is due.",
        ),
    ],
)
def test_the_grant_reads_as_the_sum_it_is(
    works: int, contribution: int, cap_order: str | None, said: str
) -> None:
    stored = figures(works, contribution, cap_order=cap_order)
    assert grant_how(stored) == said
    assert not INTERNAL.search(said)


def test_a_funding_line_reads_with_its_label_and_figures() -> None:
    funding = load_funding_lines()
    stored = figures(40_000, 0, funding_lines=[funding.line("top_up")])
    said = grant_how(stored)
    label = funding.line("top_up").label
    assert said.startswith("The total cost, £40,000.00, less your contribution, £0.00, is £40,000.00")
    assert f"{label}: The cost above the maximum grant, £10,000.00" in said
    assert not INTERNAL.search(said), said
    small = figures(4_000, 10_000, funding_lines=[funding.line("small_works")])
    said = grant_how(small)
    assert (
        "pays for the work instead of the grant" in said and "takes the place of the mandatory grant" in said
    )
    assert "small_works" not in said


def test_the_workings_name_the_reader_and_cite_only_the_law() -> None:
    line = TraceLine(
        "Passported",
        None,
        "reg. 10(3) passport benefit",
        "passport.benefits",
        "relevant person 1 receives pension credit (guarantee credit): contribution nil",
    )
    assert working_line(line, None) == c.WorkingLine(
        label="Passported",
        basis="You receive pension credit (guarantee credit): you do not pay anything (reg. 10(3) passport benefit).",
    )
    income = TraceLine("State pension, relevant person 2", 20_000, "reg. 11 income", None, "£200.00 a week")
    assert working_line(income, None).label == "State pension (your partner)"
    universal = TraceLine(
        "Passported",
        None,
        "Universal Credit treated as a passport (council setting)",
        "passport.universal_credit",
        "relevant person 1 receives Universal Credit, treated as a passport (council practice (guides list "
        "UC as a passport); no statutory amendment found): contribution nil",
    )
    assert not INTERNAL.search(working_line(universal, None).basis)
    factor = TraceLine("Loan factor", None, "reg. 12 loan factor", "loan_factor.owner", "owner's application")
    loan = working_line(factor, Fraction(1162, 3))
    assert (loan.amount, loan.figure, loan.is_money) == (None, "387⅓", False)


def test_no_template_prints_a_file_name_a_key_or_a_fixed_amount() -> None:
    for template in sorted(Path(letter_templates_dir()).glob("*.html")):
        # What the reader sees: the template without its comments and its {{ }} and {% %} code.
        source = re.sub(r"{#.*?#}|{{.*?}}|{%.*?%}|<[^>]+>", " ", template.read_text(), flags=re.DOTALL)
        assert not INTERNAL.search(source), f"{template.name}: {INTERNAL.search(source)}"
        # Every amount comes from the case or the rate tables; every council is named by its branding.
        assert not re.search(r"£\s?\d", source), f"{template.name} prints a fixed amount"
        period = re.search(
            r"\b(\d+|one|two|three|four|five|six|ten|twelve)\s+(days?|weeks?|months?|years?)\b", source
        )
        assert not period, f"{template.name} prints a fixed period: {period}"
        assert "County Council" not in source and "Staffordshire" not in source, template.name


@pytest.mark.parametrize("kind", ["approval_notice", "land_charge_notice"])
def test_the_land_charge_threshold_comes_from_its_terms(
    kind: str, contexts: dict[str, c.LetterContext]
) -> None:
    context = replace(contexts[kind], land_charge_threshold=600_000)
    text = flat_text(render_pdf(kind, context, letter_id="t", created_at=CREATED_AT))
    assert "the grant is more than £6,000.00" in text or "the grant was more than £6,000.00" in text
    assert "£5,000" not in text


@pytest.mark.parametrize(
    ("social_care", "named"),
    [
        (
            "Anyshire County Council's adult social care service",
            "Anyshire County Council's adult social care",
        ),
        (None, "your local social care service"),
    ],
)
def test_the_refusal_names_the_districts_own_social_care_service(
    social_care: str | None, named: str, contexts: dict[str, c.LetterContext]
) -> None:
    context = contexts["refusal_notice"]
    context = replace(context, branding=replace(context.branding, social_care=social_care))
    text = flat_text(render_pdf("refusal_notice", context, letter_id="t", created_at=CREATED_AT))
    assert f"equipment from {named}" in text
    assert "Staffordshire" not in text


def test_every_sample_letter_is_free_of_internals(texts: dict[str, str]) -> None:
    found = {kind: INTERNAL.findall(text) for kind, text in texts.items()}
    assert not {kind: hits for kind, hits in found.items() if hits}
