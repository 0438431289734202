"""Data protection in the browser: files due for disposal and their disposal, the subject access export
as a download, and who has read a case; each for the roles its service allows, a refusal changing nothing."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader

from dfg.rules.clock import utcnow
from dfg.services.access import access_record
from dfg.services.cases import advance
from dfg.services.identity import user_actor
from dfg.services.retention import authorise_disposal, files_due
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Seven years on, when a file closed today is due for disposal (the retention service's clock)."""
    when = utcnow() + timedelta(days=366 * 7)
    monkeypatch.setattr("dfg.services.retention.utcnow", lambda: when)
    return when


@pytest.fixture
def closed(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    advance(db, cast["officer"], reference, "cancel", TriggerInput(code="died", reason="Died in hospital"))
    return reference


# ---------------------------------------------------------------------- retention


def test_a_manager_authorises_and_an_administrator_disposes_after_confirming(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], closed: str, later: datetime
) -> None:
    manager = signed_in("manager")
    page = manager.get("/admin/retention").get_data(as_text=True)
    assert closed in page and "Authorise the disposal of the files chosen" in page
    response = post_form(manager, "/admin/retention", {"references": closed}, follow_redirects=True)
    assert f"Disposal authorised: {closed}" in response.get_data(as_text=True)
    [due] = files_due(db, cast["manager"], today=later.date())
    assert due.authorised_by == "manager"

    admin = signed_in("admin")
    assert "Dispose of the authorised files" in admin.get("/admin/retention").get_data(as_text=True)
    confirm = admin.get("/admin/retention/dispose").get_data(as_text=True)
    assert closed in confirm and "It cannot be undone" in confirm
    response = post_form(admin, "/admin/retention/dispose", {"confirm": "yes"}, follow_redirects=True)
    assert f"1 file disposed of: {closed}." in response.get_data(as_text=True)
    assert files_due(db, cast["manager"], today=later.date()) == []


def test_disposal_unconfirmed_or_of_a_changed_list_disposes_of_nothing(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], closed: str, later: datetime,
    open_sample: Callable[..., str],
) -> None:  # fmt: skip
    authorise_disposal(db, cast["manager"], [closed], now=later)
    admin = signed_in("admin")
    response = post_form(admin, "/admin/retention/dispose", {})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "govuk-error-summary" in page
    assert "Confirm that these files are to be disposed of, for good" in page
    # another file authorised after the page was shown: the list confirmed is no longer the list
    fields = hidden_fields(admin.get("/admin/retention/dispose").get_data(as_text=True))
    second = open_sample()
    advance(db, cast["officer"], second, "cancel", TriggerInput(code="died", reason="Died"))
    authorise_disposal(db, cast["manager"], [second], now=later)
    response = admin.post(
        "/admin/retention/dispose", data={**fields, "references": [closed], "confirm": "yes"}
    )
    assert response.status_code == 422 and "have changed since the page was shown" in response.get_data(
        as_text=True
    )
    assert {f.reference for f in files_due(db, cast["manager"], today=later.date())} == {closed, second}


