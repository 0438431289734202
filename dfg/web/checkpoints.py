"""Signed checkpoints of the audit trail in the browser (``dfg audit checkpoint`` and ``dfg audit verify
--checkpoint``): take one with the private key, and check the trail against one with the public key.

The keys and the checkpoint are uploaded with the form and read from memory: a private key is used for
the one signature and never written anywhere, so it stays where its keeper holds it."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from dfg.errors import AuditFailure, InvalidInput
from dfg.rules.clock import utcnow
from dfg.services.audit import AuditReport
from dfg.services.checkpoints import sign_checkpoint, verify_against_note
from dfg.web.forms import Errors, Page, refusal_errors
from dfg.web.security import actor, database
from dfg.web.templating import sentence
from dfg.workflow.roles import require_role

checkpoints = Blueprint("checkpoints", __name__, url_prefix="/admin")

CHECKPOINT_ROLES = ("manager", "admin")
#: A key or a checkpoint is a few kilobytes: anything much larger is not one.
_LARGEST_UPLOAD = 4 * 1024 * 1024


def _uploaded_text(name: str, what: str, errors: Errors) -> str | None:
    """The text of the file uploaded as ``name``, or its mistake in ``errors``."""
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        errors.append({"text": f"Choose the file of {what}", "href": f"#{name}"})
        return None
    content = bytes(upload.read(_LARGEST_UPLOAD + 1))
    if len(content) > _LARGEST_UPLOAD:
        errors.append({"text": f"The file chosen is too large to be {what}", "href": f"#{name}"})
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        errors.append({"text": f"The file chosen is not {what}: it is not a text file", "href": f"#{name}"})
        return None


def _page(errors: Errors, report: AuditReport | None = None, refused: str | None = None) -> Page:
    return render_template(
        "checkpoints/index.html", title="Audit checkpoints", errors=errors, checked=report, refused=refused
    ), 422 if errors else 200


@checkpoints.route("/checkpoints")
def index() -> Page:
    require_role(actor(), *CHECKPOINT_ROLES)
    return _page([])


@checkpoints.route("/checkpoints/new", methods=["POST"])
def take() -> Page | Response:
    """Sign a checkpoint of every event with the uploaded private key; it downloads as a new file."""
    me = actor()
    require_role(me, *CHECKPOINT_ROLES)
    errors: Errors = []
    key = _uploaded_text("private_key", "a private key", errors)
    if key is None:
        return _page(errors)
    try:
        taken = sign_checkpoint(database(), me, key)
    except InvalidInput as problem:
        return _page(refusal_errors(problem, default="#private_key"))
    except AuditFailure as broken:  # a broken trail is never vouched for
        return _page([{"text": sentence(broken.message), "href": "#private_key"}])
    response = Response(taken.note, mimetype="text/plain")
    name = f"checkpoint-{utcnow():%Y-%m-%d-%H%M%S}.note"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@checkpoints.route("/checkpoints/verify", methods=["POST"])
def verify() -> Page:
    """Check every chain, and the events against the uploaded checkpoint signed by the uploaded key."""
    me = actor()
    require_role(me, *CHECKPOINT_ROLES)
    errors: Errors = []
    note = _uploaded_text("checkpoint", "a checkpoint", errors)
    key = _uploaded_text("public_key", "a public key", errors)
    if note is None or key is None:
        return _page(errors)
    try:
        report = verify_against_note(database(), me, note, key)
    except InvalidInput as problem:
        return _page(refusal_errors(problem, default="#public_key"))
    except AuditFailure as refused:  # an altered note, or another key's: nothing else was checked
        return _page([], refused=sentence(refused.message))
    return _page([], report)
