"""The money pages: estimates, the grant calculation and the approval: what a person sees, and what is
written (read back through the services)."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from dfg.errors import NotFound
from dfg.rules.clock import local_day, utcnow
from dfg.services.approval import approval_versions
from dfg.services.case_reading import show_case
from dfg.services.database import Database
from dfg.services.estimates import case_estimates, record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant, grant_calculation
from dfg.services.identity import user_actor
from dfg.services.sign_in import begin_second_factor, turn_on_second_factor
from dfg.services.users import add_user
from dfg.workflow.actor import Actor
from tests.conftest import HOUSEHOLD_CONTRIBUTION, prepare_works, walk_to
from tests.web.conftest import PASSWORD, give_password, hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]
Cast = dict[str, Actor]


def _case_in(db: Database, cast: Cast, open_sample: Callable[..., str], state: str) -> str:
    reference = open_sample()
    walk_to(db, cast, reference, state)
    prepare_works(db, cast)
    return reference


def _post_from_page(client: FlaskClient, page_url: str, url: str, data: dict[str, str]) -> TestResponse:
    """Post one of a page's forms with the page's hidden fields (CSRF token, the case's version)."""
    fields = hidden_fields(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**fields, **data})


def _calculated(db: Database, cast: Cast, reference: str, grant_pence: int, **options: object) -> None:
    """An estimate from Castle Adaptations giving ``grant_pence`` after the contribution (with a top-up
    above the maximum when asked), selected, and the grant calculated on it."""
    made = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                           price_pence=grant_pence + HOUSEHOLD_CONTRIBUTION, received_on=local_day(utcnow()))  # fmt: skip
    select_estimate(db, cast["officer"], reference, made.id)
    calculate_case_grant(db, cast["officer"], reference, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ estimates


def test_recording_an_estimate(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "scheme_design")
    client = signed_in("officer")
    url = f"/cases/{reference}/estimates"
    page = client.get(url).get_data(as_text=True)
    assert "No estimates are recorded yet." in page and '<option value="Able Lifts Ltd"' in page
    assert "confirm_price" not in page  # asked only once the service refuses without it
    typed = {"contractor": "Able Lifts Ltd", "price": "4,500.00", "received-day": "",
             "contractor_ref": "Q-2026-17", "notes": "Zoë’s stairlift ☃"}  # fmt: skip
    response = post_form(client, url, typed, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "recorded: Able Lifts Ltd, £4,500.00" in page and "Zoë’s stairlift ☃" in page
    assert "Still needed:" in page
    [made] = case_estimates(db, cast["officer"], reference).estimates
    assert (made.contractor_name, made.price_pence, made.contractor_reference) == (
        "Able Lifts Ltd", 4_500_00, "Q-2026-17",
    )  # fmt: skip


def test_every_mistake_in_an_estimate_at_once_and_nothing_written(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "scheme_design")
    client = signed_in("officer")
    url = f"/cases/{reference}/estimates"
    response = post_form(client, url, {"contractor": "<script>alert(1)</script>", "price": "4.5.0",
                                       "received-day": "31", "received-month": "2", "received-year": "2026"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "There is a problem" in page
    assert "Choose the contractor from the register" in page
    assert "The price must be an amount in pounds, for example 4500.00" in page
    assert "The date the estimate was received must be a real date" in page
    assert 'value="4.5.0"' in page and "<script>alert(1)</script>" not in page
    for price in ("", "-3", "9" * 10_000):
        page = post_form(client, url, {"contractor": "Able Lifts Ltd", "price": price}).get_data(as_text=True)
        assert "Enter the price" in page or "The price must be an amount in pounds" in page
    # the service's refusals: nothing, a too-long reference, a date to come
    for data, said in (
        ({"price": "0"}, "The price must be more than £0.00"),
        ({"price": "10", "contractor_ref": "x" * 10_000}, "longer than 60 characters"),
        ({"price": "10", "received-day": "1", "received-month": "1", "received-year": "2999"}, "is in the future"),
    ):  # fmt: skip
        response = post_form(client, url, {"contractor": "Able Lifts Ltd", **data})
        assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert case_estimates(db, cast["officer"], reference).estimates == ()


def test_a_price_above_the_policy_is_confirmed_only_once_refused(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "scheme_design")
    client = signed_in("technical")  # a technical officer records estimates too
    url = f"/cases/{reference}/estimates"
    response = post_form(client, url, {"contractor": "Brook Builders", "price": "150000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "The price £150,000.00 is more than £100,000.00, the largest the district&#39;s works policy "
        "expects: check it, and confirm it below if it is right." in page
    )
    assert "I have checked the price and it is right" in page and "--confirm-price" not in page
    assert 'value="150000"' in page
    assert case_estimates(db, cast["officer"], reference).estimates == ()
    response = post_form(
        client, url, {"contractor": "Brook Builders", "price": "150000", "confirm_price": "yes"}
    )
    assert response.status_code == 302
    [made] = case_estimates(db, cast["officer"], reference).estimates
    assert made.price_pence == 150_000_00
    # the technical officer records, but waiving and selecting are the grant officer's
    page = client.get(url).get_data(as_text=True)
    assert "Add an estimate" in page and "Select the estimate" not in page and "Waive" not in page


def test_waiving_and_selecting(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "scheme_design")
    cheap = record_estimate(db, cast["officer"], reference, contractor="Able Lifts Ltd", price_pence=5_000_00,
                            received_on=local_day(utcnow()))  # fmt: skip
    dear = record_estimate(db, cast["officer"], reference, contractor="Able Lifts Ltd", price_pence=6_000_00,
                           received_on=local_day(utcnow()))  # fmt: skip
    client = signed_in("officer")
    page_url = f"/cases/{reference}/estimates"
    response = _post_from_page(client, page_url, f"{page_url}/waiver", {"waive_reason": "  "})
    assert response.status_code == 422
    assert "Enter why fewer than two estimates will do" in response.get_data(as_text=True)
    assert case_estimates(db, cast["officer"], reference).waiver is None
    response = _post_from_page(client, page_url, f"{page_url}/waiver", {"waive_reason": "The only fitter"})
    assert response.status_code == 302
    assert case_estimates(db, cast["officer"], reference).waiver.reason == "The only fitter"  # type: ignore[union-attr]

    selection = f"{page_url}/selection"
    for number in ("", "999", "<b>"):
        response = _post_from_page(client, page_url, selection, {"estimate": number})
        assert "Choose the estimate the works will be done on" in response.get_data(as_text=True)
    response = _post_from_page(client, page_url, selection, {"estimate": str(dear.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "reason" in page and f'value="{dear.id}" checked' in page
    assert case_estimates(db, cast["officer"], reference).selection is None
    response = _post_from_page(client, page_url, selection, {"estimate": str(cheap.id)})
    assert response.status_code == 302
    page = client.get(page_url).get_data(as_text=True)
    chosen = case_estimates(db, cast["officer"], reference).selection
    assert chosen is not None and chosen.estimate_id == cheap.id and chosen.eligible_works_pence == 5_000_00
    assert f"Estimate {cheap.id} selected (Able Lifts Ltd, £5,000.00)." in page  # the service's explanation
    assert "The selection in force" in page and "Selected" in page


def test_a_stale_form_is_a_conflict_and_keeps_the_input(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "scheme_design")
    client = signed_in("officer")
    url = f"/cases/{reference}/estimates"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    record_estimate(db, cast["technical"], reference, contractor="Able Lifts Ltd", price_pence=100,
                    received_on=local_day(utcnow()))  # fmt: skip
    response = client.post(url, data={**fields, "contractor": "Brook Builders", "price": "4321.00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Someone else changed" in page and 'value="4321.00"' in page
    assert len(case_estimates(db, cast["officer"], reference).estimates) == 1


def test_the_estimate_forms_need_their_csrf_token_and_the_district(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "scheme_design")
    client = signed_in("officer")
    response = client.post(
        f"/cases/{reference}/estimates", data={"contractor": "Able Lifts Ltd", "price": "1"}
    )
    assert response.status_code == 400
    assert case_estimates(db, cast["officer"], reference).estimates == ()
    elsewhere = open_sample("LIC", by="lichfield")
    assert client.get(f"/cases/{elsewhere}/estimates").status_code == 404
    assert client.get(f"/cases/{elsewhere}/grant").status_code == 404


def test_a_case_not_taking_estimates_offers_no_form(
    signed_in: SignedIn, open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    page = signed_in("officer").get(f"/cases/{reference}/estimates").get_data(as_text=True)
    assert "estimates are taken from scheme design until approval" in page and "Add an estimate" not in page


# ---------------------------------------------------------------------------------- the calculation


def test_calculating_the_grant_with_charges(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "application_valid")
    made = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                           price_pence=20_000_00, received_on=local_day(utcnow()))  # fmt: skip
    select_estimate(db, cast["officer"], reference, made.id)
    client = signed_in("officer")
    url = f"/cases/{reference}/grant"
    page = client.get(url).get_data(as_text=True)
    assert "The grant has not been calculated yet." in page
    assert "Home improvement agency fee" in page and "15% of the eligible works, at most £7,500.00." in page
    assert (
        "Amount for the building survey" in page
        and "Discretionary top-up above the mandatory maximum" in page
    )
    response = post_form(client, url, {"charge": ["agency_fee", "survey"], "amount-survey": "350"},  # type: ignore[dict-item]
                         follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    for words in ("Eligible works", "Estimated expense", "Contribution", "Maximum grant", "Total assistance",
                  "£20,000.00", "£3,000.00", "£350.00", "total assistance"):  # fmt: skip
        assert words in page, words
    record = grant_calculation(db, cast["officer"], reference)
    charges = {c["kind"]: c["amount_pence"] for c in record.calculation["charges"]}
    assert charges == {"agency_fee": 3_000_00, "survey": 350_00}
    assert record.calculation["works_pence"] == 20_000_00


def test_every_mistake_in_a_calculation_at_once(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "application_valid")
    client = signed_in("officer")
    url = f"/cases/{reference}/grant"
    response = post_form(client, url, {"charge": ["survey", "<script>"], "works": "-5", "funding_line": "nope",  # type: ignore[dict-item]
                                       "reason": "x" * 10_000, "on-day": "40", "on-month": "1", "on-year": "2026"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for said in ("Choose the charges from the list", "Enter the amount for the building survey",
                 "Choose the funding lines from the list", "Choose the reasons from the list",
                 "The cost of the works must be an amount in pounds", "The intended approval date must be a real date"):  # fmt: skip
        assert said in page, said
    assert 'value="-5"' in page and "<script>" not in page
    # the service's refusal: no estimate selected yet
    response = post_form(client, url, {})
    assert response.status_code == 422 and "has no selected estimate" in response.get_data(as_text=True)
    with pytest.raises(NotFound):
        grant_calculation(db, cast["officer"], reference)


def test_a_funding_line_shows_in_the_workings(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "application_valid")
    made = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                           price_pence=45_199_45, received_on=local_day(utcnow()))  # fmt: skip
    select_estimate(db, cast["officer"], reference, made.id)
    client = signed_in("officer")
    response = post_form(
        client, f"/cases/{reference}/grant", {"funding_line": "top_up"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Discretionary top-up above the mandatory maximum" in page and "£5,000.00" in page
    assert grant_calculation(db, cast["officer"], reference).total_assistance_pence == 35_000_00


# ------------------------------------------------------------------------------------------- approval


def test_approving_within_the_limit(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "application_valid")
    _calculated(db, cast, reference, 8_450_00)
    officer_page = signed_in("officer").get(f"/cases/{reference}/approve").get_data(as_text=True)
    assert "Only an approver can approve the grant." in officer_page and "works_status" not in officer_page
    client = signed_in("approver")
    url = f"/cases/{reference}/approve"
    page = client.get(url).get_data(as_text=True)
    assert "total assistance <strong>£8,450.00</strong>" in page and "£30,000.00" in page
    assert "second_password" not in page
    response = post_form(client, url, {"works_status": "begun", "good_reason": ""})
    assert response.status_code == 422
    assert "Enter why approving works already begun is justified" in response.get_data(as_text=True)
    response = post_form(client, url, {"works_status": "completed"})
    assert "never be approved for completed works" in response.get_data(as_text=True)
    assert show_case(db, cast["officer"], reference).state == "application_valid"
    response = post_form(client, url, {"pay_to": "applicant", "conditions": "Keep the receipts\n\n"},
                         follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert "Grant approved on" in page and "approval_notice" in page
    [version] = approval_versions(db, cast["officer"], reference)
    assert (version.approved_by, version.second_approver, version.pay_contractor_directly) == (
        "approver", None, False,
    )  # fmt: skip
    assert "Keep the receipts" in version.conditions


def test_above_the_limit_a_second_approver_proves_who_they_are(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "application_valid")
    _calculated(db, cast, reference, 35_000_00, funding_lines=["top_up"])
    add_user(db, "admin", username="senior", full_name="Senior", roles=["approver"],
             approval_limit_pence=50_000_00)  # fmt: skip
    give_password(db, cast["admin"], "senior", "a countersigner's own long phrase")
    client = signed_in("approver")
    url = f"/cases/{reference}/approve"
    page = client.get(url).get_data(as_text=True)
    assert "is above your delegated limit of £30,000.00" in page and 'name="second_password"' in page
    for data, said in (
        ({}, "a second approver whose limit covers it must countersign"),
        ({"second_username": "senior"}, "Enter the second approver&#39;s password"),
        ({"second_username": "senior", "second_password": PASSWORD}, "Second approver: the username or password is not right."),
        ({"second_username": "approver", "second_password": PASSWORD}, "The second approver must be someone other than the approver."),
        ({"second_password": "x"}, "Enter the second approver&#39;s username"),
    ):  # fmt: skip
        response = post_form(client, url, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and said in page, said
        assert PASSWORD not in page  # a password is never written back into the page
    assert show_case(db, cast["officer"], reference).state == "application_valid"
    response = post_form(
        client,
        url,
        {"second_username": "senior", "second_password": "a countersigner's own long phrase"},
        follow_redirects=True,
    )
    assert "countersigned by senior" in response.get_data(as_text=True)
    [version] = approval_versions(db, cast["officer"], reference)
    assert (version.approved_by, version.second_approver, version.total_assistance_pence) == (
        "approver", "senior", 35_000_00,
    )  # fmt: skip


def test_a_second_approver_with_a_second_factor_gives_its_code(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = _case_in(db, cast, open_sample, "application_valid")
    _calculated(db, cast, reference, 35_000_00, funding_lines=["top_up"])
    add_user(db, "admin", username="senior", full_name="Senior", roles=["approver"],
             approval_limit_pence=50_000_00)  # fmt: skip
    give_password(db, cast["admin"], "senior")
    secret = begin_second_factor()
    turn_on_second_factor(db, user_actor(db, "senior"), secret, pyotp.TOTP(secret).now())
    client = signed_in("approver")
    url = f"/cases/{reference}/approve"
    proof = {"second_username": "senior", "second_password": PASSWORD}
    for code, said in (("", "Enter the code the second approver&#39;s app shows now"),
                       ("000000", "Second approver: that code is not right")):  # fmt: skip
        response = post_form(client, url, {**proof, "second_code": code})
        assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert approval_versions(db, cast["officer"], reference) == []
    response = post_form(client, url, {**proof, "second_code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert approval_versions(db, cast["officer"], reference)[0].second_approver == "senior"


# ------------------------------------------------------------------------- a landlord's grant (s.31)


def test_an_approver_decides_a_landlords_grant_with_every_mistake_at_once(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: Cast
) -> None:
    reference = open_sample(tenure="landlord")
    url = f"/cases/{reference}/landlord-decision"
    officer_page = signed_in("officer").get(url).get_data(as_text=True)
    assert "No decision on the amount is recorded yet." in officer_page
    assert "is an approver's decision" in officer_page and "Record the decision" not in officer_page
    client = signed_in("approver")
    version = show_case(db, cast["officer"], reference).version
    wrong = post_form(client, url, {"amount": "0", "factor": ["policy"], "reason": " ",
                                    "on-day": "1", "on-month": "1", "on-year": "2099"})  # fmt: skip
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "There is a problem" in page
    for said in ("The amount must be more than £0.00", "The council must have regard to the rent",
                 "Give the reasons for the amount decided", "01/01/2099 is in the future"):  # fmt: skip
        assert said in page, said
    blank = post_form(client, url, {"amount": "", "factor": ["policy"], "reason": ""}).get_data(as_text=True)
    for said in ("Enter the amount of the grant", "The council must have regard to the rent",
                 "Give the reasons for the amount decided"):  # fmt: skip
        assert said in blank, said  # what the form cannot read, and everything else, at once
    assert show_case(db, cast["officer"], reference).version == version  # nothing written
    done = post_form(client, url, {"amount": "9,000", "factor": ["rent", "policy"],
                                   "reason": "The rent rises by £15 a week"}, follow_redirects=True)  # fmt: skip
    assert done.status_code == 200
    assert "The landlord&#39;s grant is decided at £9,000.00" in done.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "£9,000.00" in page and "(in force)" in page and "The rent rises by £15 a week" in page
    assert "The council&#39;s published housing assistance policy" in page
    owner = open_sample()
    assert "its grant is calculated, not decided" in client.get(f"/cases/{owner}/landlord-decision").get_data(
        as_text=True
    )
