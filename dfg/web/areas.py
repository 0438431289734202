"""The application's areas, one blueprint each, in the order their links appear."""

from __future__ import annotations

from flask import Blueprint

from dfg.web.admin import admin
from dfg.web.assessment import assessment
from dfg.web.auth import auth
from dfg.web.budgets import budgets
from dfg.web.case import case
from dfg.web.checkpoints import checkpoints
from dfg.web.contractors import contractors
from dfg.web.corrections import corrections
from dfg.web.data_protection import data_protection
from dfg.web.household import household
from dfg.web.letters import letters
from dfg.web.means_test import means_test
from dfg.web.money import money
from dfg.web.opening import opening
from dfg.web.payments import payments
from dfg.web.records import records
from dfg.web.reports import reports
from dfg.web.search import search
from dfg.web.sso import sso
from dfg.web.work import work

BLUEPRINTS: tuple[Blueprint, ...] = (
    auth, sso, work, search, opening, case, records, assessment, means_test, money, payments, reports, admin,
    data_protection, checkpoints, corrections, household, letters, contractors, budgets,
)  # fmt: skip
