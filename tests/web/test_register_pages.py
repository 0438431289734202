"""The contractor register and the budgets in the browser: what a person sees, and what is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dfg.reports.budget_lines import budget_entries, budget_show
from dfg.rules.budget import financial_year_of
from dfg.rules.clock import local_day, utcnow
from dfg.services.budget import allocate
from dfg.services.contractors import NewContractor, add_contractor, find_contractor, list_contractors
from dfg.services.database import Database
from dfg.store.models import EVENTS
from dfg.workflow.actor import Actor
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]


def _events(db: Database, kind: str) -> list[dict[str, Any]]:
    with db.read_connection() as connection:
        rows = connection.execute(
            select(EVENTS.c.actor, EVENTS.c.reason, EVENTS.c.payload).where(EVENTS.c.kind == kind)
        )
        return [{"actor": r.actor, "reason": r.reason, **json.loads(r.payload)} for r in rows]


@pytest.fixture
def able(db: Database, cast: dict[str, Actor]) -> int:
    return add_contractor(
        db, cast["officer"],
        NewContractor("Able Lifts Ltd", contact_name="Jo Able", phone="01543 123456", accreditation="TrustMark",
                      accreditation_expires=date(2040, 3, 31)),
    ).id  # fmt: skip


# ---------------------------------------------------------------------- the register


def test_the_register_lists_each_contractor_with_its_accreditation_and_status(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], able: int
) -> None:
    add_contractor(db, cast["officer"], NewContractor("Émile Builders", accreditation="TrustMark",
                                                      accreditation_expires=date(2020, 1, 31)))  # fmt: skip
    page = signed_in("technical").get("/contractors").get_data(as_text=True)
    assert "Able Lifts Ltd" in page and "TrustMark to 31/03/2040" in page and "01543 123456" in page
    assert "Émile Builders" in page and "TrustMark, expired 31/01/2020" in page and "Not current" in page
    assert page.index("Able Lifts") < page.index("Émile")
    assert "Add a contractor" not in page  # a technical officer may read the register, not change it
    assert '<th scope="col"' in page
    assert "Add a contractor" in signed_in("officer").get("/contractors").get_data(as_text=True)


def test_the_menu_shows_contractors_and_budgets_to_the_roles_given() -> None:
    from dfg.web.templating import MENU

    roles = {endpoint: seen for endpoint, _, seen in MENU}
    assert roles["contractors.register"] == frozenset(
        {"grant_officer", "technical_officer", "manager", "admin"}
    )
    assert roles["budgets.show"] == frozenset({"manager", "admin"})


def test_adding_a_contractor_puts_it_on_the_register_active(signed_in: SignedIn, db: Database) -> None:
    client = signed_in("officer")
    form = client.get("/contractors/new").get_data(as_text=True)
    assert 'for="name"' in form and "When does the accreditation expire?" in form
    response = post_form(client, "/contractors/new", {
        "name": "  Brook   Adaptations ", "contact_name": "Sam Brook", "email": "sam@brook.example",
        "accreditation": "TrustMark", "accreditation_expires-day": "31", "accreditation_expires-month": "3",
        "accreditation_expires-year": "2041",
    }, follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert "Brook Adaptations is on the register" in page and "TrustMark to 31/03/2041" in page
    made = find_contractor(db, None, "brook adaptations")  # type: ignore[arg-type]
    assert (made.status, made.email, made.accreditation_expires) == (
        "active",
        "sam@brook.example",
        date(2041, 3, 31),
    )
    assert [e["name"] for e in _events(db, "contractor_added")] == ["Brook Adaptations"]


def test_every_mistake_in_a_new_contractor_is_shown_at_once_and_nothing_is_written(
    signed_in: SignedIn, db: Database
) -> None:
    client = signed_in("officer")
    response = post_form(client, "/contractors/new", {
        "name": "<script>alert(1)</script>" + "x" * 10_000, "phone": "0" * 31, "email": "not an address",
        "accreditation_expires-day": "31", "accreditation_expires-month": "2", "accreditation_expires-year": "2027",
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page
    for text, href in (
        ("The name is longer than 120 characters.", "#name"),
        ("The phone number is longer than 30 characters.", "#phone"),
        ("is not an email address", "#email"),
        ("must be a real date", "#accreditation_expires-day"),
    ):
        assert text in page and f'href="{href}"' in page, text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page  # the input kept, escaped
    assert 'value="not an address"' in page
    assert list_contractors(db, None) == []  # type: ignore[arg-type]
    assert _events(db, "contractor_added") == []


def test_an_empty_form_and_an_expiry_without_its_accreditation_are_refused(
    signed_in: SignedIn, db: Database
) -> None:
    client = signed_in("officer")
    page = post_form(client, "/contractors/new", {"name": "   "}).get_data(as_text=True)
    assert "Enter the contractor&#39;s name" in page or "Enter the contractor's name" in page
    page = post_form(client, "/contractors/new", {
        "name": "Crest Ltd", "accreditation_expires-day": "1", "accreditation_expires-month": "4",
        "accreditation_expires-year": "2030",
    }).get_data(as_text=True)  # fmt: skip
    assert "needs the accreditation it is for" in page and 'href="#accreditation_expires-day"' in page
    assert list_contractors(db, None) == []  # type: ignore[arg-type]


def test_a_name_already_on_the_register_whatever_its_capitals_is_refused(
    signed_in: SignedIn, db: Database, able: int
) -> None:
    response = post_form(signed_in("officer"), "/contractors/new", {"name": "ABLE LIFTS LTD"})
    assert response.status_code == 422
    assert "There is already a contractor" in response.get_data(as_text=True)
    assert len(list_contractors(db, None)) == 1  # type: ignore[arg-type]


def test_suspending_and_reinstating_a_contractor_with_the_reason(
    signed_in: SignedIn, db: Database, able: int
) -> None:
    client = signed_in("officer")
    url = f"/contractors/{able}"
    form = client.get(url).get_data(as_text=True)
    assert (
        'value="Jo Able"' in form and 'name="accreditation_expires-year"' in form and 'value="2040"' in form
    )
    fields = {"contact_name": "Jo Able", "phone": "01543 123456", "accreditation": "TrustMark",
              "accreditation_expires-day": "31", "accreditation_expires-month": "3",
              "accreditation_expires-year": "2040"}  # fmt: skip
    response = post_form(client, url, {**fields, "status": "suspended", "reason": "complaint under investigation"},
                         follow_redirects=True)  # fmt: skip
    assert "Able Lifts Ltd changed: suspended" in response.get_data(as_text=True)
    assert find_contractor(db, None, able).status == "suspended"  # type: ignore[arg-type]
    event = _events(db, "contractor_updated")[-1]
    assert event["reason"] == "complaint under investigation"
    assert event["changed"] == {"status": {"from": "active", "to": "suspended"}}
    post_form(client, url, {**fields, "status": "active"})
    assert find_contractor(db, None, able).status == "active"  # type: ignore[arg-type]


def test_clearing_the_accreditation_clears_its_expiry(signed_in: SignedIn, db: Database, able: int) -> None:
    post_form(signed_in("officer"), f"/contractors/{able}", {
        "contact_name": "Jo Able", "accreditation": "", "status": "active",
        "accreditation_expires-day": "31", "accreditation_expires-month": "3", "accreditation_expires-year": "2040",
    })  # fmt: skip
    view = find_contractor(db, None, able)  # type: ignore[arg-type]
    assert (view.accreditation, view.accreditation_expires, view.phone) == (None, None, None)


def test_a_bad_change_says_each_problem_and_changes_nothing(
    signed_in: SignedIn, db: Database, able: int
) -> None:
    response = post_form(signed_in("officer"), f"/contractors/{able}", {
        "status": "closed", "email": "nobody", "accreditation_expires-day": "x",
        "accreditation_expires-month": "3", "accreditation_expires-year": "2040",
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "Choose the contractor" in page
        and "is not an email address" in page
        and "must be a real date" in page
    )
    assert 'value="nobody"' in page
    view = find_contractor(db, None, able)  # type: ignore[arg-type]
    assert (view.status, view.email, view.contact_name) == ("active", None, "Jo Able")
    assert _events(db, "contractor_updated") == []


def test_nothing_changed_is_said_and_not_recorded(signed_in: SignedIn, db: Database, able: int) -> None:
    client = signed_in("officer")
    fields = hidden_fields(client.get(f"/contractors/{able}").get_data(as_text=True))
    form = {"contact_name": "Jo Able", "phone": "01543 123456", "accreditation": "TrustMark", "status": "active",
            "accreditation_expires-day": "31", "accreditation_expires-month": "3",
            "accreditation_expires-year": "2040"}  # fmt: skip
    page = client.post(f"/contractors/{able}", data={**fields, **form}).get_data(as_text=True)
    assert "Nothing changed" in page
    assert _events(db, "contractor_updated") == []


def test_only_the_registers_roles_may_change_it(signed_in: SignedIn, db: Database, able: int) -> None:
    client = signed_in("technical")
    assert client.get("/contractors/new").status_code == 403
    page = client.get(f"/contractors/{able}").get_data(as_text=True)
    assert "Able Lifts Ltd" in page and "Save changes" not in page
    token = hidden_fields(page)["csrf_token"]
    refused = client.post(f"/contractors/{able}", data={"csrf_token": token, "status": "removed"})
    assert refused.status_code == 403
    assert find_contractor(db, None, able).status == "active"  # type: ignore[arg-type]


def test_a_form_without_its_csrf_token_is_refused(signed_in: SignedIn, db: Database) -> None:
    response = signed_in("officer").post("/contractors/new", data={"name": "Sneaky Ltd"})
    assert response.status_code == 400
    assert list_contractors(db, None) == []  # type: ignore[arg-type]


def test_no_such_contractor_is_not_found(signed_in: SignedIn) -> None:
    assert signed_in("officer").get("/contractors/99999").status_code == 404


# ---------------------------------------------------------------------- budgets


def _this_year() -> int:
    return financial_year_of(local_day(utcnow()))


def test_the_budgets_show_the_services_figures(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    year = _this_year()
    allocate(db, cast["manager"], district="CAN", financial_year=year, funding_line="mandatory",
             amount_pence=850_000_00, reason="grant letter")  # fmt: skip
    allocate(db, cast["manager"], district="LIC", financial_year=year, funding_line="mandatory",
             amount_pence=123_456_78, reason=None)  # fmt: skip
    page = signed_in("manager").get("/budgets?district=CAN").get_data(as_text=True)
    lines = budget_show(db, cast["manager"], district="CAN", financial_year=year, today=local_day(utcnow()))
    assert [line.district for line in lines] == ["CAN"]
    position = lines[0].position
    assert '<abbr title="Cannock Chase">CAN</abbr>' in page and "Lichfield" not in page.split("<table")[1]
    assert page.count("£850,000.00") >= 2 and f"£{position.remaining_pence // 100:,}.00" in page
    assert (
        '<th scope="col" class="govuk-table__header govuk-table__header--numeric">Forecast left</th>' in page
    )
    every = signed_in("admin").get("/budgets").get_data(as_text=True)
    assert "£123,456.78" in every and "£973,456.78" in every  # the total row adds the lines up


def test_a_bad_year_is_said_beside_its_field(signed_in: SignedIn) -> None:
    response = signed_in("manager").get("/budgets?year=<script>")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'href="#year"' in page and "is not like 2026-27" in page
    assert 'value="&lt;script&gt;"' in page  # kept, escaped


def test_setting_an_allocation_records_it_with_its_event(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    year = _this_year()
    client = signed_in("manager")
    form = client.get("/budgets/allocate").get_data(as_text=True)
    assert 'for="amount"' in form and 'for="reason"' in form
    response = post_form(client, "/budgets/allocate", {
        "district": "CAN", "year": "", "funding_line": "mandatory", "amount": "£850,000.00",
        "reason": "Better Care Fund grant letter",
    }, follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert "allocation set" in page and "£850,000.00" in page
    line = budget_show(db, cast["manager"], district="CAN", financial_year=year, today=local_day(utcnow()))[0]
    assert line.position.allocation_pence == 850_000_00
    [event] = _events(db, "budget_allocated")
    assert (event["actor"], event["reason"], event["allocation_pence"]) == (
        "manager",
        "Better Care Fund grant letter",
        850_000_00,
    )
    [entry] = budget_entries(db, cast["manager"], district="CAN", financial_year=year)
    assert entry.kind == "allocation" and entry.amount_pence == 850_000_00
    ledger = client.get(f"/budgets/CAN/{year}/ledger?line=mandatory").get_data(as_text=True)
    assert "Allocation" in ledger and "£850,000.00" in ledger and "manager" in ledger


def test_every_mistake_in_an_allocation_at_once_and_nothing_written(
    signed_in: SignedIn, db: Database
) -> None:
    client = signed_in("admin")
    response = post_form(client, "/budgets/allocate", {
        "district": "", "year": "2026-99", "funding_line": "", "amount": "lots" + "9" * 10_000,
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for text, href in (("Choose the district", "#district"), ("does not follow", "#year"),
                       ("Enter the funding line", "#funding_line"), ("Enter the allocation in pounds", "#amount")):  # fmt: skip
        assert text in page and f'href="{href}"' in page, text
    response = post_form(client, "/budgets/allocate", {
        "district": "CAN", "year": "2026-27", "funding_line": "gold_taps", "amount": "1000",
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert "has no funding line" in page and 'href="#funding_line"' in page and 'value="gold_taps"' in page
    assert _events(db, "budget_allocated") == []


def test_budgets_refuse_the_roles_the_services_refuse(signed_in: SignedIn, db: Database) -> None:
    assert signed_in("technical").get("/budgets").status_code == 403
    officer = signed_in("officer")
    assert officer.get("/budgets").status_code == 200  # a grant officer may read the budgets
    assert "Set an allocation" not in officer.get("/budgets").get_data(as_text=True)
    assert officer.get("/budgets/allocate").status_code == 403
    token = hidden_fields(officer.get("/budgets").get_data(as_text=True))["csrf_token"]
    refused = officer.post("/budgets/allocate", data={"csrf_token": token, "district": "CAN", "amount": "1"})
    assert refused.status_code == 403
    assert _events(db, "budget_allocated") == []
    assert officer.get(f"/budgets/LIC/{_this_year()}/ledger").status_code in (403, 404)
