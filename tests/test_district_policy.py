"""Local policy per district: service targets and the review window, the authority's jurisdiction and
means-test settings, and the land-charge terms, each chosen by the district's own file as charges are,
and checked by `dfg workflow lint`. And a landlord's application, whose grant the council decides (s.31)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select, text

from cli import main
from dfg.errors import ConfigurationError, GuardFailed, InvalidInput, PermissionDenied
from dfg.paths import workflows_dir
from dfg.rules.clock import local_day, utcnow
from dfg.rules.clocks import clock_policy_for, default_clock_policy
from dfg.rules.jurisdiction import land_charge_in, maximum_grant_in, means_test_rates_in
from dfg.rules.policy import read_authority_policy
from dfg.services.approval import ApprovalTerms, approval_versions, approve_grant
from dfg.services.assessment import run_means_test
from dfg.services.case_opening import PostalAddress, set_postal_address
from dfg.services.case_reading import show_case
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.landlord_grant import decide_landlord_grant, landlord_decisions
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import list_letters
from dfg.store.database import Database
from dfg.store.models import LETTERS
from dfg.workflow.actor import Actor
from dfg.workflow.policy_lint import policy_problems
from tests.conftest import HOUSEHOLD, prepare_works, walk_to

ON = date(2026, 6, 1)
DISTRICTS = frozenset({"CAN", "LIC", "TAM"})

WELSH_AUTHORITY = 'jurisdiction = "wales"\n'
LICHFIELD_AUTHORITY = """jurisdiction = "england"
[means_test]
universal_credit_passport = false
universal_credit_basis = "Lichfield Housing Assistance Policy 2026, para. 4.2"
tax_credit_income_ceiling = "16000.00"
tax_credit_income_ceiling_basis = "Lichfield Housing Assistance Policy 2026, para. 4.3"
"""


def _welsh_rows(workflows: Path) -> None:
    """A Welsh means-test table and Welsh land-charge terms for Cannock Chase (test data only: the
    shipped tables hold neither)."""
    rates = workflows / "rates"
    england = (rates / "means-test-england-2008.toml").read_text(encoding="utf-8")
    welsh = england.replace('jurisdiction = "england"', 'jurisdiction = "wales"').replace(
        'version = "england-2008-10"', 'version = "wales-2008-10"'
    )
    (rates / "means-test-wales-2008.toml").write_text(welsh, encoding="utf-8")
    terms = (rates / "land-charge.toml").read_text(encoding="utf-8")
    (rates / "land-charge-CAN.toml").write_text(
        terms.replace('jurisdiction = "england"', 'jurisdiction = "wales"'), encoding="utf-8"
    )


@pytest.fixture
def district_workflows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shipped workflows, with Cannock Chase in Wales and a 42-day review window, Lichfield's own
    means-test settings, and Tamworth's lower land-charge cap."""
    folder = tmp_path / "workflows"
    shutil.copytree(workflows_dir(), folder)
    policy = folder / "policy"
    (policy / "authority-CAN.toml").write_text(WELSH_AUTHORITY, encoding="utf-8")
    (policy / "authority-LIC.toml").write_text(LICHFIELD_AUTHORITY, encoding="utf-8")
    targets = (policy / "targets.toml").read_text(encoding="utf-8")
    assert "days = 28" in targets
    (policy / "targets-CAN.toml").write_text(targets.replace("days = 28", "days = 42"), encoding="utf-8")
    _welsh_rows(folder)
    terms = (folder / "rates" / "land-charge.toml").read_text(encoding="utf-8")
    (folder / "rates" / "land-charge-TAM.toml").write_text(
        terms.replace('cap = "10000.00"', 'cap = "7500.00"'), encoding="utf-8"
    )
    monkeypatch.setenv("DFG_WORKFLOWS", str(folder))
    workflows_dir.cache_clear()
    yield folder
    monkeypatch.undo()
    workflows_dir.cache_clear()


# ---------------------------------------------------------------------- choosing each district's rules


def test_each_district_has_its_own_review_window_and_the_default_stays(district_workflows: Path) -> None:
    assert str(clock_policy_for("CAN").period("review_window", ON)) == "42 days"
    assert str(clock_policy_for("LIC").period("review_window", ON)) == "28 days"
    assert clock_policy_for(None) is default_clock_policy()
    assert str(default_clock_policy().period("review_window", ON)) == "28 days"


def test_the_jurisdiction_chooses_the_maximum_grant(district_workflows: Path) -> None:
    welsh, english = maximum_grant_in("CAN", ON), maximum_grant_in("LIC", ON)
    assert (welsh.jurisdiction, welsh.amount_pence) == ("wales", 36_000_00)
    assert (english.jurisdiction, english.amount_pence) == ("england", 30_000_00)
    assert means_test_rates_in("CAN", ON).version == "wales-2008-10"


