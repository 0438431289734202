"""Adding a person to a case and removing one in the browser: linked from the case's people, every
mistake said at once beside its box, nothing written on a mistake, the input kept, the version checked,
and the history saying who, by whom and why."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]
PETER = {"role": "relevant_person", "title": "Mr", "given_name": "Peter", "family_name": "Holt",
         "date_of_birth-day": "3", "date_of_birth-month": "2", "date_of_birth-year": "1948",
         "relationship_to_applicant": "husband", "reason": "left off the referral"}  # fmt: skip


def test_a_person_added_then_removed_from_the_case_page(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    case_page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert f'href="/cases/{reference}/people/new"' in case_page
    assert f'href="/cases/{reference}/people/1/remove"' not in case_page  # never the applicant
    page = post_form(client, f"/cases/{reference}/people/new", PETER, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Mr Peter Holt added to the case." in page and "a new test of resources is needed" in page
    assert f'href="/cases/{reference}/people/2/remove"' in page
    person = show_case(db, cast["officer"], reference).people[1]
    assert (person["name"], person["roles"], person["relationship_to_applicant"]) == (
        "Mr Peter Holt", ["relevant_person"], "husband",
    )  # fmt: skip
    last = history(db, cast["officer"], reference)[-1]
    assert (last.kind, last.actor, last.reason) == ("person_added", "officer", "left off the referral")

    url = f"/cases/{reference}/people/2/remove"
    assert "Remove Mr Peter Holt from the case" in client.get(url).get_data(as_text=True)
    page = post_form(client, url, {"reason": "moved out"}, follow_redirects=True).get_data(as_text=True)
    assert "Mr Peter Holt removed from the case." in page
    assert [p["name"] for p in show_case(db, cast["officer"], reference).people] == ["Mrs Margaret Holt"]
    assert "removed Mr Peter Holt (relevant person)" in page  # the case's history, on its page
    assert "added Mr Peter Holt (relevant person)" in page
    assert client.get(f"/cases/{reference}/people/2/remove").status_code == 404


def test_every_mistake_at_once_beside_its_box_and_nothing_written(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    before = show_case(db, cast["officer"], reference)
    client = signed_in("officer")
    response = post_form(client, f"/cases/{reference}/people/new", {
        "given_name": "", "family_name": "x" * 100, "date_of_birth-day": "31", "date_of_birth-month": "2",
        "date_of_birth-year": "1950", "relationship_to_applicant": "lodger at number 12", "reason": " ",
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = page[page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))]
    hrefs = re.findall(r'<a href="#([^"]+)">', summary)
    assert hrefs == ["role", "given_name", "family_name", "date_of_birth-day", "reason"]
    assert "given_name" not in re.sub(r'(href|id|name|for)="[^"]*"', "", summary)  # plain words only
    assert 'value="lodger at number 12"' in page  # the input survives
    assert show_case(db, cast["officer"], reference) == before

    # the applicant cannot be removed; a case changed meanwhile is a conflict
    refused = post_form(client, f"/cases/{reference}/people/1/remove", {"reason": "x"}).get_data(as_text=True)
    assert "is the applicant and cannot be removed" in refused
    form = hidden_fields(client.get(f"/cases/{reference}/people/new").get_data(as_text=True))
    post_form(client, f"/cases/{reference}/people/new", PETER)
    stale = client.post(f"/cases/{reference}/people/new", data={**form, **PETER})
    assert stale.status_code == 422 and "someone else changed" in stale.get_data(as_text=True).lower()
    assert len(show_case(db, cast["officer"], reference).people) == 2


def test_outside_the_district_is_not_found_and_others_only_read(
    signed_in: SignedIn, open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    assert signed_in("lichfield").get(f"/cases/{reference}/people/new").status_code == 404
    manager = signed_in("manager")
    assert "Only a grant officer" in manager.get(f"/cases/{reference}/people/new").get_data(as_text=True)
    assert "Add a person" not in manager.get(f"/cases/{reference}").get_data(as_text=True)
