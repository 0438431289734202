"""Browser tests: Debian's Chromium, driven by Playwright, against the application served by waitress over
a demonstration database (one per test session, or per xdist worker).

Every test here is marked ``e2e`` and ``slow``. Without /usr/bin/chromium they are skipped on a developer's
machine and fail in CI (``CI`` set), where .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page

from dfg.services.sign_in import begin_second_factor, turn_on_second_factor
from tests.e2e.demo_server import DemoSite, demo_site, sign_in

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "web" / "vendor" / "axe.min.js"
#: The rules checked: WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: A user who signs in with a second factor, so that its page can be reached.
WITH_SECOND_FACTOR = "tam.officer"

AsUser = Callable[[str], Page]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            missing = {"e2e", "slow"} - {mark.name for mark in item.iter_markers()}
            assert not missing, f"{item.nodeid} must be marked {', '.join(sorted(missing))}"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: Playwright's own cannot be downloaded here."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("e2e")) as running:
        actor = running.actor(WITH_SECOND_FACTOR)
        secret = begin_second_factor()
        turn_on_second_factor(running.database, actor, secret, pyotp.TOTP(secret).now())
        yield running


@pytest.fixture(scope="session")
def base_url(site: DemoSite) -> str:
    return site.url


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any],
    _pw_artifacts_folder: tempfile.TemporaryDirectory[str],
    pytestconfig: pytest.Config,
    request: pytest.FixtureRequest,
) -> dict[str, Any]:
    # pytest-playwright leaves its (empty) artifacts folder to the config's clean-up, which an xdist
    # worker never runs: the interpreter then warns at exit, an error here. Unless something is recorded
    # into it, remove it with the session.
    if all(pytestconfig.getoption(name) == "off" for name in ("--video", "--screenshot", "--tracing")):
        request.addfinalizer(_pw_artifacts_folder.cleanup)
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def signed_in_states() -> dict[str, Any]:
    """Each user's cookies once signed in, kept for the session (signing in costs an Argon2 hash)."""
    return {}


@pytest.fixture
def as_user(
    browser: Browser, browser_context_args: dict[str, Any], signed_in_states: dict[str, Any]
) -> Iterator[AsUser]:
    """A page in a new browser context signed in as a demonstration user."""
    contexts = []

    def page_for(username: str) -> Page:
        state = signed_in_states.get(username)
        context = browser.new_context(**browser_context_args, storage_state=state)
        contexts.append(context)
        page = context.new_page()
        if state is None:
            sign_in(page, username)
            signed_in_states[username] = context.storage_state()
        return page

    yield page_for
    for context in contexts:
        context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now. The script is evaluated
    through the browser's protocol, which the page's Content-Security-Policy does not govern."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            // GOV.UK Frontend's conditional reveal sets aria-expanded on its radio (researched with
            // screen reader users and kept by the Design System: govuk-frontend issue 979): that one
            // attribute on that one element is not counted, and nothing else is let through.
            const reveal = (v, n) => v.id === "aria-allowed-attr"
                && document.querySelector(n.target.join(" "))?.matches(".govuk-radios__input[aria-controls]")
                && [...n.any, ...n.all, ...n.none].flatMap(c => c.data?.values ?? [String(c.data)])
                    .every(d => d.startsWith("aria-expanded="));
            return result.violations
                .map(v => ({...v, nodes: v.nodes.filter(n => !reveal(v, n))}))
                .filter(v => v.nodes.length > 0)
                .map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(n => n.target.join(" ")),
                }));
        }""",
        list(WCAG_TAGS),
    )
    return found


def assert_accessible(page: Page) -> None:
    """Fails listing every violation: its rule, impact, what it asks and where."""
    violations = axe_violations(page)
    lines = [f"  {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in violations]
    assert not violations, f"{page.url}: {len(violations)} accessibility violations\n" + "\n".join(lines)


def focus_ring(page: Page) -> dict[str, Any]:
    """The focused element (tag, id, text) and how it is drawn focused and, for comparison, unfocused:
    outline, box-shadow and background. It is blurred and focused again to read the second (which
    leaves the focus where it was, so the Tab order carries on)."""
    found: dict[str, Any] = page.evaluate(
        """() => {
            const el = document.activeElement;
            // GOV.UK draws a radio's or checkbox's focus on its label's ::before (the input is invisible)
            const drawn = el.type === "radio" || el.type === "checkbox";
            const look = () => {
                const style = drawn ? getComputedStyle(el.labels[0], "::before") : getComputedStyle(el);
                return {outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
                        boxShadow: style.boxShadow, background: style.backgroundColor};
            };
            const focused = look();
            el.blur();
            const unfocused = look();
            el.focus();
            return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || "").trim().slice(0, 60),
                    focused, unfocused};
        }"""
    )
    return found


def focus_is_visible(ring: dict[str, Any]) -> bool:
    """Focus shows when the element looks different focused: GOV.UK Frontend draws a yellow outline, box
    shadow or background (its transparent outline shows only in Windows' high-contrast mode)."""
    focused, unfocused = ring["focused"], ring["unfocused"]
    outline = not focused["outline"].startswith("none") and "rgba(0, 0, 0, 0)" not in focused["outline"]
    return (outline and focused["outline"] != unfocused["outline"]) or any(
        focused[part] != unfocused[part] for part in ("boxShadow", "background")
    )


def describe(ring: dict[str, Any]) -> str:
    return json.dumps(ring)
