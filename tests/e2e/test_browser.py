"""Smoke test: Playwright drives Debian's Chromium, not the build it was made for. Each release of
Playwright speaks the protocol of one Chromium; a few versions either side still work, but once the two
part too far the browser tests fail in confusing ways. This test names both versions when that happens."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import playwright
import pytest
from playwright.sync_api import Browser, Error, Page, expect

from tests.e2e.conftest import CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: How many major versions Debian's Chromium may be from Playwright's own before the two are said to part.
LARGEST_GAP = 8


def playwright_versions() -> tuple[str, str]:
    """Playwright's own version, and the Chromium version it was built for."""
    from importlib.metadata import version

    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    listed = json.loads(browsers.read_text())["browsers"]
    chromium = next(b["browserVersion"] for b in listed if b["name"] == "chromium")
    return version("playwright"), chromium


def major(version: str) -> int:
    return int(version.split(".")[0])


def test_playwright_drives_debians_chromium(browser: Browser, page: Page) -> None:
    own_version, built_for = playwright_versions()
    installed = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    versions = (
        f"Playwright {own_version} is built for Chromium {built_for}; "
        f"{CHROMIUM} is {installed} (the browser reports {browser.version})"
    )
    print(versions)
    gap = abs(major(browser.version) - major(built_for))
    assert gap <= LARGEST_GAP, (
        f"{versions}: {gap} major versions apart, more than {LARGEST_GAP}. Pin playwright in "
        "pyproject.toml's test extra to a release built for a Chromium nearer Debian's"
    )
    try:  # what the other tests rely on: load, find by role, fill, click, evaluate, take a picture
        page.goto("/sign-in")
        page.get_by_label("Username").fill("nobody")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Enter your password")
        assert page.evaluate("document.activeElement.tagName") == "DIV"  # the error summary, by GOV.UK's JS
        assert page.screenshot()[:4] == b"\x89PNG"
    except (Error, AssertionError) as failure:
        pytest.fail(f"{versions}, and they do not work together: {failure}")
