"""What templates may call: money and dates as people read them (the words the letters use), the
council in the header and the menu for the signed-in user."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import Flask, current_app, g

from dfg.errors import InvalidInput
from dfg.rules.clock import ENGLAND, local_day
from dfg.rules.money import format_pounds
from dfg.rules.rates import long_date
from dfg.web.settings import WebSettings

#: The menu: endpoint, words, and the roles that see it (None: everyone).
MENU: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("work.my_work", "My work", None),
    ("search.find", "Search", None),
    ("opening.open_form", "Open a case", frozenset({"grant_officer"})),
    ("letters.queue", "Letters", frozenset({"grant_officer"})),
    ("reports.index", "Reports", frozenset({"manager"})),
    (
        "contractors.register",
        "Contractors",
        frozenset({"grant_officer", "technical_officer", "manager", "admin"}),
    ),
    ("budgets.show", "Budgets", frozenset({"manager", "admin"})),
    ("admin.users", "Administration", frozenset({"admin"})),
    ("data_protection.index", "Data protection", frozenset({"grant_officer", "manager", "admin"})),
)


def pounds(pence: int | None) -> str:
    return "" if pence is None else format_pounds(pence)


def day_in_words(value: date | datetime | None) -> str:
    """``4 December 2026``; an instant as the day it was in England."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_day(value)
    return long_date(value)


def visit_time(instant: datetime) -> str:
    """``Tuesday 6 July 2027 at 10:30``, on the clock in England."""
    local = instant.astimezone(ENGLAND)
    return f"{local:%A} {long_date(local.date())} at {local:%H:%M}"


#: Codes whose words are not just the code spelt out.
_WORDS = {"ot": "OT", "ot_report": "OT's report", "nhs_number": "NHS number", "large_print": "Large print"}


def label(code: str | None) -> str:
    """``non_urgent`` as ``Non urgent``: a code shown where the engine has no words of its own for it."""
    if not code:
        return ""
    return _WORDS.get(code) or code.replace("_", " ").capitalize()


#: A command-line aside in an engine message: "(see 'dfg district list')", "(--second-approver)".
_COMMAND_ASIDE = re.compile(r"\s*\((?:[^()]*'dfg [^()]*|\s*--[a-z][^()]*)\)")


def sentence(message: str) -> str:
    """An engine message (``no case CAN-2026-0001``) as a sentence on a page, without the asides that
    tell a command-line user which command or option to use."""
    message = _COMMAND_ASIDE.sub("", message).strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message[-1] in ".?!" else message + "."


@cache
def _council_name(district: str) -> str:
    from dfg.letters.context import load_branding

    try:
        return load_branding(district).name
    except InvalidInput:  # a district without a letterhead yet: its code says enough
        return district


def _page_values() -> dict[str, Any]:
    settings: WebSettings = current_app.extensions["dfg.settings"]
    actor = g.get("actor")
    council = (
        _council_name(actor.district) if actor is not None and actor.district else settings.service_owner
    )
    menu = [
        (endpoint, text)
        for endpoint, text, roles in MENU
        if actor is not None
        and endpoint in current_app.view_functions
        and (roles is None or roles & actor.roles)
    ]
    return {"council": council, "navigation": menu}


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        pounds=pounds, long_date=day_in_words, label=label, sentence=sentence, visit_time=visit_time
    )
    app.context_processor(_page_values)
