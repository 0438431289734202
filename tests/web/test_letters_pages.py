"""The letters pages: the queue and rendering it, the post room's PDF, and reprinting a copy; what a
person sees, and what the register holds afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from dfg.rules.clock import local_day, utcnow
from dfg.services.case_opening import NewPerson
from dfg.services.cases import advance
from dfg.services.database import Database
from dfg.services.letter_batch import pending_letters
from dfg.services.letter_register import list_letters
from dfg.web import letters as letters_pages
from dfg.workflow.actor import Actor
from tests.web.conftest import csrf_token, post_form

SignedIn = Callable[[str], FlaskClient]

ACKNOWLEDGEMENT = "We have received your referral"
_PDF_LINK = re.compile(r'href="(/cases/[A-Z0-9-]+/letters/\d+\.pdf)"')


@pytest.fixture
def referred(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A Cannock case whose referral is accepted: its acknowledgement waits in the queue."""
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    return reference


def render(client: FlaskClient) -> str:
    return post_form(client, "/letters", {}).get_data(as_text=True)


def since_today(**parts: str) -> dict[str, str]:
    today = local_day(utcnow())
    given = {"since-day": str(today.day), "since-month": str(today.month), "since-year": str(today.year)}
    return {**given, **parts}


def test_the_queue_shows_a_letter_a_step_asked_for(signed_in: SignedIn, referred: str) -> None:
    page = signed_in("officer").get("/letters").get_data(as_text=True)
    assert "1 letter waiting to be rendered" in page
    assert referred in page and ACKNOWLEDGEMENT in page and "Mrs Margaret Holt" in page
    assert "Accept referral" in page and "Ready" in page
    assert "Render these letters" in page
    assert 'href="/letters"' in page  # in the menu


def test_rendering_makes_a_register_entry_whose_pdf_downloads(
    signed_in: SignedIn, referred: str, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    page = render(client)
    assert "1 letter rendered." in page and "Rendered just now" in page
    assert "0 letters waiting to be rendered" in page and "Render these letters" not in page
    [letter] = list_letters(db, cast["officer"], referred)
    assert (letter.kind, letter.created_by, letter.copy_of) == ("acknowledgement", "officer", None)
    [link] = _PDF_LINK.findall(page)
    assert link == f"/cases/{referred}/letters/{letter.id}.pdf"
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pending_letters(db, cast["officer"]) == []


def test_a_press_renders_a_few_and_says_how_many_are_left(
    signed_in: SignedIn,
    db: Database,
    cast: dict[str, Actor],
    open_sample: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = [open_sample() for _ in range(2)]
    for reference in cases:
        advance(db, cast["officer"], reference, "accept_referral")
    monkeypatch.setattr(letters_pages, "RENDER_AT_ONCE", 1)
    page = render(signed_in("officer"))
    assert "1 letter rendered. 1 more is ready: render them next." in page
    assert "1 letter waiting to be rendered" in page and "Render these letters" in page
    assert [p.reference for p in pending_letters(db, cast["officer"])] == cases[1:]


def test_rendering_without_the_forms_token_is_refused(
    signed_in: SignedIn, referred: str, db: Database, cast: dict[str, Actor]
) -> None:
    response = signed_in("officer").post("/letters", data={})
    assert response.status_code == 400
    assert list_letters(db, cast["officer"], referred) == []


def test_the_post_rooms_pdf(signed_in: SignedIn, referred: str) -> None:
    client = signed_in("officer")
    form = client.get("/letters/post").get_data(as_text=True)
    assert "Print letters for the post" in form and "From which day?" in form
    render(client)
    response = client.get("/letters/post", query_string=since_today())
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="post-')
    assert response.data.startswith(b"%PDF")


def test_no_letters_since_the_day_says_so(signed_in: SignedIn, referred: str) -> None:
    client = signed_in("officer")
    render(client)
    tomorrow = local_day(utcnow()) + timedelta(days=1)
    response = client.get("/letters/post", query_string=since_today(**{"since-day": str(tomorrow.day),
        "since-month": str(tomorrow.month), "since-year": str(tomorrow.year)}))  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"No letters were produced on or after {tomorrow:%d/%m/%Y}." in page
    assert "There is a problem" in page


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"since-day": "", "since-month": "", "since-year": ""}, "Enter the first day to print"),
        ({"since-month": ""}, "The first day to print must include a month"),
        ({"since-day": "<script>alert(1)</script>"}, "The first day to print must be a real date"),
        ({"since-day": "3" * 10_000}, "The first day to print must be a real date"),
        ({"since-month": "Ⅻ"}, "The first day to print must be a real date"),
        (
            {"since-day": "１", "since-month": "６", "since-year": "２０９９"},
            "No letters were produced on or after 01/06/2099",
        ),
        ({"since-day": "31", "since-month": "2"}, "The first day to print must be a real date"),
        ({"since-year": "26"}, "The first day to print must be a real date"),
    ],
)
def test_a_bad_day_is_shown_in_words_and_kept(
    signed_in: SignedIn, referred: str, parts: dict[str, str], message: str
) -> None:
    client = signed_in("officer")
    render(client)
    response = client.get("/letters/post", query_string=since_today(**parts))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert message in page and 'href="#since-day"' in page
    assert "<script>alert(1)</script>" not in page
    if "<script>" in parts.get("since-day", ""):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # kept, escaped