def test_a_districts_means_test_settings_replace_the_rate_tables(district_workflows: Path) -> None:
    lichfield, tamworth = means_test_rates_in("LIC", ON), means_test_rates_in("TAM", ON)
    assert lichfield.universal_credit_passport is False
    assert lichfield.amount("passport.tax_credit_income_ceiling") == 16_000_00
    assert "authority-LIC.toml" in (lichfield.note("passport.tax_credit_income_ceiling") or "")
    assert lichfield.universal_credit_basis == "Lichfield Housing Assistance Policy 2026, para. 4.2"
    assert tamworth.universal_credit_passport is True  # the rate table's setting
    assert tamworth.amount("passport.tax_credit_income_ceiling") == 15_050_00


def test_a_districts_land_charge_terms_name_their_district(district_workflows: Path) -> None:
    tamworth, lichfield = land_charge_in("TAM", ON), land_charge_in("LIC", ON)
    assert (tamworth.version, tamworth.cap_pence) == ("TAM:england-2008-05-22", 7_500_00)
    assert (lichfield.version, lichfield.cap_pence) == ("england-2008-05-22", 10_000_00)
    assert land_charge_in("CAN", ON).jurisdiction == "wales"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('jurisdiction = "scotland"\n', "jurisdiction: unknown jurisdiction 'scotland'"),
        ('jurisdiction = "england"\n[means_test]\nuniversal_credit_passport = false\n',
         "means_test.universal_credit_basis: missing"),
        ('jurisdiction = "england"\n[means_test]\ntax_credit_income_ceiling = 15050\n'
         'tax_credit_income_ceiling_basis = "x"\n', None),
        ('jurisdiction = "england"\n[means_test]\ntax_credit_income_ceiling = "0"\n'
         'tax_credit_income_ceiling_basis = "x"\n', "tax_credit_income_ceiling: must be more than 0"),
        ('jurisdiction = "england"\n[means_test]\nuc = true\n', "means_test.uc: unknown key"),
    ],
)  # fmt: skip
def test_an_authority_file_is_validated(tmp_path: Path, body: str, problem: str | None) -> None:
    path = tmp_path / "authority-CAN.toml"
    path.write_text(body, encoding="utf-8")
    if problem is None:
        assert read_authority_policy(path).tax_credit_income_ceiling_pence == 15_050_00
        return
    with pytest.raises(ConfigurationError, match=problem):
        read_authority_policy(path)


# ---------------------------------------------------------------------- dfg workflow lint


def test_lint_finds_nothing_wrong_with_sound_district_files(district_workflows: Path) -> None:
    assert policy_problems(district_workflows, DISTRICTS) == []


def test_lint_names_each_bad_district_file(district_workflows: Path) -> None:
    policy, rates = district_workflows / "policy", district_workflows / "rates"
    shutil.copy(policy / "charges.toml", policy / "charges-XYZ.toml")  # no such district
    shutil.copy(policy / "works.toml", policy / "works-Cannock.toml")  # not a code
    (policy / "authority-TAM.toml").write_text('jurisdiction = "wales"\n', encoding="utf-8")  # no Welsh terms
    targets = (policy / "targets.toml").read_text(encoding="utf-8")
    (policy / "targets-LIC.toml").write_text(targets.replace("months = 6", "months = 7"), encoding="utf-8")
    terms = (rates / "land-charge.toml").read_text(encoding="utf-8")
    (rates / "land-charge-LIC.toml").write_text(terms.replace("years = 10", "years = 15"), encoding="utf-8")
    (policy / "funding-lines-CAN.toml").write_text("[[line]]\ncode = 'Top'\n", encoding="utf-8")
    problems = policy_problems(district_workflows, DISTRICTS)
    assert problems[1].startswith("funding-lines-CAN.toml: line[0].")  # a file that does not load
    assert problems[:1] + problems[2:] == [
        "charges-XYZ.toml: XYZ is not a district of this installation (known: CAN, LIC, TAM)",
        "works-Cannock.toml: 'Cannock' is not a district code (2 to 8 capital letters, e.g. CAN)",
        "targets-LIC.toml: period.decision_due: differs from targets.toml, but it is set by law (a district "
        "may change only the review window and the service targets)",
        "land-charge-LIC.toml: terms[0]: demands more than the terms in force (england-2008-05-22: above "
        "£5,000.00, at most £10,000.00, within 10 years)",
        "authority-TAM.toml (district TAM): jurisdiction 'wales' has no row in its land-charge terms",
    ]


