"""Every page of the browser application, checked by axe-core against WCAG 2.0 and 2.1 A and AA, signed
out and as an officer, the county OT and a manager; forms also with their error summary showing.

A new page is one line in SCREENS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from dfg.rules.clock import utcnow
from dfg.services.appointments import Appointment, book_appointment
from dfg.services.case_opening import open_case
from dfg.services.cases import advance
from dfg.services.documents import add_document
from tests.conftest import sample_case
from tests.e2e.conftest import WITH_SECOND_FACTOR, AsUser, assert_accessible
from tests.e2e.demo_server import PASSWORD, DemoSite

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIGNED_IN = ("can.officer", "ot.county", "manager")
SIGNED_OUT = (None,)
OFFICER_AND_OT = ("can.officer", "ot.county")


def _password_of_second_factor_user(page: Page) -> None:
    page.get_by_label("Username").fill(WITH_SECOND_FACTOR)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()


def _without_csrf_token(page: Page) -> None:
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Something in the request was not right")).to_be_visible()


@dataclass(frozen=True)
class Screen:
    """A page as someone sees it. ``path`` may name ``{case}``, a new case at referral, ``{walked}``, the
    demo's Cannock case with its history and letters, ``{booked}``, a case awaiting its assessment with
    a visit booked and a document attached (``{document}``), or ``{landlord}``, a landlord's application."""

    name: str
    path: str
    users: tuple[str | None, ...] = SIGNED_IN
    #: the button to press first, with the form empty: the page then shows its error summary
    submit: str | None = None
    #: anything else to do on the page first
    then: Callable[[Page], None] | None = None


SCREENS: tuple[Screen, ...] = (
    Screen("sign in", "/sign-in", SIGNED_OUT),
    Screen("sign in, errors", "/sign-in", SIGNED_OUT, submit="Sign in"),
    Screen("invitation", "/invitation", SIGNED_OUT),
    Screen("invitation, errors", "/invitation", SIGNED_OUT, submit="Set password"),
    Screen("second factor", "/sign-in", SIGNED_OUT, then=_password_of_second_factor_user),
    Screen("signed out", "/signed-out", SIGNED_OUT),
    Screen("form expired (400)", "/sign-in", SIGNED_OUT, then=_without_csrf_token),
    Screen("not found (404), signed out", "/assets/no-such-file.css", SIGNED_OUT),
    Screen("my work", "/work?mine=0"),
    Screen("my work, errors", "/work?within=lots"),
    Screen("search", "/search"),
    Screen("search results", "/search?q=WS12"),
    Screen("search, errors", "/search?q=h"),
    Screen("account", "/account"),
    Screen("account, errors", "/account", submit="Turn on"),
    Screen("case at referral", "/cases/{case}"),
    Screen("case walked on", "/cases/{walked}"),
    Screen("step form", "/cases/{case}/act/accept_referral", ("can.officer",)),
    Screen("step form, errors", "/cases/{case}/act/hold", OFFICER_AND_OT, submit="Put the case on hold"),
    Screen("open a case", "/cases/new", ("can.officer",)),
    Screen("open a case, errors", "/cases/new", ("can.officer",), submit="Open the case"),
    Screen("record the assessment", "/cases/{booked}/assessment", ("ot.county",)),
    Screen(
        "record the assessment, errors",
        "/cases/{booked}/assessment",
        ("ot.county",),
        submit="Record the assessment",
    ),
    Screen("grant calculation", "/cases/{walked}/grant", ("can.officer",)),
    Screen("approval", "/cases/{walked}/approve", ("manager",)),
    Screen("contribution", "/cases/{walked}/contribution", ("can.officer", "manager")),
    Screen("ceased entitlement", "/cases/{walked}/entitlement", ("can.officer",)),
    Screen("ceased entitlement decision", "/cases/{walked}/entitlement/decision", ("manager",)),
    Screen("budget override", "/cases/{walked}/budget-override", ("manager",)),
    Screen("a landlord's grant", "/cases/{landlord}/landlord-decision", ("approver", "can.officer")),
    Screen(
        "a landlord's grant, errors",
        "/cases/{landlord}/landlord-decision",
        ("approver",),
        submit="Record the decision",
    ),
    Screen("print for the post", "/letters/post", ("can.officer",)),
    Screen("not found (404)", "/cases/CAN-2000-9999"),
    Screen("correct a person", "/cases/{case}/people/1", ("can.officer",)),
    Screen(
        "correct a person, errors", "/cases/{case}/people/1", ("can.officer",), submit="Save the correction"
    ),
    Screen("add a person", "/cases/{case}/people/new", ("can.officer",)),
    Screen("add a person, errors", "/cases/{case}/people/new", ("can.officer",), submit="Add the person"),
    Screen("remove a person", "/cases/{case}/people/1/remove", ("can.officer",)),
    Screen("data protection", "/admin/data-protection", ("can.officer", "manager")),
    Screen("files due for disposal", "/admin/retention", ("manager", "admin")),
    Screen("disposal", "/admin/retention/dispose", ("admin",)),
    Screen("subject access", "/admin/subject-access?reference={walked}", ("can.officer",)),
    Screen("subject access, errors", "/admin/subject-access?reference=CAN-2000-9999", ("can.officer",)),
    Screen("access record", "/admin/access-record?reference={walked}", ("manager",)),
    Screen(
        "audit checkpoints, errors", "/admin/checkpoints", ("manager",), submit="Check against the checkpoint"
    ),
    Screen("sign-on, errors", "/admin/users/can.officer/identities", ("admin",), submit="Add the sign-on"),
    Screen("visits and assessments", "/cases/{booked}/assessments", OFFICER_AND_OT),
    Screen("cancel the visit", "/cases/{booked}/visit/cancel", OFFICER_AND_OT),
    Screen(
        "cancel the visit, errors", "/cases/{booked}/visit/cancel", ("ot.county",), submit="Cancel the visit"
    ),
    Screen("documents", "/cases/{booked}/documents", ("can.officer",)),
    Screen("withdraw a document", "/cases/{booked}/documents/{document}/withdraw", ("can.officer",)),
    Screen(
        "withdraw a document, errors",
        "/cases/{booked}/documents/{document}/withdraw",
        ("can.officer",),
        submit="Withdraw the document",
    ),
)


