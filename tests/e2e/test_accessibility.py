"""Every page of the browser application, checked by axe-core against WCAG 2.0 and 2.1 A and AA, signed
out and as an officer, the county OT and a manager; forms also with their error summary showing.

A new page is one line in SCREENS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

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
    """A page as someone sees it. ``path`` may name ``{case}``, a new case at referral, or ``{walked}``, the
    demo's Cannock case with its history and letters."""

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
    Screen("contribution", "/cases/{walked}/contribution", ("can.officer", "manager")),
    Screen("ceased entitlement", "/cases/{walked}/entitlement", ("can.officer",)),
    Screen("ceased entitlement decision", "/cases/{walked}/entitlement/decision", ("manager",)),
    Screen("budget override", "/cases/{walked}/budget-override", ("manager",)),
    Screen("not found (404)", "/cases/CAN-2000-9999"),
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


@pytest.mark.parametrize(("screen", "user"), _cases())
def test_page_is_accessible(
    screen: Screen, user: str | None, page: Page, as_user: AsUser, site: DemoSite, case_at_referral: str
) -> None:
    seen = page if user is None else as_user(user)
    response = seen.goto(screen.path.format(case=case_at_referral, walked=site.walked))
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