def test_dfg_workflow_lint_fails_on_a_bad_district_file(district_workflows: Path, tmp_path: Path) -> None:
    (district_workflows / "policy" / "authority-EST.toml").write_text(
        'jurisdiction = "mars"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "none.sqlite"), "workflow", "lint"])
    assert result.exit_code == 11
    assert (
        "policy: authority-EST.toml: jurisdiction: unknown jurisdiction 'mars' (known: england, wales)"
        in (result.stdout)
    )
    assert "districts from workflows/districts.toml" in result.stderr


def test_dfg_workflow_lint_knows_the_databases_districts(
    district_workflows: Path, db: Database, db_url: str
) -> None:
    # The test database has CAN and LIC (the cast's districts) but not Tamworth.
    result = CliRunner().invoke(main, ["--db", db_url, "workflow", "lint"])
    assert result.exit_code == 11
    assert "policy: land-charge-TAM.toml: TAM is not a district of this installation" in result.stdout
    assert "districts from the database" in result.stderr


# ---------------------------------------------------------------------- the cases use them


def test_a_welsh_districts_grant_uses_the_welsh_maximum(
    district_workflows: Path, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    welsh = open_sample("CAN")
    walk_to(db, cast, welsh, "application_valid")  # its test of resources under the Welsh table
    figures = calculate_case_grant(db, cast["officer"], welsh, works_pence=60_000_00).calculation
    assert (figures["jurisdiction"], figures["maximum_grant_pence"]) == ("wales", 36_000_00)
    assert figures["grant_pence"] == 36_000_00  # 60,000 less the contribution, capped at the Welsh maximum
    assert "Wales, in force from 2 October 2008" in figures["explanation"]


# ---------------------------------------------------------------------- a landlord's application (s.31)


def _valid_landlords_application(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> str:
    reference = open_sample(tenure="landlord")
    walk_to(db, cast, reference, "application_valid")
    # A landlord's application is not means-tested: the determination in force says so.
    run_means_test(db, cast["officer"], reference, {**HOUSEHOLD, "tenure": "landlord"})
    return reference


def test_a_landlords_grant_is_the_amount_the_council_decided(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = _valid_landlords_application(db, cast, open_sample)
    with pytest.raises(InvalidInput, match="landlord's application: the council decides the amount"):
        calculate_case_grant(db, cast["officer"], reference, works_pence=20_000_00)
    decided = decide_landlord_grant(
        db, cast["approver"], reference, amount_pence=12_000_00, factors=["rent", "policy"],
        reason="The adapted flat may be let for £20 a week more; policy 4.3 meets the rest",
    )  # fmt: skip
    record = calculate_case_grant(db, cast["officer"], reference, works_pence=20_000_00)
    figures = record.calculation
    assert (figures["grant_pence"], figures["contribution_pence"], figures["applicant_pays_pence"]) == (
        12_000_00, 0, 8_000_00,
    )  # fmt: skip
    assert figures["landlord_decision"] == decided.id
    assert "under s.31 HGCRA 1996, having regard to the extent to which the landlord can charge a higher" in (
        record.explanation
    )
    # The amount decided is a most: a smaller calculation stands.
    assert (
        calculate_case_grant(db, cast["officer"], reference, works_pence=9_000_00).calculation["grant_pence"]
        == 9_000_00
    )
    # The decision's event is on the case's chain, its reasons sealed.
    with db.read_connection() as connection:
        event = connection.execute(
            text("SELECT payload, reason FROM events WHERE kind = 'landlord_grant_decided'")
        ).one()
    assert json.loads(event.payload)["amount_pence"] == 12_000_00
    assert "£20 a week" not in event.payload and "£20 a week" not in (event.reason or "")
    assert [d.amount_pence for d in landlord_decisions(db, cast["officer"], reference)] == [12_000_00]


def test_a_new_decision_means_the_grant_is_calculated_again_before_approval(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = _valid_landlords_application(db, cast, open_sample)
    decide_landlord_grant(
        db, cast["approver"], reference, amount_pence=5_000_00, factors=["rent"], reason="Rent"
    )
    prepare_works(db, cast)
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=8_000_00, received_on=local_day(utcnow()))  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id)
    calculate_case_grant(db, cast["officer"], reference)
    decide_landlord_grant(
        db, cast["approver"], reference, amount_pence=6_000_00, factors=["rent"], reason="Again"
    )
    with pytest.raises(
        GuardFailed, match="decision on the landlord's grant changed after the grant was calculated"
    ):
        approve_grant(db, cast["approver"], reference, ApprovalTerms())
    calculate_case_grant(db, cast["officer"], reference)
    assert approve_grant(db, cast["approver"], reference, ApprovalTerms()).to_state == "approved"
    assert approval_versions(db, cast["officer"], reference)[-1].grant_pence == 6_000_00
    # The approval notice says how the amount was decided (s.34: how each amount was calculated).
    set_postal_address(
        db, cast["officer"], reference, PostalAddress("4 Market Street", "Lichfield", "WS13 6LQ")
    )
    render_pending(db, cast["officer"], workers=1)
    [letter] = [x for x in list_letters(db, cast["officer"], reference) if x.kind == "approval_notice"]
    with db.read_connection() as connection:
        pdf = connection.scalar(select(LETTERS.c.pdf).where(LETTERS.c.id == letter.id))
    words = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages)
    assert (
        "under section 31 of the Housing Grants, Construction and Regeneration Act 1996, having regard to the extent to which the landlord can charge a higher rent because of the works: £6,000.00"
        in words
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"factors": ["policy"]}, "must have regard to the rent"),
        ({"factors": ["rent", "luck"]}, "'luck' is not one of"),
        ({"reason": "  "}, "give the reasons"),
        ({"amount_pence": 0}, "must be more than £0.00"),
        ({"amount_pence": 30_000_01}, "more than the maximum grant of £30,000.00"),
        ({"on": date(2099, 1, 1)}, "is in the future"),
    ],
)
def test_a_bad_landlord_decision_is_refused_and_changes_nothing(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], changes: dict[str, object],
    problem: str,
) -> None:  # fmt: skip
    reference = open_sample(tenure="landlord")
    given: dict[str, object] = {
        "amount_pence": 5_000_00,
        "factors": ["rent"],
        "reason": "Rent rises",
        **changes,
    }
    version = show_case(db, cast["officer"], reference).version
    with pytest.raises(InvalidInput, match=problem):
        decide_landlord_grant(db, cast["approver"], reference, **given)  # type: ignore[arg-type]
    assert show_case(db, cast["officer"], reference).version == version
    assert landlord_decisions(db, cast["officer"], reference) == []


