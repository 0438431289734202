"""Correcting a person's details and the home's address in the browser: the form starts with what is
recorded, only what changed is corrected, every mistake is said at once beside its field, nothing is
written on a mistake, and a case changed meanwhile is a conflict."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask.testing import FlaskClient

from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.corrections import Correction, correct_details
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]


def _person_form(client: FlaskClient, url: str) -> dict[str, str]:
    """The form as the page fills it: its hidden fields and every box's current value."""
    page = client.get(url).get_data(as_text=True)
    fields = hidden_fields(page)
    for name in ("title", "given_name", "family_name", "nhs_number", "phone", "email"):
        fields[name] = _value_of(page, name)
    for part in ("day", "month", "year"):
        fields[f"date_of_birth-{part}"] = _value_of(page, f"date_of_birth-{part}")
    return fields


def _value_of(page: str, name: str) -> str:
    start = page.index(f'name="{name}"')
    tag = page[page.rindex("<input", 0, start) : page.index(">", start)]
    return tag.split('value="', 1)[1].split('"', 1)[0] if 'value="' in tag else ""


def test_the_form_starts_with_what_is_recorded_and_the_case_page_links_it(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    correct_details(db, cast["officer"], reference, Correction(
        reason="rang", person=1, person_fields={"phone": "01543 123456", "email": "m.holt@example.org",
                                                "nhs_number": "943 476 5919"},
    ))  # fmt: skip
    client = signed_in("officer")
    case_page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert (
        f'href="/cases/{reference}/people/1"' in case_page and f'href="/cases/{reference}/home"' in case_page
    )
    assert "Correct the address" in case_page
    form = _person_form(client, f"/cases/{reference}/people/1")
    assert (form["title"], form["given_name"], form["family_name"]) == ("Mrs", "Margaret", "Holt")
    assert (form["phone"], form["email"], form["nhs_number"]) == (
        "01543 123456",
        "m.holt@example.org",
        "9434765919",
    )
    assert [form[f"date_of_birth-{p}"] for p in ("day", "month", "year")] == ["1", "6", "1950"]
    assert form["version"] == str(show_case(db, cast["officer"], reference).version)
    home = client.get(f"/cases/{reference}/home").get_data(as_text=True)
    assert 'value="WS11 1AA"' in home and "Address line 1" in home
    assert client.get(f"/cases/{reference}/people/9").status_code == 404


def test_a_correction_is_written_and_the_history_says_only_what_changed(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/people/1"
    form = _person_form(client, url)
    form |= {"family_name": "Holt-Quimby", "date_of_birth-day": "2", "phone": "07700 900123",
             "reason": "married name; birth date misread"}  # fmt: skip
    page = client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "Details of Mrs Margaret Holt corrected: family name, date of birth, phone number." in page
    assert 'Correct<span class="govuk-visually-hidden"> the details of (Mrs Margaret Holt-Quimby)' in page
    person = show_case(db, cast["officer"], reference).people[0]
    assert (person["family_name"], person["date_of_birth"], person["phone"]) == (
        "Holt-Quimby", date(1950, 6, 2), "07700 900123",
    )  # fmt: skip
    assert person["given_name"] == "Margaret" and person["title"] == "Mrs"
    last = history(db, cast["officer"], reference)[-1]
    assert last.kind == "details_corrected" and last.reason == "married name; birth date misread"
    assert set(last.as_dict()["payload"]["changed"]) == {"family_name", "date_of_birth", "phone"}

    home = post_form(
        client, f"/cases/{reference}/home",
        {"address_line_1": "12 Mill Lane", "address_line_2": "", "town": "Cannock", "postcode": "ws11 1ab",
         "reason": "typed wrongly at referral"}, follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "Address corrected: postcode." in home
    assert show_case(db, cast["officer"], reference).home["postcode"] == "WS11 1AB"
    assert history(db, cast["officer"], reference)[-1].as_dict()["payload"]["changed"] == {
        "postcode": {"from": "WS11 1AA", "to": "WS11 1AB"}
    }


def test_every_mistake_at_once_beside_its_field_and_nothing_written(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    before = show_case(db, cast["officer"], reference)
    events = len(history(db, cast["officer"], reference))
    client = signed_in("officer")
    url = f"/cases/{reference}/people/1"
    form = _person_form(client, url) | {
        "given_name": "", "family_name": "x" * 10_000, "nhs_number": "123", "email": "not an address",
        "date_of_birth-day": "31", "date_of_birth-month": "2", "reason": " ",
    }  # fmt: skip
    response = client.post(url, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    wanted = [
        ("#given_name", "Enter the given name: it cannot be left empty"),
        ("#family_name", "The family name must be 80 characters or fewer"),
        ("#date_of_birth-day", "The date of birth must be a real date, for example 27 3 2026"),
        ("#nhs_number", "Enter a real NHS number: 10 digits, like 943 476 5919"),
        ("#email", "Enter an e-mail address in the right form, like name@example.com"),
        ("#reason", "Enter the reason for the correction"),
    ]
    summary = page[page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))]
    for href, words in wanted:
        assert f'<a href="{href}">{words}.</a>' in summary, words
        assert page.count(f"{words}.") == 2, words  # in the summary and beside its field
    # each once, in the page's order, and nothing else (never the engine's own words, like 'nhs_number:')
    assert re.findall(r'<a href="#[^"]+">([^<]+)</a>', summary) == [f"{words}." for _, words in wanted]
    assert "--person" not in page and "nhs_number:" not in page
    assert 'value="not an address"' in page and 'value="123"' in page  # the input survives
    assert show_case(db, cast["officer"], reference) == before
    assert len(history(db, cast["officer"], reference)) == events

    home = post_form(client, f"/cases/{reference}/home",
                     {"address_line_1": "", "town": "t" * 61, "postcode": "NOPE", "reason": "r" * 2001})  # fmt: skip
    said = home.get_data(as_text=True)
    for words in ("Enter the first line of the address: it cannot be left empty",
                  "The town must be 60 characters or fewer", "Enter a real postcode, like WS11 1AA",
                  "The reason must be 2,000 characters or fewer"):  # fmt: skip
        assert words in said, words
    assert show_case(db, cast["officer"], reference) == before


def test_nothing_changed_is_said_in_words(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/people/1"
    response = client.post(url, data=_person_form(client, url) | {"reason": "checking"})
    assert response.status_code == 422
    assert "Nothing has changed: change at least one detail before saving" in response.get_data(as_text=True)
    # a new value the record already holds once tidied (a postcode's spacing) is nothing changed too
    home = post_form(client, f"/cases/{reference}/home",
                     {"address_line_1": "12 Mill Lane", "town": "Cannock", "postcode": "ws111aa ", "reason": "x"})  # fmt: skip
    assert "Nothing has changed: the details are already as given" in home.get_data(as_text=True)
    assert history(db, cast["officer"], reference)[-1].kind != "details_corrected"


def test_hostile_text_is_kept_as_text(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/people/1"
    form = _person_form(client, url) | {"given_name": "<script>alert(1)</script>", "family_name": "Zoë Ødegård-☃",
                                        "reason": "<img src=x onerror=alert(1)>"}  # fmt: skip
    page = client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    person = show_case(db, cast["officer"], reference).people[0]
    assert (person["given_name"], person["family_name"]) == ("<script>alert(1)</script>", "Zoë Ødegård-☃")
    # a NUL (which PostgreSQL refuses) or a line break is refused in words, and nothing is written
    hidden = client.post(url, data=_person_form(client, url) | {"phone": "01543\x00 1", "reason": "a\x00"})
    said = hidden.get_data(as_text=True)
    assert hidden.status_code == 422 and "The phone number must not contain hidden characters" in said
    assert "The reason must not contain hidden characters" in said
    assert show_case(db, cast["officer"], reference).people[0]["phone"] is None


def test_a_case_changed_meanwhile_is_a_conflict_and_the_input_is_kept(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/home"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    correct_details(
        db, cast["officer"], reference, Correction(reason="rang", home_fields={"town": "Hednesford"})
    )
    response = client.post(url, data={**fields, "address_line_1": "14 Mill Lane", "town": "Cannock",
                                      "postcode": "WS11 1AA", "reason": "house number"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Someone else changed" in page and 'value="14 Mill Lane"' in page
    assert show_case(db, cast["officer"], reference).home["address_line_1"] == "12 Mill Lane"


def test_another_districts_case_is_not_found_and_others_may_not_correct(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    theirs = open_sample("LIC", by="lichfield")
    client = signed_in("officer")
    assert client.get(f"/cases/{theirs}/people/1").status_code == 404
    assert client.get(f"/cases/{theirs}/home").status_code == 404
    assert client.post(f"/cases/{theirs}/home", data={"town": "x"}).status_code in (400, 404)
    reference = open_sample()
    ot = signed_in("ot")
    page = ot.get(f"/cases/{reference}/home").get_data(as_text=True)
    assert "Only a grant officer can correct the address" in page and "Save the correction" not in page
    assert f'href="/cases/{reference}/people/1"' not in ot.get(f"/cases/{reference}").get_data(as_text=True)


def test_a_post_without_its_csrf_token_is_refused(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    response = client.post(f"/cases/{reference}/home", data={"town": "Rugeley", "reason": "moved"})
    assert response.status_code == 400
    assert show_case(db, cast["officer"], reference).home["town"] == "Cannock"
