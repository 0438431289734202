"""The works on site: extensions of the 12-month completion period, and the completion checks (the
technical officer's inspection, the OT's sign-off, the applicant's satisfaction) that the certified
date waits for. Ordering, starting and finishing the works are workflow steps (``dfg case advance``);
variations are approvals (:mod:`dfg.services.approval`); money is :mod:`dfg.services.payments`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from dfg.errors import InvalidInput
from dfg.rules.calendar import add_calendar_months
from dfg.rules.clock import local_day, utcnow
from dfg.rules.policy import load_works_policy
from dfg.services.case_reading import show_case
from dfg.services.cases import Recorded, case_id_of, check_version, normalise_reference, record_change
from dfg.store.database import Database
from dfg.store.models import EVENTS
from dfg.store.personal import personal_values
from dfg.workflow.actor import Actor
from dfg.workflow.facts import CaseFacts
from dfg.workflow.roles import require_role
from dfg.workflow.timeline import COMPLETION_EXTENDED

#: While the 12-month completion condition runs: approved, and not yet certified.
WORKS_STATES = ("approved", "works_ordered", "on_site", "works_complete")

#: Each completion check and the role that records it.
COMPLETION_CHECKS = {
    "inspection": "technical_officer",
    "ot_sign_off": "ot",
    "applicant_satisfaction": "grant_officer",
}

MAX_EXTENSION_MONTHS = 24


def extend_completion(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    reason: str,
    months: int | None = None,
    new_date: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Recorded:
    """Extend the completion period by whole ``months`` or to a ``new_date`` (role: grant officer or
    technical officer); a reason is required. The clocks read the extension from the event.
    ``expected_version``: the case's version the officer saw (a form's); Conflict if it changed since."""
    role = require_role(actor, "grant_officer", "technical_officer")
    now = now or utcnow()
    if not reason.strip():
        raise InvalidInput("an extension needs its reason (--reason)")
    if (months is None) == (new_date is None):
        raise InvalidInput("give either --months or --to (a new completion date), not both")
    if months is not None and not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise InvalidInput(f"--months must be from 1 to {MAX_EXTENSION_MONTHS}")
    # as far as --months may reach: a date years away (9999-12-31) is a typing slip, and the clocks
    # that count on from it would run off the calendar
    latest = add_calendar_months(local_day(now), MAX_EXTENSION_MONTHS)
    if new_date is not None and new_date > latest:
        raise InvalidInput(
            f"the new completion date must be on or before {latest:%d/%m/%Y} ({MAX_EXTENSION_MONTHS} months from today)"
        )

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        if case.state not in WORKS_STATES:
            raise InvalidInput(
                f"{case.reference} is {case.state.replace('_', ' ')}: the completion period runs from approval "
                "to the certified date"
            )
        approved = case.milestones.get("approval_date")
        if new_date is not None and approved is not None and new_date <= approved:
            raise InvalidInput(f"the new completion date must be after the approval ({approved:%d/%m/%Y})")

    payload: dict[str, object] = {"months": months} if months is not None else {"new_date": new_date}
    return record_change(
        db, actor, reference, role=role, kind=COMPLETION_EXTENDED, check=check, payload=payload,
        reason=reason.strip(), now=now,
    )  # fmt: skip


def record_completion_check(
    db: Database,
    actor: Actor,
    reference: str,
    check: str,
    *,
    passed: bool,
    on: date | None = None,
    notes: str | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Recorded:
    """Record a completion check once the contractor has finished: ``inspection`` (technical officer),
    ``ot_sign_off`` (OT) or ``applicant_satisfaction`` (grant officer). The latest of each counts, so a
    failed inspection is followed by a passed one after the snags are put right. ``expected_version``:
    the case's version the officer saw (a form's); Conflict if it changed since."""
    if check not in COMPLETION_CHECKS:
        raise InvalidInput(f"unknown check '{check}' (one of: {', '.join(COMPLETION_CHECKS)})")
    role = require_role(actor, COMPLETION_CHECKS[check])
    now = now or utcnow()
    day = on or local_day(now)
    if day > local_day(now):
        raise InvalidInput(f"the date {day:%d/%m/%Y} is in the future")
    if not passed and not (notes or "").strip():
        raise InvalidInput("a check that did not pass needs --notes saying what is wrong")

    def in_state(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        if case.state != "works_complete":
            raise InvalidInput(
                f"{case.reference} is {case.state.replace('_', ' ')}: completion checks follow "
                "'complete_works' and come before 'certify'"
            )
        finished = case.milestones.get("works_completed_date")
        if finished is not None and day < finished:
            raise InvalidInput(f"the check is dated before the works were completed ({finished:%d/%m/%Y})")

    return record_change(
        db, actor, reference, role=role, kind="completion_checked", check=in_state,
        payload={"check": check, "passed": passed, "on": day, "notes": (notes or "").strip() or None}, now=now,
    )  # fmt: skip


@dataclass(frozen=True)
class CompletionCheck:
    """One completion check on a case: who records it, whether the district asks for it before the
    certified date, and the latest recorded (None: not yet)."""

    check: str
    role: str
    required: bool
    passed: bool | None
    on: date | None
    notes: str | None
    recorded_by: str | None


def completion_checks(db: Database, actor: Actor, reference: str) -> tuple[CompletionCheck, ...]:
    """Each completion check in the order they are made, with the latest recorded of each (the one that
    counts), and whether the district's works policy asks for it (the inspection always)."""
    reference = normalise_reference(reference)
    case = show_case(db, actor, reference)  # NotFound, district check
    policy = load_works_policy(case.district)
    required = {
        "inspection": True,
        "ot_sign_off": policy.ot_sign_off,
        "applicant_satisfaction": policy.applicant_satisfaction,
    }
    latest: dict[str, tuple[dict[str, Any], str]] = {}
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        kept = personal_values(connection, [case_id])  # the notes are sealed out of the hash chain
        for payload, by in connection.execute(
            select(EVENTS.c.payload, EVENTS.c.actor)
            .where(EVENTS.c.case_id == case_id, EVENTS.c.kind == "completion_checked")
            .order_by(EVENTS.c.seq)
        ):
            said = kept.payload(json.loads(payload))
            latest[said["check"]] = (said, by)
    found = []
    for check, role in COMPLETION_CHECKS.items():
        said, by = latest.get(check, ({}, None))
        found.append(
            CompletionCheck(
                check=check,
                role=role,
                required=required[check],
                passed=bool(said["passed"]) if said else None,
                on=date.fromisoformat(said["on"]) if said.get("on") else None,
                notes=said.get("notes"),
                recorded_by=by,
            )
        )
    return tuple(found)
