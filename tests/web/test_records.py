"""Notes and documents on the case's pages: every mistake at once, in words; nothing kept on a mistake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dfg.services.database import Database
from dfg.services.documents import add_document, documents_of
from dfg.services.notes import notes_of
from dfg.workflow.actor import Actor
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]


@pytest.fixture(autouse=True)
def documents_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A shared (PostgreSQL) database keeps its documents where it is told; a SQLite file's go beside it."""
    monkeypatch.setenv("DFG_DOCUMENTS", str(tmp_path / "documents"))


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_adding_a_note(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    response = post_form(
        client, f"/cases/{reference}/notes",
        {"contact": "call", "party": "applicant", "summary": "Rang to say the OT visits on Tuesday"},
        follow_redirects=True,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert "Note added." in page and "Rang to say the OT visits on Tuesday" in page and "Phone call" in page
    [note] = notes_of(db, cast["officer"], reference)
    assert (note.contact, note.party, note.recorded_by) == ("call", "applicant", "officer")


def test_a_note_with_every_mistake_says_each_and_keeps_nothing(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    response = post_form(
        client, f"/cases/{reference}/notes",
        {"contact": "carrier pigeon", "party": "", "summary": "x" * 10_000, "on-day": "31", "on-month": "2", "on-year": "2026"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for words in ("Choose how the contact happened", "Choose who it was with", "must be 4,000 characters or fewer",
                  "must be a real date"):  # fmt: skip
        assert words in page, words
    assert "summary:" not in page and "contact:" not in page  # never the engine's field names
    assert notes_of(db, cast["officer"], reference) == []


def test_hostile_text_is_shown_as_text(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    client = signed_in("officer")
    page = post_form(
        client, f"/cases/{reference}/notes",
        {"contact": "email", "party": "other", "summary": "<img src=x onerror=alert(1)> Zoë ☃"}, follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "&lt;img src=x onerror=alert(1)&gt; Zoë ☃" in page and "<img src=x" not in page


def test_attaching_and_fetching_a_document(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/documents"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    response = client.post(
        url, data={**fields, "kind": "photo", "file": (__import__("io").BytesIO(PNG), "../../etc/bath room.png")},
        content_type="multipart/form-data", follow_redirects=True,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert "attached." in page
    [document] = documents_of(db, cast["officer"], reference)
    assert "/" not in document.file_name and document.media_type == "image/png"
    fetched = client.get(f"/cases/{reference}/documents/{document.id}")
    assert fetched.data == PNG and "attachment" in fetched.headers["Content-Disposition"]


def test_a_document_that_is_not_what_it_says_is_refused(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/documents"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    response = client.post(
        url, data={**fields, "kind": "", "file": (__import__("io").BytesIO(b"MZ\x90\x00 not a pdf"), "invoice.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose what kind of document it is" in page and "is not a PDF, JPEG, PNG" in page
    assert documents_of(db, cast["officer"], reference) == []


def test_no_file_chosen(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    client = signed_in("officer")
    response = post_form(client, f"/cases/{reference}/documents", {"kind": "photo"})
    assert response.status_code == 422 and "Choose a file to attach" in response.get_data(as_text=True)


def test_another_districts_notes_are_not_found(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample("LIC", by="lichfield")
    client = signed_in("officer")
    assert client.get(f"/cases/{reference}/notes").status_code == 404
    assert client.get(f"/cases/{reference}/documents").status_code == 404


def test_withdrawing_a_document_keeps_it_on_the_page_out_of_reach(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    added = add_document(db, cast["ot"], reference, name="Another report.png", content=PNG, kind="photo")
    client = signed_in("officer")
    page = client.get(f"/cases/{reference}/documents").get_data(as_text=True)
    url = f"/cases/{reference}/documents/{added.id}/withdraw"
    assert url in page
    empty = post_form(client, url, {"reason": " "})
    assert (
        empty.status_code == 422
        and empty.get_data(as_text=True).count("Enter why the document is withdrawn") == 2
    )
    assert "--reason" not in empty.get_data(as_text=True)
    done = post_form(client, url, {"reason": "For another case"}, follow_redirects=True)
    shown = done.get_data(as_text=True)
    assert "Another report.png withdrawn." in shown and "Withdrawn" in shown and "For another case" in shown
    assert f'/cases/{reference}/documents/{added.id}"' not in shown  # no longer offered to download
    assert client.get(f"/cases/{reference}/documents/{added.id}").status_code == 404
    assert client.get(url).status_code == 404  # nothing left to withdraw
    assert documents_of(db, cast["officer"], reference) == []
