"""Audit checkpoints and sign-on mappings in the browser: a checkpoint taken with an uploaded private key
downloads and verifies; an altered one is refused; an administrator maps and unmaps sign-on, each
refusal said on the page and changing nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dfg.services.checkpoints import make_audit_keys
from dfg.services.identity import identities, principal_for
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[bytes, bytes]:
    """A key pair as its keeper holds it: the private and the public key files' bytes."""
    private, public = tmp_path / "audit.key", tmp_path / "audit.pub"
    make_audit_keys(private, public, "staffs-audit")
    return private.read_bytes(), public.read_bytes()


def _upload(client: FlaskClient, url: str, files: dict[str, tuple[bytes, str]]):  # type: ignore[no-untyped-def]
    token = hidden_fields(client.get("/admin/checkpoints").get_data(as_text=True))["csrf_token"]
    data: dict[str, object] = {"csrf_token": token}
    data.update({field: (io.BytesIO(content), name) for field, (content, name) in files.items()})
    return client.post(url, data=data, content_type="multipart/form-data")


def test_a_checkpoint_taken_in_the_browser_downloads_and_verifies(
    signed_in: SignedIn, open_sample: Callable[..., str], keys: tuple[bytes, bytes]
) -> None:
    open_sample()
    private, public = keys
    client = signed_in("admin")
    taken = _upload(client, "/admin/checkpoints/new", {"private_key": (private, "audit.key")})
    assert taken.status_code == 200 and taken.mimetype == "text/plain"
    assert 'attachment; filename="checkpoint-' in taken.headers["Content-Disposition"]
    note = taken.data
    assert note.startswith(b"dfg/") and b"staffs-audit" in note
    checked = _upload(
        client,
        "/admin/checkpoints/verify",
        {"checkpoint": (note, "cp.note"), "public_key": (public, "audit.pub")},
    )
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "Intact" in page and "against the checkpoint of" in page
    # one digit of the note changed: the signature no longer holds, and nothing else is checked
    altered = note.replace(b"\n", b"\n ", 1)
    refused = _upload(
        client,
        "/admin/checkpoints/verify",
        {"checkpoint": (altered, "cp.note"), "public_key": (public, "audit.pub")},
    ).get_data(as_text=True)
    assert "The checkpoint was refused" in refused and "Intact" not in refused


def test_checkpoint_forms_with_mistakes_say_each_beside_its_field(
    signed_in: SignedIn, open_sample: Callable[..., str], keys: tuple[bytes, bytes]
) -> None:
    open_sample()
    public = keys[1]
    client = signed_in("manager")
    response = _upload(client, "/admin/checkpoints/verify", {})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "govuk-error-summary" in page
    assert 'href="#checkpoint"' in page and 'href="#public_key"' in page
    # the public key where the private one belongs: no checkpoint comes of it
    response = _upload(client, "/admin/checkpoints/new", {"private_key": (public, "audit.pub")})
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert 'href="#private_key"' in response.get_data(as_text=True)
    response = _upload(client, "/admin/checkpoints/new", {"private_key": (b"\xff\xfe\x00", "photo.jpg")})
    assert response.status_code == 422 and "it is not a text file" in response.get_data(as_text=True)


def test_checkpoints_are_for_managers_and_administrators(
    signed_in: SignedIn, keys: tuple[bytes, bytes]
) -> None:
    officer = signed_in("officer")
    assert officer.get("/admin/checkpoints").status_code == 403
    token = hidden_fields(officer.get("/search").get_data(as_text=True))["csrf_token"]
    response = officer.post(
        "/admin/checkpoints/new",
        data={"csrf_token": token, "private_key": (io.BytesIO(keys[0]), "audit.key")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403 and response.mimetype == "text/html"


# ---------------------------------------------------------------------- sign-on mappings


def _mapped(db: Database, username: str) -> list[str]:
    return identities(db).get(username, [])


def test_an_administrator_maps_and_unmaps_sign_on(signed_in: SignedIn, db: Database) -> None:
    client = signed_in("admin")
    url = "/admin/users/officer/identities"
    assert "Sign-on for officer" in client.get("/admin/users/officer").get_data(as_text=True)
    before = _mapped(db, "officer")
    response = post_form(client, url, {"kind": "os", "principal": "jsmith"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "jsmith may now act as officer." in page and "<code>jsmith</code>" in page
    subject = "https://login.example.org/tenant/v2.0|abc-123"
    post_form(client, url, {"kind": "oidc", "principal": subject}, follow_redirects=True)
    assert set(_mapped(db, "officer")) == {*before, "os:jsmith", f"oidc:{subject}"}
    response = post_form(
        client, "/admin/users/officer/identities/remove", {"kind": "os", "principal": "jsmith"},
        follow_redirects=True,
    )  # fmt: skip
    assert "jsmith may no longer act as officer." in response.get_data(as_text=True)
    assert set(_mapped(db, "officer")) == {*before, f"oidc:{subject}"}


def test_a_bad_sign_on_says_so_and_maps_nothing(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("admin")
    url = "/admin/users/officer/identities"
    before = _mapped(db, "officer")
    response = post_form(client, url, {"kind": "", "principal": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'href="#kind"' in page and 'href="#principal"' in page
    response = post_form(client, url, {"kind": "oidc", "principal": "not a subject"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "is not a single sign-on subject" in page
    assert 'value="not a subject"' in page  # what was typed stays
    subject = "https://login.example.org/tenant/v2.0|abc-123"
    from dfg.services.identity import map_identity

    map_identity(db, cast["admin"], "manager", principal_for("oidc", subject))
    response = post_form(client, url, {"kind": "oidc", "principal": subject})
    assert response.status_code == 422 and "is already mapped to &#39;manager&#39;" in response.get_data(
        as_text=True
    )
    assert _mapped(db, "officer") == before


def test_sign_on_is_for_administrators_of_the_users_district(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    assert signed_in("manager").get("/admin/users/officer/identities").status_code == 403
    add_user(db, "admin", username="lic.admin", full_name="Lichfield Admin", roles=["admin"], district="LIC")
    lic = signed_in("lic.admin")
    assert lic.get("/admin/users/officer/identities").status_code == 404
    assert (
        post_form(lic, "/admin/users/lichfield/identities", {"kind": "os", "principal": "x"}).status_code
        == 302
    )
    token = hidden_fields(lic.get("/admin/users/lichfield/identities").get_data(as_text=True))["csrf_token"]
    response = lic.post(
        "/admin/users/officer/identities/remove", data={"csrf_token": token, "kind": "os", "principal": "x"}
    )
    assert response.status_code == 404