def _cases() -> list[object]:
    return [
        pytest.param(screen, user, id=f"{screen.name}-{user or 'signed out'}")
        for screen in SCREENS
        for user in screen.users
    ]


@pytest.fixture(scope="module")
def case_at_referral(site: DemoSite) -> str:
    reference, _ = site.fresh_case()
    return reference


@pytest.fixture(scope="module")
def case_booked(site: DemoSite) -> tuple[str, int]:
    """A case awaiting its assessment, its visit booked a week ahead and a document attached."""
    reference, _ = site.fresh_case()
    officer = site.actor("can.officer")
    advance(site.database, officer, reference, "accept_referral")
    book_appointment(site.database, site.actor("ot.county"), reference, Appointment(
        at=utcnow() + timedelta(days=7), assessor_name="Ruth Ashley", assessor_organisation="County OT"))  # fmt: skip
    added = add_document(site.database, officer, reference, name="report.pdf", content=b"%PDF-1.7\n%%EOF\n",
                         kind="ot_report")  # fmt: skip
    return reference, added.id


@pytest.fixture(scope="module")
def case_of_a_landlord(site: DemoSite) -> str:
    return open_case(site.database, site.actor("can.officer"), sample_case("CAN", tenure="landlord"))


@pytest.mark.parametrize(("screen", "user"), _cases())
def test_page_is_accessible(
    screen: Screen, user: str | None, page: Page, as_user: AsUser, site: DemoSite, case_at_referral: str,
    case_booked: tuple[str, int], case_of_a_landlord: str,
) -> None:  # fmt: skip
    seen = page if user is None else as_user(user)
    booked, document = case_booked
    path = screen.path.format(case=case_at_referral, walked=site.walked, booked=booked, document=document,
                              landlord=case_of_a_landlord)  # fmt: skip
    response = seen.goto(path)
    assert response is not None
    if screen.submit is not None:
        seen.get_by_role("button", name=screen.submit).click()
        expect(seen.locator(".govuk-error-summary")).to_be_visible()
    if screen.then is not None:
        screen.then(seen)
    assert_accessible(seen)


def test_a_violation_is_reported_with_its_rule_and_place(page: Page) -> None:
    """The check can fail: an image without a text alternative and an unlabelled field are named."""
    page.goto("/sign-in")
    page.locator("h1").evaluate(
        """h1 => h1.insertAdjacentHTML("afterend",
            '<img id="bad-image" src="/assets/none.png"><input id="bad-field" type="text">')"""
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    assert "image-alt (critical): Images must have alternative text at #bad-image" in str(failure.value)
    assert "label (critical)" in str(failure.value) and "#bad-field" in str(failure.value)


def test_only_the_reveals_aria_expanded_is_let_through(page: Page) -> None:
    """GOV.UK Frontend's conditional radio may carry aria-expanded; any other attribute it is not allowed,
    or aria-expanded on any other radio, is still a violation."""
    page.goto("/sign-in")
    page.locator("h1").evaluate(
        """h1 => h1.insertAdjacentHTML("afterend", '<fieldset><legend>Which</legend>'
            + '<input class="govuk-radios__input" id="reveal" name="w" type="radio" aria-controls="more" aria-expanded="false"><label for="reveal">A</label>'
            + '<input class="govuk-radios__input" id="also" name="w" type="radio" aria-controls="more" aria-expanded="false" aria-selected="true"><label for="also">B</label>'
            + '<input id="plain" name="w" type="radio" aria-expanded="false"><label for="plain">C</label>'
            + '<div id="more">More</div></fieldset>')"""
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    said = str(failure.value)
    assert "aria-allowed-attr" in said and "#also" in said and "#plain" in said
    assert "#reveal" not in said