def test_reprint_makes_a_copy_and_goes_back_to_the_case(
    signed_in: SignedIn, referred: str, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    render(client)
    [original] = list_letters(db, cast["officer"], referred)
    case_page = client.get(f"/cases/{referred}").get_data(as_text=True)
    assert f'action="/letters/{original.id}/reprint"' in case_page and "Reprint" in case_page
    response = client.post(f"/letters/{original.id}/reprint", data={"csrf_token": csrf_token(case_page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{referred}#letters")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    copies = [x for x in list_letters(db, cast["officer"], referred) if x.copy_of == original.id]
    assert len(copies) == 1
    assert f"{ACKNOWLEDGEMENT}: a copy is made, letter {copies[0].id}, marked COPY on every page." in page
    assert f"{ACKNOWLEDGEMENT} to Mrs Margaret Holt (copy)" in page
    assert client.get(f"/cases/{referred}/letters/{copies[0].id}.pdf").data.startswith(b"%PDF")


def test_reprint_without_the_forms_token_is_refused(
    signed_in: SignedIn, referred: str, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    render(client)
    [original] = list_letters(db, cast["officer"], referred)
    assert client.post(f"/letters/{original.id}/reprint", data={}).status_code == 400
    assert list_letters(db, cast["officer"], referred) == [original]


def test_a_letter_that_does_not_exist(signed_in: SignedIn) -> None:
    client = signed_in("officer")
    token = csrf_token(client.get("/letters/post").get_data(as_text=True))
    response = client.post("/letters/999999/reprint", data={"csrf_token": token})
    assert response.status_code == 404 and "No letter 999999." in response.get_data(as_text=True)


def test_another_districts_letters_are_never_shown(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    theirs = open_sample("LIC", by="lichfield")
    advance(db, cast["lichfield"], theirs, "accept_referral")
    officer = signed_in("officer")
    page = officer.get("/letters").get_data(as_text=True)
    assert theirs not in page and "0 letters waiting to be rendered" in page
    assert "No letter was rendered." in render(officer)
    assert pending_letters(db, cast["lichfield"])  # still theirs to render
    render(signed_in("lichfield"))
    [letter] = list_letters(db, cast["lichfield"], theirs)
    token = csrf_token(officer.get("/letters").get_data(as_text=True))
    response = officer.post(f"/letters/{letter.id}/reprint", data={"csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and f"No letter {letter.id}." in page and theirs not in page
    posted = officer.get("/letters/post", query_string=since_today())
    assert posted.status_code == 422 and "No letters were produced" in posted.get_data(as_text=True)
    assert len(list_letters(db, cast["lichfield"], theirs)) == 1


def test_a_manager_renders_every_districts_letters(
    signed_in: SignedIn, referred: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    theirs = open_sample("LIC", by="lichfield")
    advance(db, cast["lichfield"], theirs, "accept_referral")
    manager = signed_in("manager")
    page = manager.get("/letters").get_data(as_text=True)
    assert referred in page and theirs in page and "2 letters waiting to be rendered" in page
    assert "2 letters rendered." in render(manager)
    assert manager.get("/letters/post", query_string=since_today()).data.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["ot", "technical"])
def test_those_who_do_not_produce_letters_are_refused(
    signed_in: SignedIn, referred: str, db: Database, cast: dict[str, Actor], who: str
) -> None:
    render(signed_in("officer"))
    [letter] = list_letters(db, cast["officer"], referred)
    client = signed_in(who)
    case_page = client.get(f"/cases/{referred}").get_data(as_text=True)
    assert ACKNOWLEDGEMENT in case_page and "/reprint" not in case_page  # the letter, not the button
    assert 'href="/letters"' not in case_page  # not in their menu
    assert client.get("/letters").status_code == 403
    assert client.post("/letters", data={"csrf_token": csrf_token(case_page)}).status_code == 403
    assert client.get("/letters/post").status_code == 403
    assert client.get("/letters/post", query_string=since_today()).status_code == 403
    response = client.post(f"/letters/{letter.id}/reprint", data={"csrf_token": csrf_token(case_page)})
    assert response.status_code == 403
    assert list_letters(db, cast["officer"], referred) == [letter]


def test_the_post_page_lists_the_letters_to_set_aside(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    officer = signed_in("officer")
    assert "No letter produced since" in officer.get("/letters/post").get_data(as_text=True)
    helped = NewPerson(given_name="Ron", family_name="Salt", title="Mr", is_applicant=True,
                       is_disabled_occupant=True, format_note="Braille, Grade 2", preferred_contact="advocate",
                       advocate="Priya Wexford-Lunn, Age UK")  # fmt: skip
    reference = open_sample(people=(helped,))
    advance(db, cast["officer"], reference, "accept_referral")
    render(officer)
    page = officer.get("/letters/post").get_data(as_text=True)
    assert f">{reference}</a>" in page
    assert (
        "Arrange: Braille, Grade 2." in page
        and "Grade 2.." not in page
        and "A copy goes to their advocate, Priya Wexford-Lunn, Age UK." in page
    )
    assert reference not in signed_in("lichfield").get("/letters/post").get_data(as_text=True)
