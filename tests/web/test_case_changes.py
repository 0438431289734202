"""The changes recorded on a case beside its workflow steps, in the browser: the contribution collected,
that entitlement ceased and the decision after it, and a manager's budget override. Each is offered on
the case page under "What you can do next" only when its service would take it; each form shows every
mistake at once, the service's refusal in plain words, keeps what was typed, and writes nothing then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask.testing import FlaskClient

from dfg.rules.budget import financial_year_of
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds
from dfg.services.budget import allocate
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.database import Database
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.notes import add_note
from dfg.services.payments import money_view
from dfg.workflow.actor import Actor
from tests.conftest import APPROVED_GRANT, HOUSEHOLD_CONTRIBUTION
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]
Cast = dict[str, Actor]


def _page(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def _kinds(db: Database, cast: Cast, reference: str) -> list[str]:
    return [e.kind for e in history(db, cast["officer"], reference)]


# ---------------------------------------------------------------------- the contribution


def test_the_contribution_is_offered_recorded_and_then_no_longer_offered(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("paid")
    client = signed_in("officer")
    url = f"/cases/{reference}/contribution"
    assert f'href="{url}"' in _page(client.get(f"/cases/{reference}"))
    page = _page(client.get(url))
    assert "Record the contribution collected" in page and format_pounds(HOUSEHOLD_CONTRIBUTION) in page
    part = 4_000_00
    response = post_form(client, url, {"amount": "4000.00", "on-day": "1", "on-month": "2", "on-year": "2026"},
                         follow_redirects=True)  # fmt: skip
    assert f"Contribution of {format_pounds(part)} collected: recorded." in _page(response)
    money = money_view(db, cast["officer"], reference)
    assert money.contribution_collected_pence == part
    # more than is left: the service's refusal in its words, the amount kept, nothing written
    left = HOUSEHOLD_CONTRIBUTION - part
    response = post_form(client, url, {"amount": format_pounds(left + 1)})
    page = _page(response)
    assert response.status_code == 422 and "There is a problem" in page
    assert "of the contribution still to collect." in page and format_pounds(left) in page
    assert f'value="{format_pounds(left + 1)}"' in page
    assert money_view(db, cast["officer"], reference).contribution_collected_pence == part
    response = post_form(client, url, {"amount": format_pounds(left)}, follow_redirects=True)
    assert money_view(db, cast["officer"], reference).contribution_collected_pence == HOUSEHOLD_CONTRIBUTION
    assert f'href="{url}"' not in _page(client.get(f"/cases/{reference}"))  # all collected
    page = _page(client.get(url))
    assert f"All of the contribution of {format_pounds(HOUSEHOLD_CONTRIBUTION)} is collected." in page
    assert 'name="amount"' not in page


def test_a_contribution_with_mistakes_shows_them_all_and_records_nothing(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("certified")
    url = f"/cases/{reference}/contribution"
    response = post_form(signed_in("officer"), url, {"on-day": "31", "on-month": "2", "on-year": "2026"})
    page = _page(response)
    assert response.status_code == 422 and "There is a problem" in page
    assert "Enter the amount collected" in page
    assert "The date it was collected must be a real date" in page and 'value="31"' in page
    response = post_form(signed_in("officer"), url, {"amount": "lots"})
    assert "The amount collected must be an amount in pounds and pence" in _page(response)
    assert money_view(db, cast["officer"], reference).contribution_collected_pence == 0


def test_a_contribution_on_a_case_changed_since_the_page_was_read_is_refused(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("certified")
    client = signed_in("officer")
    url = f"/cases/{reference}/contribution"
    fields = hidden_fields(_page(client.get(url)))
    add_note(
        db, cast["officer"], reference, contact="call", party="applicant", summary="Rang about the works"
    )
    response = client.post(url, data={**fields, "amount": "100.00"})
    page = _page(response)
    assert response.status_code == 422 and "Someone else changed" in page and 'value="100.00"' in page
    assert money_view(db, cast["officer"], reference).contribution_collected_pence == 0


# ---------------------------------------------------------------------- ceased entitlement


def test_entitlement_ceases_payments_stop_and_an_approver_decides(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    officer = signed_in("officer")
    cease = f"/cases/{reference}/entitlement"
    decide = f"/cases/{reference}/entitlement/decision"
    assert f'href="{cease}"' in _page(officer.get(f"/cases/{reference}"))
    # every mistake at once, nothing written
    response = post_form(officer, cease, {"note": "x" * 3000})
    page = _page(response)
    assert response.status_code == 422
    for words in ("Choose what happened", "Enter the date it happened",
                  "Anything else to record must be 2,000 characters or fewer"):  # fmt: skip
        assert words in page
    assert "entitlement_ceased" not in _kinds(db, cast, reference)
    today = local_day(utcnow())
    response = post_form(officer, cease, {"code": "died", "on-day": str(today.day), "on-month": str(today.month),
                                          "on-year": str(today.year), "note": "Told by her son ✓"},
                         follow_redirects=True)  # fmt: skip
    assert "Entitlement ceased: recorded." in _page(response)
    assert money_view(db, cast["officer"], reference).entitlement_ceased
    case_page = _page(officer.get(f"/cases/{reference}"))
    assert f'href="{cease}"' not in case_page and f'href="{decide}"' not in case_page  # the approver's now
    page = _page(officer.get(f"/cases/{reference}/pay"))
    assert (
        "Entitlement ceased: no further payment until the council decides to pay all, part or none." in page
    )
    assert "dfg entitlement" not in page

    approver = signed_in("approver")
    assert f'href="{decide}"' in _page(approver.get(f"/cases/{reference}"))
    response = post_form(approver, decide, {"decision": "part"})
    page = _page(response)
    assert response.status_code == 422
    assert "Enter the total to pay" in page and "Enter the reasons for the decision" in page
    approved = money_view(db, cast["officer"], reference).approved_pence
    # part, but all of it: the rule's refusal in plain words, the input kept
    response = post_form(approver, decide, {"decision": "part", "amount": format_pounds(approved),
                                            "reason": "Work done before the death"})  # fmt: skip
    page = _page(response)
    assert f"Part of {format_pounds(approved)} must be more than £0.00 and less than all of it." in page
    assert "Work done before the death</textarea>" in page
    assert money_view(db, cast["officer"], reference).payable_limit_pence is None
    response = post_form(approver, decide, {"decision": "part", "amount": "2400.00",
                                            "reason": "Work done before the death"}, follow_redirects=True)  # fmt: skip
    assert "Decision after entitlement ceased recorded: pay part of it." in _page(response)
    assert money_view(db, cast["officer"], reference).payable_limit_pence == 2_400_00
    assert f"{reference} has no ceased entitlement awaiting a decision." in _page(approver.get(decide))


def test_the_decision_is_not_the_grant_officers(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("works_ordered")
    client = signed_in("officer")
    response = post_form(client, f"/cases/{reference}/entitlement", {
        "code": "moved_out", "on-day": "1", "on-month": "3", "on-year": "2026"})  # fmt: skip
    assert response.status_code == 302, _page(response)
    decide = f"/cases/{reference}/entitlement/decision"
    assert "The decision is an approver's." in _page(client.get(decide))
    response = post_form(client, decide, {"decision": "all", "reason": "Works were nearly done"})
    assert response.status_code == 422 and "needs the role approver" in _page(response)
    assert money_view(db, cast["officer"], reference).payable_limit_pence is None


# ---------------------------------------------------------------------- the budget override


def _calculated_over_budget(db: Database, cast: Cast, reference: str) -> None:
    """The grant calculated on an estimate, with this year's mandatory budget cut below it."""
    today = local_day(utcnow())
    officer = cast["officer"]
    estimate = record_estimate(db, officer, reference, contractor="Castle Adaptations",
                               price_pence=APPROVED_GRANT + HOUSEHOLD_CONTRIBUTION, received_on=today)  # fmt: skip
    select_estimate(db, officer, reference, estimate.id)
    calculate_case_grant(db, officer, reference)
    allocate(db, cast["manager"], district="CAN", financial_year=financial_year_of(today),
             funding_line="mandatory", amount_pence=100_00, reason="Cut in year")  # fmt: skip


