"""Case data is untrusted text: it prints as text and can never make a letter fetch anything."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from letter_pdfs import flat_text
from letter_samples import CREATED_AT

from dfg.errors import ConfigurationError
from dfg.letters import render
from dfg.letters.context import LetterContext
from dfg.paths import letter_templates_dir

HOSTILE_NAME = '<img src="file:///etc/passwd">'
HOSTILE_LINES = (
    "http://127.0.0.1:9/x.png",
    '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css">',
    "Flat 2 <style>@import url(http://127.0.0.1:9/a.css)</style>",
)


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the renderer asks for, recorded on the way to the real check."""
    requested: list[str] = []
    real = render.resolve_template_url

    def recording(url: str, root: Path) -> Path:
        requested.append(url)
        return real(url, root)

    monkeypatch.setattr(render, "resolve_template_url", recording)
    return requested


@pytest.fixture
def hostile(contexts: dict[str, LetterContext]) -> LetterContext:
    context = contexts["approval_notice"]
    recipient = replace(context.recipient, name=HOSTILE_NAME, address_lines=HOSTILE_LINES, salutation=None)
    return replace(context, recipient=recipient, disabled_occupant_name=HOSTILE_NAME)


def test_hostile_text_prints_literally_and_fetches_nothing_outside(
    hostile: LetterContext, fetched: list[str], tmp_path: Path
) -> None:
    # A templates folder of its own gets a fresh font set-up, so the fonts' fetches are recorded too.
    root = _copy_templates(tmp_path).resolve()
    pdf = render.render_pdf(
        "approval_notice", hostile, letter_id="hostile", created_at=CREATED_AT, templates_dir=root
    )
    text = flat_text(pdf)
    assert f"Dear {HOSTILE_NAME}," in text
    unspaced = "".join(text.split())  # a long line wraps in the envelope window
    for line in HOSTILE_LINES:
        assert "".join(line.split()) in unspaced
    assert {Path(url).name for url in fetched} == {
        "AtkinsonHyperlegible-Regular.ttf",
        "AtkinsonHyperlegible-Bold.ttf",
        "generic-council-mark.svg",
    }
    for url in fetched:
        assert url.startswith(root.as_uri() + "/")


def test_hostile_text_is_escaped_in_html(hostile: LetterContext) -> None:
    html = render.render_html("approval_notice", hostile)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "<link rel" not in html
    assert "<style>@import" not in html


def test_the_fetcher_serves_template_files(fetched: list[str]) -> None:
    root = letter_templates_dir()
    fetcher = render.make_url_fetcher(root)
    response = fetcher((root / "letter.css").resolve().as_uri())
    assert b"@font-face" in response.read()
    assert fetched == [(root / "letter.css").resolve().as_uri()]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.png",
        "https://example.com/logo.png",
        "data:text/css,body{}",
        "ftp://127.0.0.1/x",
        "file://otherhost/etc/passwd",
    ],
)
def test_the_fetcher_refuses_anything_else(url: str) -> None:
    fetcher = render.make_url_fetcher(letter_templates_dir())
    with pytest.raises(render.UnsafeURL):
        fetcher(url)


def test_paths_cannot_climb_out_of_the_templates_folder(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    root.mkdir()
    (root / "ok.css").write_text("p {}")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.css").symlink_to(tmp_path / "secret.txt")
    assert render.resolve_template_url((root / "ok.css").as_uri(), root) == (root / "ok.css").resolve()
    for url in (
        f"{root.as_uri()}/../secret.txt",
        f"{root.as_uri()}/%2e%2e/secret.txt",
        (root / "link.css").as_uri(),
        root.as_uri(),  # a folder, not a file
        f"{root.as_uri()}/missing.css",
    ):
        with pytest.raises(render.UnsafeURL):
            render.resolve_template_url(url, root)


def test_a_template_asking_for_an_outside_resource_fails_the_render(
    tmp_path: Path, contexts: dict[str, LetterContext]
) -> None:
    root = _copy_templates(tmp_path)
    base = root / "base.html"
    base.write_text(base.read_text().replace("<body>", '<body><img src="http://127.0.0.1:9/x.png" alt="x">'))
    with pytest.raises(ConfigurationError, match=r"127\.0\.0\.1"):
        render.render_pdf(
            "closure_notice",
            contexts["closure_notice"],
            letter_id="x",
            created_at=CREATED_AT,
            templates_dir=root,
        )


def _copy_templates(tmp_path: Path) -> Path:
    root = tmp_path / "letter_templates"
    shutil.copytree(letter_templates_dir(), root)
    return root


def test_a_stylesheet_asking_for_an_outside_font_fails_the_render(
    tmp_path: Path, contexts: dict[str, LetterContext]
) -> None:
    root = _copy_templates(tmp_path)
    css = root / "letter.css"
    css.write_text(
        css.read_text().replace('url("fonts/AtkinsonHyperlegible-Bold.ttf")', 'url("file:///etc/passwd")')
    )
    with pytest.raises(ConfigurationError, match="file:///etc/passwd"):
        render.render_pdf(
            "closure_notice",
            contexts["closure_notice"],
            letter_id="x",
            created_at=CREATED_AT,
            templates_dir=root,
        )
