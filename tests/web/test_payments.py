"""The works and payment pages: what a person sees on each, and what is written (read back through the
services), with every mistake shown at once and nothing written when there is one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask.testing import FlaskClient

from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds
from dfg.services.approval import approval_versions
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.database import Database
from dfg.services.land_charge import land_charge_view
from dfg.services.payments import money_view, payment_due, record_invoice
from dfg.services.works import completion_checks
from dfg.workflow.actor import Actor
from tests.conftest import APPROVED_GRANT
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]
Cast = dict[str, Actor]


def _page(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def _today() -> date:
    return local_day(utcnow())


# ---------------------------------------------------------------------- the money on a case


def test_the_money_page_shows_approved_invoiced_paid_and_to_whom(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("paid")
    money = money_view(db, cast["officer"], reference)
    page = _page(signed_in("officer").get(f"/cases/{reference}/money"))
    assert "Money on the case" in page
    for words in ("Approved assistance", "Invoiced", "Paid", "Left to pay", "Applicant&#39;s contribution"):
        assert words in page
    assert format_pounds(money.approved_pence) in page and format_pounds(money.invoiced_pence) in page
    assert "INV-1" in page and "Castle Adaptations" in page
    payee = {"contractor": "The contractor", "applicant": "The applicant"}[money.payments[0]["payee"]]
    assert payee in page and "Final" in page
    assert f'href="/cases/{reference}/invoice"' in page and f'href="/cases/{reference}/pay"' in page
    assert f'href="/cases/{reference}/repayment"' not in page  # the approver's


def test_another_districts_money_is_not_found(signed_in: SignedIn, case_at: Callable[[str], str]) -> None:
    reference = case_at("on_site")
    client = signed_in("lichfield")
    for page in ("money", "pay", "invoice", "completion", "land-charge", "repayment", "extend", "vary"):
        assert client.get(f"/cases/{reference}/{page}").status_code == 404, page


# ---------------------------------------------------------------------- completion checks


def test_each_completion_check_is_recorded_by_its_role(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("works_complete")
    technical = signed_in("technical")
    page = _page(technical.get(f"/cases/{reference}/completion"))
    assert "The technical officer&#39;s inspection" in page and "Not recorded" in page
    assert 'value="ot_sign_off"' not in page  # the OT's, not offered to the technical officer
    response = post_form(technical, f"/cases/{reference}/completion",
                         {"check": "inspection", "passed": "yes"}, follow_redirects=True)  # fmt: skip
    assert "The technical officer&#39;s inspection: recorded as passed." in _page(response)
    ot = signed_in("ot")
    response = post_form(ot, f"/cases/{reference}/completion",
                         {"check": "ot_sign_off", "passed": "no", "notes": "Grab rail loose ✓ «ça»"})  # fmt: skip
    assert response.status_code == 302
    recorded = {c.check: c for c in completion_checks(db, cast["officer"], reference)}
    assert recorded["inspection"].passed is True and recorded["inspection"].recorded_by == "technical"
    assert (
        recorded["ot_sign_off"].passed is False and recorded["ot_sign_off"].notes == "Grab rail loose ✓ «ça»"
    )
    assert recorded["applicant_satisfaction"].passed is None
    page = _page(ot.get(f"/cases/{reference}/completion"))
    assert "Not passed" in page and "Grab rail loose ✓ «ça»" in page


def test_a_completion_check_with_mistakes_shows_them_all_and_records_nothing(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("works_complete")
    technical = signed_in("technical")
    url = f"/cases/{reference}/completion"
    response = post_form(technical, url, {"on-day": "31", "on-month": "2", "on-year": "2026"})
    page = _page(response)
    assert response.status_code == 422 and "There is a problem" in page
    assert "Choose the check you are recording" in page and "Say whether the check passed" in page
    assert "The date of the check must be a real date" in page
    response = post_form(technical, url, {"check": "inspection", "passed": "no"})
    assert "Enter what was found" in _page(response)
    # another role's check, forged into the form, is not one of the choices
    response = post_form(technical, url, {"check": "ot_sign_off", "passed": "yes"})
    assert "Choose the check you are recording" in _page(response)
    response = post_form(technical, url, {"check": "inspection", "passed": "no", "notes": "x" * 10_000})
    assert "What was found must be 2,000 characters or fewer" in _page(response)
    # a date in the future: the service refuses, in its words, and the input is kept
    future = date(_today().year + 1, 1, 2)
    response = post_form(technical, url, {"check": "inspection", "passed": "yes", "on-day": "2",
                                          "on-month": "1", "on-year": str(future.year)})  # fmt: skip
    page = _page(response)
    assert f"The date {future:%d/%m/%Y} is in the future." in page and f'value="{future.year}"' in page
    assert all(c.passed is None for c in completion_checks(db, cast["officer"], reference))


# ---------------------------------------------------------------------- invoices


def test_recording_an_invoice(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    client = signed_in("officer")
    response = post_form(client, f"/cases/{reference}/invoice", {
        "supplier": "Łódź Żurawie Sp. z o.o.", "invoice_reference": "INV-2231", "amount": "£6,450.00",
        "received-day": "1", "received-month": "2", "received-year": "2026", "labour": "contractor",
    }, follow_redirects=True)  # fmt: skip
    assert "Invoice INV-2231 from Łódź Żurawie Sp. z o.o. for £6,450.00: recorded." in _page(response)
    (invoice,) = money_view(db, cast["officer"], reference).invoices
    assert invoice["supplier"] == "Łódź Żurawie Sp. z o.o." and invoice["amount_pence"] == 6_450_00
    assert invoice["received_on"] == "2026-02-01"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ({}, ["Enter who sent the invoice", "Enter the invoice&#39;s reference", "Enter the invoice total"]),
        ({"amount": "12.345"}, ["The invoice total must be an amount in pounds and pence, like 1250.00"]),
        ({"amount": "-5"}, ["The invoice total must be an amount in pounds and pence"]),
        ({"amount": "lots"}, ["The invoice total must be an amount in pounds and pence"]),
        ({"supplier": "<script>alert(1)</script>" * 1000}, ["Who sent the invoice must be 120 characters or fewer"]),
        ({"received-day": "40", "received-month": "1", "received-year": "2026"},
         ["The date it was received must be a real date"]),
    ],
)  # fmt: skip
def test_an_invoice_with_mistakes_records_nothing(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast,
    typed: dict[str, str], expected: list[str],
) -> None:  # fmt: skip
    reference = case_at("works_ordered")
    good = {
        "supplier": "Castle Adaptations",
        "invoice_reference": "INV-9",
        "amount": "100.00",
        "labour": "contractor",
    }
    data = typed if not typed else {**good, **typed}
    response = post_form(signed_in("officer"), f"/cases/{reference}/invoice", data)
    page = _page(response)
    assert response.status_code == 422 and "There is a problem" in page
    for words in expected:
        assert words in page
    assert "<script>alert(1)</script>" not in page  # shown back escaped, never run
    assert money_view(db, cast["officer"], reference).invoices == ()


def test_an_invoice_for_the_applicants_own_labour_is_refused_in_words(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    response = post_form(signed_in("officer"), f"/cases/{reference}/invoice", {
        "supplier": "Mr Holt", "invoice_reference": "H-1", "amount": "0.01", "labour": "applicant"})  # fmt: skip
    page = _page(response)
    assert (
        "An invoice for the applicant&#39;s own labour cannot be accepted: the grant does not pay for it."
        in page
    )
    assert 'value="Mr Holt"' in page and money_view(db, cast["officer"], reference).invoices == ()


# ---------------------------------------------------------------------- payments


def test_an_interim_payment_for_work_done(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    client = signed_in("officer")
    due = payment_due(db, cast["officer"], reference)
    page = _page(client.get(f"/cases/{reference}/pay"))
    assert "Record an interim payment" in page and "May still be paid now" in page
    assert format_pounds(due.interim_room_pence) in page
    # more than the work done: refused in the rule's words, the input kept, nothing paid
    response = post_form(client, f"/cases/{reference}/pay", {"work_done": "1000.00", "amount": "1500.00"})
    page = _page(response)
    assert response.status_code == 422 and "interim payments are only for work done." in page
    assert 'value="1500.00"' in page and money_view(db, cast["officer"], reference).paid_pence == 0
    response = post_form(client, f"/cases/{reference}/pay", {"work_done": "4000", "amount": "3000"},
                         follow_redirects=True)  # fmt: skip
    assert "Interim payment of £3,000.00: recorded." in _page(response)
    (payment,) = money_view(db, cast["officer"], reference).payments
    assert payment["kind"] == "interim" and payment["amount_pence"] == 3_000_00
    assert payment["work_done_pence"] == 4_000_00


def test_the_final_payment_is_shown_line_by_line_before_it_is_recorded(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("certified")
    client = signed_in("officer")
    page = _page(client.get(f"/cases/{reference}/pay"))
    assert "No invoice is recorded" in page and "Record the final payment of" not in page
    record_invoice(db, cast["officer"], reference, supplier="Castle Adaptations", invoice_reference="INV-7",
                   amount_pence=approval_versions(db, cast["officer"], reference)[-1].works_pence,
                   received_on=_today())  # fmt: skip
    due = payment_due(db, cast["officer"], reference)
    assert due.kind == "final" and due.final and due.why_not is None
    page = _page(client.get(f"/cases/{reference}/pay"))
    for line in due.final:
        assert line.label in page and format_pounds(line.amount_pence) in page
    assert f"Record the final payment of {format_pounds(due.final_pence)}" in page
    response = post_form(client, f"/cases/{reference}/pay", {}, follow_redirects=True)
    assert f"Final payment of {format_pounds(due.final_pence)}: recorded." in _page(response)
    paid = money_view(db, cast["officer"], reference).payments
    assert [(p["payee"], p["amount_pence"]) for p in paid] == [
        (line.payee, line.amount_pence) for line in due.final
    ]
    assert show_case(db, cast["officer"], reference).state == "paid"


def test_a_payment_on_a_case_changed_since_the_page_was_read_is_refused(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    client = signed_in("officer")
    url = f"/cases/{reference}/pay"
    fields = hidden_fields(_page(client.get(url)))
    # another officer records an invoice in the meantime
    record_invoice(db, cast["officer"], reference, supplier="Castle Adaptations", invoice_reference="INV-8",
                   amount_pence=100_00, received_on=_today())  # fmt: skip
    response = client.post(url, data={**fields, "work_done": "4000.00", "amount": "3000.00"})
    page = _page(response)
    assert response.status_code == 422 and "Someone else changed" in page and 'value="3000.00"' in page
    assert money_view(db, cast["officer"], reference).paid_pence == 0


def test_a_payment_without_the_forms_token_is_refused(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    response = signed_in("officer").post(
        f"/cases/{reference}/pay", data={"work_done": "4000", "amount": "3000"}
    )
    assert response.status_code == 400 and "did not come from this service" in _page(response)
    assert money_view(db, cast["officer"], reference).paid_pence == 0


def test_the_case_page_sends_the_payment_step_to_the_payment_page(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("certified")
    client = signed_in("officer")
    assert f'href="/cases/{reference}/pay"' not in _page(client.get(f"/cases/{reference}"))  # no invoice yet
    record_invoice(db, cast["officer"], reference, supplier="Castle Adaptations", invoice_reference="INV-3",
                   amount_pence=100_00, received_on=_today())  # fmt: skip
    assert f'href="/cases/{reference}/pay"' in _page(client.get(f"/cases/{reference}"))


def test_who_may_not_pay_sees_no_form(signed_in: SignedIn, case_at: Callable[[str], str]) -> None:
    reference = case_at("on_site")
    page = _page(signed_in("technical").get(f"/cases/{reference}/pay"))
    assert "Payments are recorded by a grant officer." in page and 'name="amount"' not in page


# ---------------------------------------------------------------------- the land charge


def test_registering_the_land_charge(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("paid")
    client = signed_in("officer")
    charge = land_charge_view(db, cast["officer"], reference)
    assert charge.applies and APPROVED_GRANT > 5_000_00
    page = _page(client.get(f"/cases/{reference}/land-charge"))
    assert format_pounds(charge.due_pence) in page and "Not yet" in page
    url = f"/cases/{reference}/land-charge"
    response = post_form(client, url, {"registry_reference": "  "})
    assert "Enter the register&#39;s reference for the charge" in _page(response)
    response = post_form(client, url, {"registry_reference": "Ř" * 10_000})
    assert "The register&#39;s reference for the charge must be 60 characters or fewer" in _page(response)
    yesterday = date.fromordinal(_today().toordinal() - 1)  # before the certified date (today)
    response = post_form(client, url, {"registry_reference": "LLC/1", "registered-day": str(yesterday.day),
                                       "registered-month": str(yesterday.month),
                                       "registered-year": str(yesterday.year)})  # fmt: skip
    assert "is before the certified date" in _page(response)
    assert land_charge_view(db, cast["officer"], reference).registration is None
    response = post_form(client, url, {"registry_reference": "LLC/2026/0417"}, follow_redirects=True)
    assert "Land charge registered, register reference LLC/2026/0417." in _page(response)
    registration = land_charge_view(db, cast["officer"], reference).registration
    assert registration is not None and registration["registry_reference"] == "LLC/2026/0417"
    page = _page(client.get(url))
    assert "LLC/2026/0417" in page and 'name="registry_reference"' not in page


def test_the_repayment_decision_after_a_disposal(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("closed")  # closing registered the charge
    client = signed_in("approver")
    url = f"/cases/{reference}/repayment"
    page = _page(client.get(url))
    assert "Repayable at most" in page and "The owner is moving to give or receive care" in page
    response = post_form(client, url, {})
    page = _page(response)
    assert response.status_code == 422
    for words in ("Enter the date the home was disposed of", "Choose whether to demand repayment",
                  "Choose the circumstances you weighed", "Enter the reasons for the decision"):  # fmt: skip
        assert words in page
    disposal = {"disposal-day": "4", "disposal-month": "6", "disposal-year": str(_today().year + 2)}
    response = post_form(client, url, {**disposal, "decision": "part", "factors": ["none", "care"],
                                       "reason": "<b>Moving</b>"})  # fmt: skip
    page = _page(response)
    assert (
        "Enter the amount to demand" in page and "on its own" in page and "&lt;b&gt;Moving&lt;/b&gt;" in page
    )
    assert land_charge_view(db, cast["officer"], reference).decisions == ()
    response = post_form(client, url, {**disposal, "decision": "part", "amount": "1500.00",
                                       "factors": ["care", "hardship"],
                                       "reason": "Moving to live with her daughter, who cares for her"},
                         follow_redirects=True)  # fmt: skip
    assert "Decision on the disposal recorded: demand part of it." in _page(response)
    (decision,) = land_charge_view(db, cast["officer"], reference).decisions
    assert decision["decision"] == "part" and decision["demanded_pence"] == 1_500_00
    assert decision["factors"] == ["care", "hardship"]


def test_only_an_approver_sees_the_repayment_form(signed_in: SignedIn, case_at: Callable[[str], str]) -> None:
    reference = case_at("closed")
    page = _page(signed_in("officer").get(f"/cases/{reference}/repayment"))
    assert "The decision is an approver's." in page and 'name="decision"' not in page


# ---------------------------------------------------------------------- extensions and variations


def test_extending_the_completion_period(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    client = signed_in("officer")
    url = f"/cases/{reference}/extend"
    response = post_form(client, url, {})
    page = _page(response)
    assert "Enter how many months to extend by, or the new completion date" in page
    assert "Enter why the works need longer" in page
    response = post_form(client, url, {"months": "30", "reason": "Planning"})
    assert "The number of months must be a whole number from 1 to 24" in _page(response)
    response = post_form(client, url, {"months": "3", "to-day": "1", "to-month": "1",
                                       "to-year": str(_today().year + 1), "reason": "Planning"})  # fmt: skip
    assert "Give either the number of months or the new completion date, not both" in _page(response)
    kinds = [e.kind for e in history(db, cast["officer"], reference)]
    assert "completion_extended" not in kinds
    response = post_form(
        client, url, {"months": "3", "reason": "Planning consent delayed"}, follow_redirects=True
    )
    assert "Completion period extended" in _page(response)
    (extension,) = [e for e in history(db, cast["officer"], reference) if e.kind == "completion_extended"]
    assert extension.reason == "Planning consent delayed" and '"months":3' in extension.payload


def test_approving_a_variation_of_the_works(
    signed_in: SignedIn, case_at: Callable[[str], str], db: Database, cast: Cast
) -> None:
    reference = case_at("on_site")
    client = signed_in("approver")
    url = f"/cases/{reference}/vary"
    response = post_form(client, url, {"price": "two hundred"})
    page = _page(response)
    assert "Enter what changes in the works" in page
    assert "The change in price must be an amount in pounds and pence, like 1250.00, or -120.00" in page
    assert len(approval_versions(db, cast["officer"], reference)) == 1
    response = post_form(client, url, {"change": "Extra grab rails by the WC", "price": "240.00"},
                         follow_redirects=True)  # fmt: skip
    assert "Variation of £240.00 approved" in _page(response)
    versions = approval_versions(db, cast["officer"], reference)
    assert len(versions) == 2 and versions[-1].works_pence == versions[0].works_pence + 240_00
    assert versions[-1].variation == "Extra grab rails by the WC"
