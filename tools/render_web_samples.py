"""Screenshots of the browser application's main pages to docs/samples/web/<page>.png, 1280 px wide.

Run from the repository root after changing a page, the layout or the stylesheet:

    .venv/bin/python tools/render_web_samples.py

The application is served exactly as the browser tests serve it (tests/e2e/demo_server.py): a fresh
demonstration database in a temporary folder, waitress on a free loopback port, and Debian's Chromium
(/usr/bin/chromium) driven by Playwright, signed in as the Cannock grant officer. A picture taller than
the window is taken of the whole page, in 256 colours if its file would be too large, and of the
window only if even that is.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "samples" / "web"
CHROMIUM = Path("/usr/bin/chromium")
MAX_BYTES = 250_000
WIDTH, HEIGHT = 1280, 900

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402  (after the path is set)

from tests.e2e.demo_server import DemoSite, demo_site, sign_in  # noqa: E402


def _step_form_with_errors(page: Page, site: DemoSite) -> None:
    reference, _ = site.fresh_case()
    page.goto(f"/cases/{reference}/act/hold")
    page.get_by_label("Reason", exact=True).fill("Admitted to hospital")
    page.get_by_role("button", name="Put the case on hold").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()


def _search_results(page: Page, site: DemoSite) -> None:
    page.goto("/search?q=Cannock")
    expect(page.get_by_role("table")).to_be_visible()


def _awaiting_assessment(site: DemoSite) -> str:
    from dfg.services.cases import advance

    reference, _ = site.fresh_case()
    advance(site.database, site.actor("can.officer"), reference, "accept_referral")
    return reference


def _assessment_form_with_errors(page: Page, site: DemoSite) -> None:
    page.goto(f"/cases/{_awaiting_assessment(site)}/assessment")
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()


def _means_test_workings(page: Page, site: DemoSite) -> None:
    from dfg.services.assessment import record_assessment
    from tests.conftest import sample_assessment

    reference = _awaiting_assessment(site)
    record_assessment(site.database, site.actor("ot.county"), reference, sample_assessment(date.today()))
    page.goto(f"/cases/{reference}/means-test")
    page.locator("input[name='income-earnings_net']").fill("300.00")
    page.locator("input[name='capital']").fill("0")
    page.get_by_role("button", name="Check the workings").click()
    expect(page.get_by_role("heading", name="The workings")).to_be_visible()


def _landlord_decision_with_errors(page: Page, site: DemoSite) -> None:
    from dfg.services.case_opening import open_case
    from tests.conftest import sample_case

    reference = open_case(site.database, site.actor("can.officer"), sample_case("CAN", tenure="landlord"))
    page.goto(f"/cases/{reference}/landlord-decision")
    page.get_by_label("Amount of the grant").fill("0")
    page.get_by_label(
        "The extent to which the landlord can charge a higher rent because of the works"
    ).uncheck()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()


#: (file name, the demo user signed in (None: signed out), how to reach the page)
SAMPLES: tuple[tuple[str, str | None, Callable[[Page, DemoSite], object]], ...] = (
    ("sign-in", None, lambda page, site: page.goto("/sign-in")),
    ("my-work", "can.officer", lambda page, site: page.goto("/work?mine=0&within=56")),
    ("search-results", "can.officer", _search_results),
    ("case", "can.officer", lambda page, site: page.goto(f"/cases/{site.walked}")),
    ("step-form-with-errors", "can.officer", _step_form_with_errors),
    ("assessment-form-with-errors", "ot.county", _assessment_form_with_errors),
    ("means-test-workings", "can.officer", _means_test_workings),
    ("pipeline-report", "manager", lambda page, site: page.goto("/reports/pipeline")),
    ("landlord-decision-with-errors", "approver", _landlord_decision_with_errors),
    ("post-room", "can.officer", lambda page, site: page.goto("/letters/post")),
)


def shoot(page: Page, path: Path) -> int:
    """The whole page, in 256 colours if that is needed to keep it small enough, else the window only;
    the file's size."""
    picture = page.screenshot(full_page=True, animations="disabled", caret="hide")
    if len(picture) > MAX_BYTES:
        picture = _in_256_colours(picture)
    if len(picture) > MAX_BYTES:
        picture = _in_256_colours(page.screenshot(animations="disabled", caret="hide"))
    path.write_bytes(picture)
    return len(picture)


def _in_256_colours(png: bytes) -> bytes:
    """GOV.UK's pages use few colours: a palette keeps the text sharp at a third of the size. (Pillow
    comes with WeasyPrint.)"""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256).save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the folder for the pictures")
    parser.add_argument("--cases", type=int, default=5, help="demo cases per district (5: a case well along)")
    options = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: apt-get install chromium", file=sys.stderr)
        return 1
    options.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        demo_site(Path(folder), per_district=options.cases) as site,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        settings: dict[str, Any] = {
            "base_url": site.url,
            "viewport": {"width": WIDTH, "height": HEIGHT},
            "locale": "en-GB",
        }
        pages: dict[str | None, Page] = {}
        for name, user, reach in SAMPLES:
            if user not in pages:
                pages[user] = browser.new_page(**settings)
                if user is not None:
                    sign_in(pages[user], user)
            page = pages[user]
            reach(page, site)
            path = options.out / f"{name}.png"
            size = shoot(page, path)
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size // 1000} kB")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
