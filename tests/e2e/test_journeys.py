"""Whole journeys in a real browser: finding a case and taking a step, by keyboard alone, through the error
summary, and with JavaScript turned off. What the person sees, and what the services then read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from dfg.rules.clock import local_day, utcnow
from dfg.services.case_reading import show_case
from tests.e2e.conftest import AsUser, describe, focus_is_visible, focus_ring
from tests.e2e.demo_server import DemoSite, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ACCEPT = "Accept the referral and request an OT assessment"
HOLD = "Put the case on hold (pauses service clocks; stays in its stage)"


def done_banner(page: Page) -> Any:
    return expect(page.locator(".govuk-notification-banner--success"))


def test_an_officer_finds_a_case_by_postcode_and_accepts_the_referral(page: Page, site: DemoSite) -> None:
    reference, postcode = site.fresh_case()
    sign_in(page, "can.officer")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Search").click()
    page.get_by_label("Reference, name, postcode, address or NHS number").fill(postcode.lower())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 case found")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Mrs Margaret Holt")
    expect(row).to_contain_text("Postcode")
    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    page.get_by_role("link", name=ACCEPT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ACCEPT)
    page.get_by_role("button", name=ACCEPT).click()
    done_banner(page).to_contain_text(f"{ACCEPT}: done")
    assert page.url.endswith(f"/cases/{reference}")
    assert show_case(site.database, site.actor("can.officer"), reference).state == "awaiting_assessment"


def _form_fields_in_order(page: Page) -> list[str]:
    """The ids the Tab key should reach in the step form: every field, one stop per group of radios,
    then the button."""
    ids: list[str] = page.evaluate(
        """() => {
            const seen = new Set(), ids = [];
            for (const el of document.querySelectorAll(
                    "#main-form input:not([type=hidden]), #main-form textarea, #main-form select, #main-form button")) {
                if (el.type === "radio") { if (seen.has(el.name)) continue; seen.add(el.name); }
                if (!el.id) el.id = "dfg-e2e-" + ids.length;  // the button has none
                ids.push(el.id);
            }
            return ids;
        }"""
    )
    return ids


def test_a_step_by_keyboard_alone_with_focus_always_visible(as_user: AsUser, site: DemoSite) -> None:
    reference, _ = site.fresh_case()
    page = as_user("can.officer")
    page.goto(f"/cases/{reference}/act/hold")
    fields = _form_fields_in_order(page)
    assert fields[:2] == ["code", "reason"] and fields[-1].startswith("dfg-e2e-"), fields
    review = local_day(utcnow()) + timedelta(days=21)
    typed = {
        "reason": "Admitted to hospital – review on discharge",
        "review_date-day": str(review.day),
        "review_date-month": str(review.month),
        "review_date-year": str(review.year),
    }
    # through the skip link, the menu and the back link, each showing where the focus is, into the form
    for _ in range(30):
        page.keyboard.press("Tab")
        ring = focus_ring(page)
        assert focus_is_visible(ring), f"focus is not visible on {describe(ring)}"
        if ring["id"] == fields[0]:
            break
    else:
        pytest.fail(f"Tab never reached the form's first field #{fields[0]}")
    for position, field in enumerate(fields):
        if position:
            page.keyboard.press("Tab")
        ring = focus_ring(page)
        assert ring["id"] == field, f"Tab stop {position + 1} should be #{field}, is {describe(ring)}"
        assert focus_is_visible(ring), f"focus is not visible on {describe(ring)}"
        if field == "code":
            page.keyboard.press("Space")  # the first reason for a hold
            assert page.locator("#code").is_checked()
        elif field in typed:
            page.keyboard.type(typed[field])
    page.keyboard.press("Enter")  # on the button, the last stop
    done_banner(page).to_contain_text(f"{HOLD}: done")
    held = show_case(site.database, site.actor("can.officer"), reference)
    assert held.on_hold_since is not None and held.hold_review_date == review


def test_the_error_summary_takes_focus_and_its_links_move_it_to_each_field(
    as_user: AsUser, site: DemoSite
) -> None:
    reference, _ = site.fresh_case()
    page = as_user("can.officer")
    before = show_case(site.database, site.actor("can.officer"), reference)
    page.goto(f"/cases/{reference}/act/hold")
    page.get_by_label("Reason", exact=True).fill("<script>alert(1)</script>")
    page.get_by_role("button", name=HOLD).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    expect(page.get_by_label("Reason", exact=True)).to_have_value("<script>alert(1)</script>")
    links = {"Choose why": "code", "Enter the review date": "review_date-day"}
    for text, field in links.items():
        summary.get_by_role("link", name=text).click()
        expect(page.locator(f"#{field}")).to_be_focused()
        assert focus_is_visible(focus_ring(page))
    assert show_case(site.database, site.actor("can.officer"), reference) == before  # nothing written


def test_everything_works_without_javascript(
    browser: Browser, browser_context_args: dict[str, Any], site: DemoSite
) -> None:
    reference, _ = site.fresh_case()
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "can.officer")
        assert page.locator("body.govuk-frontend-supported").count() == 0  # GOV.UK's script did not run
        page.goto(f"/cases/{reference}/act/hold")
        page.get_by_role("button", name=HOLD).click()  # nothing filled in: the summary, without focus
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the reason")
        page.goto(f"/cases/{reference}")
        page.get_by_role("link", name=ACCEPT).click()
        page.get_by_role("button", name=ACCEPT).click()
        done_banner(page).to_contain_text(f"{ACCEPT}: done")
    finally:
        context.close()
    assert show_case(site.database, site.actor("can.officer"), reference).state == "awaiting_assessment"