def test_authorising_nothing_or_a_file_not_due_says_so_and_records_nothing(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], closed: str, open_sample: Callable[..., str],
    later: datetime,
) -> None:  # fmt: skip
    manager = signed_in("manager")
    response = post_form(manager, "/admin/retention", {})
    assert response.status_code == 422 and "Choose the files to authorise for disposal" in response.get_data(
        as_text=True
    )
    still_open = open_sample()
    response = post_form(manager, "/admin/retention", {"references": [closed, still_open]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f"{still_open} is not a closed file due for disposal." in page
    assert "dfg retention" not in page  # the command's aside is not for a page
    assert files_due(db, cast["manager"], today=later.date())[0].authorised_by is None


def test_retention_is_for_managers_and_administrators_and_disposal_for_administrators(
    signed_in: SignedIn, closed: str, later: datetime
) -> None:
    officer = signed_in("officer")
    assert officer.get("/admin/retention").status_code == 403
    manager = signed_in("manager")
    assert manager.get("/admin/retention/dispose").status_code == 403
    assert post_form(manager, "/admin/retention/dispose", {"confirm": "yes"}).status_code == 403
    admin = signed_in("admin")
    assert post_form(admin, "/admin/retention", {"references": closed}).status_code == 403  # a manager's act


def test_the_same_person_cannot_authorise_and_dispose_in_the_browser_either(
    app: object, signed_in: SignedIn, db: Database, closed: str, later: datetime
) -> None:
    add_user(db, "admin", username="both", full_name="Both Hats", roles=["manager", "admin"])
    authorise_disposal(db, user_actor(db, "both"), [closed], now=later)
    both = signed_in("both")
    response = post_form(both, "/admin/retention/dispose", {"confirm": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "another person must dispose of it" in page
    assert files_due(db, user_actor(db, "both"), today=later.date())[0].reference == closed


# ---------------------------------------------------------------------- subject access


def test_the_subject_access_export_downloads_as_one_file(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    page = client.get(f"/admin/subject-access?reference={reference.lower()}").get_data(as_text=True)
    assert "Mrs Margaret Holt" in page and "Download the export" in page
    response = post_form(
        client, f"/admin/subject-access?reference={reference}", {"reference": reference, "person": "1"}
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f'filename="{reference}-subject-access.zip"' in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    stem = f"{reference}-subject-access"
    data = json.loads(archive.read(f"{stem}.json"))
    assert data["subject"] == "Mrs Margaret Holt" and data["produced_by"] == "officer"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read(f"{stem}.pdf"))).pages)
    assert "Information held about Mrs Margaret Holt" in text
    # the page showed the case's people (a read of the case), then the export was made
    assert [e.view for e in access_record(db, cast["manager"], reference)][:2] == ["subject_access", "case"]


def test_a_subject_access_request_with_mistakes_says_so_and_exports_nothing(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    elsewhere = open_sample("LIC", by="lichfield")
    client = signed_in("officer")
    response = post_form(client, "/admin/subject-access", {"reference": reference, "person": "7"})
    assert response.status_code == 422 and "Choose whose information to export" in response.get_data(
        as_text=True
    )
    response = post_form(client, "/admin/subject-access", {"reference": "", "person": "1"})
    assert response.status_code == 422 and "Enter a case reference" in response.get_data(as_text=True)
    # another district's case reads as one that does not exist
    unseen = client.get(f"/admin/subject-access?reference={elsewhere}")
    missing = client.get("/admin/subject-access?reference=CAN-2026-9999")
    assert unseen.status_code == missing.status_code == 404
    assert f"No case {elsewhere}." in unseen.get_data(as_text=True) and "Lichfield" not in unseen.get_data(
        as_text=True
    )
    assert "subject_access" not in [e.view for e in access_record(db, cast["manager"], reference)]


def test_subject_access_is_for_officers_and_managers(
    signed_in: SignedIn, open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for who in ("admin", "ot", "approver"):
        assert signed_in(who).get(f"/admin/subject-access?reference={reference}").status_code == 403, who
    assert signed_in("manager").get(f"/admin/subject-access?reference={reference}").status_code == 200


# ---------------------------------------------------------------------- the access record


def test_the_access_record_shows_who_read_a_case_and_how(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    officer = signed_in("officer")
    officer.get(f"/cases/{reference}")
    officer.get("/search?q=Holt")  # a search that lists the case is a read of it too
    page = signed_in("manager").get(f"/admin/access-record?reference={reference}").get_data(as_text=True)
    assert (
        "Officer (officer)" in page
        and "The case&#39;s details (its page)" in page
        and "Search results" in page
    )
    assert [e.view for e in access_record(db, cast["manager"], reference)][:2] == ["search", "case"]


def test_the_access_record_is_for_managers_and_administrators_of_the_district(
    signed_in: SignedIn, db: Database, open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    assert signed_in("officer").get(f"/admin/access-record?reference={reference}").status_code == 403
    assert signed_in("admin").get(f"/admin/access-record?reference={reference}").status_code == 200
    add_user(
        db, "admin", username="lic.manager", full_name="Lichfield Manager", roles=["manager"], district="LIC"
    )
    response = signed_in("lic.manager").get(f"/admin/access-record?reference={reference}")
    assert response.status_code == 404 and f"No case {reference}." in response.get_data(as_text=True)


def test_a_mistyped_reference_on_the_access_record_is_said_beside_it(signed_in: SignedIn) -> None:
    response = signed_in("manager").get("/admin/access-record?reference=not+a+case")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "govuk-error-summary" in page and 'href="#reference"' in page
    assert 'value="not a case"' in page  # what was typed stays


def test_the_data_protection_page_lists_what_each_role_may_use(signed_in: SignedIn) -> None:
    officer = signed_in("officer").get("/admin/data-protection").get_data(as_text=True)
    assert "Subject access request" in officer and "Files due for disposal" not in officer
    admin = signed_in("admin").get("/admin/data-protection").get_data(as_text=True)
    assert (
        "Files due for disposal" in admin and "Who has read a case" in admin and "Subject access" not in admin
    )
    assert signed_in("ot").get("/admin/data-protection").status_code == 403


def test_the_case_page_links_its_data_protection_pages_for_those_who_may_use_them(
    signed_in: SignedIn, open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    officer = signed_in("officer").get(f"/cases/{reference}").get_data(as_text=True)
    assert (
        f"/admin/subject-access?reference={reference}" in officer and "Who has read this case" not in officer
    )
    manager = signed_in("manager").get(f"/cases/{reference}").get_data(as_text=True)
    assert f"/admin/access-record?reference={reference}" in manager and "Subject access export" in manager
