"""The application's areas, one blueprint each, in the order their links appear."""

from __future__ import annotations

from flask import Blueprint

from dfg.web.auth import auth
from dfg.web.case import case
from dfg.web.reports import reports
from dfg.web.search import search
from dfg.web.work import work

BLUEPRINTS: tuple[Blueprint, ...] = (auth, work, search, case, reports)