def test_an_approval_over_the_budget_is_refused_in_words_until_a_manager_overrides(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("application_valid")
    _calculated_over_budget(db, cast, reference)
    approver = signed_in("approver")
    approve = f"/cases/{reference}/approve"
    response = post_form(approver, approve, {})
    page = _page(response)
    assert response.status_code == 422 and f"{reference} would over-commit the budget" in page
    # the message names the command for the command line; the page says it in words only
    assert "A manager may override it." in page and "dfg budget" not in page
    assert show_case(db, cast["officer"], reference).state == "application_valid"
    override = f"/cases/{reference}/budget-override"
    assert f'href="{override}"' not in _page(approver.get(f"/cases/{reference}"))  # the manager's decision
    assert "A budget override is a manager's decision." in _page(approver.get(override))

    manager = signed_in("manager")
    assert f'href="{override}"' in _page(manager.get(f"/cases/{reference}"))
    page = _page(manager.get(override))
    assert "Override the budget" in page and format_pounds(APPROVED_GRANT) in page
    response = post_form(manager, override, {"reason": "   "})
    assert response.status_code == 422 and "Enter why the case may be approved over its budget" in _page(
        response
    )
    assert "budget_override" not in _kinds(db, cast, reference)
    response = post_form(manager, override, {"reason": "Hospital discharge: funded from reserves"},
                         follow_redirects=True)  # fmt: skip
    assert "Budget override recorded" in _page(response)
    assert "budget_override" in _kinds(db, cast, reference)
    response = post_form(approver, approve, {}, follow_redirects=True)
    assert "Grant approved on" in _page(response)
    assert show_case(db, cast["officer"], reference).state == "approved"


def test_an_override_is_refused_in_words_where_there_is_nothing_to_override(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("application_valid")  # no grant calculated yet
    manager = signed_in("manager")
    url = f"/cases/{reference}/budget-override"
    assert f'href="{url}"' not in _page(manager.get(f"/cases/{reference}"))
    response = post_form(manager, url, {"reason": "Hospital discharge"})
    page = _page(response)
    assert response.status_code == 422
    assert f"{reference} has no grant calculation to override the budget for." in page
    assert 'name="reason"' not in page  # nothing to override: no form to fill in
    assert "budget_override" not in _kinds(db, cast, reference)


# ---------------------------------------------------------------------- every page


@pytest.mark.parametrize("page", ["contribution", "entitlement", "entitlement/decision", "budget-override"])
def test_another_districts_case_is_not_found_and_a_post_needs_the_forms_token(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast, page: str
) -> None:
    reference = case_at("on_site")
    assert signed_in("lichfield").get(f"/cases/{reference}/{page}").status_code == 404
    before = _kinds(db, cast, reference)
    response = signed_in("officer").post(f"/cases/{reference}/{page}", data={"amount": "1.00", "reason": "x"})
    assert response.status_code == 400 and "did not come from this service" in _page(response)
    assert _kinds(db, cast, reference) == before


def test_the_case_page_gives_the_workflows_reasons_without_commands(
    signed_in: SignedIn, case_at: Callable[[str], str]
) -> None:
    reference = case_at("application_valid")  # the approval waits on a grant calculation
    page = _page(signed_in("approver").get(f"/cases/{reference}"))
    assert "Not open to you yet" in page and "No grant is calculated yet." in page
    assert "dfg grant" not in page and "&#39;dfg " not in page


def test_a_date_in_the_future_is_refused_in_the_services_words(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    future = date(local_day(utcnow()).year + 1, 1, 2)
    response = post_form(signed_in("officer"), f"/cases/{reference}/entitlement", {
        "code": "ceased_to_qualify", "on-day": "2", "on-month": "1", "on-year": str(future.year)})  # fmt: skip
    page = _page(response)
    assert response.status_code == 422 and f"The date {future:%d/%m/%Y} is in the future." in page
    assert 'value="ceased_to_qualify" checked' in page
    assert not money_view(db, cast["officer"], reference).entitlement_ceased