def test_every_mistake_in_a_landlord_decision_is_said_at_once(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(tenure="landlord")
    with pytest.raises(InvalidInput) as refused:
        decide_landlord_grant(db, cast["approver"], reference, amount_pence=0, factors=["policy"], reason=" ",
                              on=date(2099, 1, 1))  # fmt: skip
    assert list(refused.value.fields) == ["amount", "factors", "reason", "on"]
    assert refused.value.message.startswith("--amount: the amount must be more than £0.00")
    assert "; --factor: the council must have regard to the rent" in refused.value.message


def test_only_an_approver_decides_and_only_on_a_landlords_application(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    landlord, owner = open_sample(tenure="landlord"), open_sample()
    with pytest.raises(PermissionDenied):
        decide_landlord_grant(
            db, cast["officer"], landlord, amount_pence=1_000_00, factors=["rent"], reason="R"
        )
    with pytest.raises(InvalidInput, match="not a landlord's: its grant is calculated, not decided"):
        decide_landlord_grant(
            db, cast["approver"], owner, amount_pence=1_000_00, factors=["rent"], reason="R"
        )


def test_dfg_grant_landlord_decision(
    db: Database, db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(tenure="landlord")
    run = CliRunner().invoke
    args = ["--db", db_url, "--as", "approver", "grant", "landlord-decision", reference, "--amount", "7500",
            "--factor", "rent", "--factor", "landlord_position", "--reason", "Rent up £12 a week", "--json"]  # fmt: skip
    result = run(main, args)
    assert result.exit_code == 0, result.stderr
    said = json.loads(result.stdout)
    assert (said["amount_pence"], said["factors"]) == (7_500_00, ["rent", "landlord_position"])
    listed = run(main, ["--db", db_url, "--as", "officer", "grant", "landlord-decisions", reference])
    assert "landlord's grant decided at £7,500.00" in listed.stdout
    refused = run(main, [*args[:8], "--amount", "nonsense", *args[10:]])
    assert refused.exit_code != 0 and refused.stderr.startswith("dfg: ") and refused.stderr.count("\n") == 1


def test_the_quick_calculator_uses_a_districts_settings(district_workflows: Path, tmp_path: Path) -> None:
    household = tmp_path / "household.json"
    people = [
        {"age": 45, "benefits": ["universal_credit"], "premiums": []},
        {"age": 44, "benefits": [], "premiums": []},
    ]
    household.write_text(json.dumps({**HOUSEHOLD, "relevant_persons": people}), encoding="utf-8")
    outcomes = {}
    for district in ("TAM", "LIC"):
        result = CliRunner().invoke(
            main, ["means-test", "quick", "--household", str(household), "--district", district, "--json"]
        )
        assert result.exit_code == 0, result.stderr
        outcomes[district] = json.loads(result.stdout)["outcome"]
    assert outcomes == {"TAM": "passported", "LIC": "assessed"}  # Lichfield: UC is not a passport
