"""The application's areas, one blueprint each, in the order their links appear."""

from __future__ import annotations

from flask import Blueprint

from dfg.web.admin import admin
from dfg.web.auth import auth
from dfg.web.case import case
from dfg.web.records import records
from dfg.web.search import search
from dfg.web.sso import sso
from dfg.web.work import work

BLUEPRINTS: tuple[Blueprint, ...] = (auth, work, search, case, records, admin, sso)
