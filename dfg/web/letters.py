"""The letters pages: the queue of letters waiting to be rendered and rendering them (``dfg letters
render``), the post room's merged PDF (``dfg letters print``), and reprinting a copy (``dfg letters
reprint``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import Conflict, InvalidInput, NotFound, OutsideDistrict, PermissionDenied
from dfg.rules.clock import local_day, utcnow
from dfg.services.letter_batch import pending_letters, render_pending
from dfg.services.letter_queue import may_produce, require_producer
from dfg.services.letter_register import letter_record, reprint
from dfg.services.post_room import batch_arrangements, print_batch
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.security import actor, database
from dfg.web.templating import sentence

letters = Blueprint("letters", __name__, url_prefix="/letters")

#: How many letters one press of the button renders: each takes a few hundred milliseconds, and a page
#: must answer before a person gives up (or a proxy times out); the rest wait for the next press.
RENDER_AT_ONCE = 20

#: The post page lists the letters of the last fortnight that need more than printing and posting.
ARRANGEMENTS_DAYS = 14


@letters.app_context_processor
def _letter_values() -> dict[str, Any]:
    # The case page offers a reprint beside each letter only to those who may produce letters.
    signed_in = g.get("actor")
    return {"may_produce_letters": signed_in is not None and may_produce(signed_in)}


@letters.route("", methods=["GET", "POST"])
def queue() -> tuple[str, int]:
    db, me = database(), actor()
    errors: list[dict[str, str]] = []
    report = None
    status = 200
    if request.method == "POST":
        try:
            # One process: a web worker does not start a pool of its own for a batch this small.
            report = render_pending(db, me, workers=1, limit=RENDER_AT_ONCE)
        except (PermissionDenied, Conflict) as refusal:
            errors.append({"text": sentence(refusal.message), "href": "#main-form"})
            status = refusal.http_status
        else:
            flash(_rendered_words(len(report.produced), report.left), "done")
    waiting = pending_letters(db, me)
    return render_template(
        "letters/queue.html",
        title="Letters",
        pending=waiting,
        ready=sum(1 for p in waiting if p.reason is None),
        report=report,
        errors=errors,
        at_once=RENDER_AT_ONCE,
    ), status


def _rendered_words(produced: int, left: int) -> str:
    done = f"{produced} letter{'' if produced == 1 else 's'} rendered."
    if left:
        done += f" {left} more {'is' if left == 1 else 'are'} ready: render them next."
    return done


@letters.route("/post")
def post() -> Response | tuple[str, int]:
    db, me = database(), actor()
    values = request.args
    errors: list[dict[str, str]] = []
    if any(f"since-{part}" in values for part in ("day", "month", "year")):
        try:
            since = date_from_form(values, "since", "the first day to print", required=True)
        except DateProblem as problem:
            errors.append({"text": str(problem), "href": "#since-day"})
        else:
            assert since is not None, "a required date is never empty"
            try:
                pdf = print_batch(db, me, since)
            except NotFound as nothing:
                errors.append({"text": sentence(nothing.message), "href": "#since-day"})
            else:
                response = Response(pdf, mimetype="application/pdf")
                response.headers["Content-Disposition"] = f'attachment; filename="post-{since:%Y-%m-%d}.pdf"'
                return response
    else:
        require_producer(me)
    recent = local_day(utcnow()) - timedelta(days=ARRANGEMENTS_DAYS - 1)
    return render_template(
        "letters/post.html",
        title="Print letters for the post",
        errors=errors,
        values=values,
        arrangements=batch_arrangements(db, me, recent),
        arrangements_since=recent,
    ), 422 if errors else 200


@letters.route("/<int:letter_id>/reprint", methods=["POST"], endpoint="reprint")
def reprint_letter(letter_id: int) -> WerkzeugResponse:
    db, me = database(), actor()
    # where to go back to, and NotFound before anything is done
    try:
        reference = letter_record(db, me, letter_id).reference
    except OutsideDistrict:
        # another district's letter is as if there were none: the page must not name its case
        raise NotFound(f"no letter {letter_id}") from None
    try:
        copy = reprint(db, me, letter_id)
    except (InvalidInput, Conflict) as refusal:
        flash(sentence(refusal.message), "problem")
    else:
        flash(f"{copy.title}: a copy is made, letter {copy.id}, marked COPY on every page.", "done")
    return redirect(url_for("case.show", reference=reference, _anchor="letters"))
