"""What a letter reads about its step: the case's records as they stood at the step.

**A letter shows what was true at its step.** It reads the records its own event names (the approval
version of ``approve`` or ``vary_works``, the payment of ``pay_interim`` or ``pay_final``, the land charge,
the repayment decision), and otherwise the case's history up to its step (the approval in force when the
works were ordered, the completion extensions granted by then), never simply the latest: a letter
produced late, or reprinted, says what it said, or would have said, on the day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Literal

from sqlalchemy import Row, select

from dfg.letters import context as c
from dfg.rules.clocks import CompletionExtension, clock_policy_for, completion_due, review_window_end
from dfg.services.letter_queue import LetterCase, LetterPerson, LetterStep
from dfg.services.people import in_large_print
from dfg.store.database import Database
from dfg.store.models import APPROVALS, CONTRACTORS, ESTIMATE_DECISIONS, ESTIMATES, EVENTS, USERS
from dfg.store.personal import personal_values
from dfg.workflow.actor import Actor
from dfg.workflow.definition import Definition, definition_for
from dfg.workflow.timeline import COMPLETION_EXTENDED


class NotOnRecord(Exception):
    """The case does not hold something the letter must show: the letter waits, with this reason."""


@dataclass(frozen=True)
class LoggedEvent:
    """An event of a case, as a letter reads the case's history up to its step."""

    seq: int
    kind: str
    trigger: str | None
    actor: str
    role: str | None
    reason: str | None
    payload: Mapping[str, Any]

    def day(self, name: str) -> date | None:
        value = self.payload.get(name)
        return date.fromisoformat(value) if isinstance(value, str) else None


#: An approval version with its contractor's register entry (the letters to the contractor use it).
_APPROVAL = select(
    APPROVALS,
    CONTRACTORS.c.name.label("contractor_name"),
    CONTRACTORS.c.contact_name.label("contractor_contact"),
    CONTRACTORS.c.address.label("contractor_address"),
).outerjoin(CONTRACTORS, CONTRACTORS.c.id == APPROVALS.c.contractor_id)


#: A UK postcode at the end of an address typed on one line: "Cannock WS11 0BD".
@dataclass(frozen=True)
class LetterSource:
    """Everything a letter's context is built from: its step, its case, and the letter's own date (its
    step's date, whenever it is rendered: a letter says what was decided on the day, and dates as such)."""

    db: Database
    actor: Actor
    step: LetterStep
    letter_date: date
    officers: Mapping[str, str]

    @property
    def case(self) -> LetterCase:
        return self.step.case

    @property
    def definition(self) -> Definition:
        return definition_for(self.step.workflow_version)

    def person(self, which: Literal["applicant", "disabled occupant"]) -> LetterPerson:
        found = next(
            (
                p
                for p in self.case.people
                if (p.is_applicant if which == "applicant" else p.is_disabled_occupant)
            ),
            None,
        )
        if found is None:
            raise NotOnRecord(f"no {which} is recorded on the case")
        return found

    def applicant(self) -> c.Recipient:
        """The applicant at the home to be adapted, in large print if their communication needs say so."""
        applicant = self.person("applicant")
        if applicant.postal_address:
            *lines, postcode = applicant.postal_address
        elif self.case.tenure == "landlord":
            # A landlord does not live at the home to be adapted: their letters need their own address.
            raise NotOnRecord(
                "the applicant is the landlord, whose postal address is not recorded on the case "
                "(dfg case postal-address)"
            )
        else:
            lines, postcode = list(self.case.address_lines), self.case.postcode
        return c.Recipient(
            name=applicant.full_name,
            address_lines=tuple(lines),
            postcode=postcode,
            salutation=f"{applicant.title} {applicant.family_name}" if applicant.title else None,
            large_print=in_large_print(applicant),
        )

    def disabled_occupant(self) -> LetterPerson:
        return self.person("disabled occupant")

    @property
    def home(self) -> tuple[str, ...]:
        """The address of the home to be adapted, postcode last."""
        return (*self.case.address_lines, self.case.postcode)

    def full_name(self, username: str) -> str:
        """The full name of a user: who took a step, approved, countersigned or certified."""
        name = self.officers.get(username)
        if name is None:
            with self.db.read_connection() as connection:
                name = connection.scalar(select(USERS.c.full_name).where(USERS.c.username == username))
        if name is None:
            raise NotOnRecord(f"the user {username!r} is not recorded")
        return name

    def job_title(self, role: str | None) -> str:
        return self.definition.roles.get(role or "", role or "")

    def common(
        self, recipient: c.Recipient | None = None, signed_by: LoggedEvent | None = None
    ) -> dict[str, Any]:
        """The fields every letter has; to the applicant unless another ``recipient`` is given, signed by
        the officer who took the step unless the letter is signed for an earlier one (``signed_by``)."""
        actor, role = (signed_by.actor, signed_by.role) if signed_by else (self.step.actor, self.step.role)
        return {
            "recipient": recipient or self.applicant(),
            "branding": c.load_branding(self.case.district),
            "case_reference": self.case.reference,
            "letter_date": self.letter_date,
            "officer": c.Officer(name=self.full_name(actor), job_title=self.job_title(role)),
        }

    def site(self) -> dict[str, Any]:
        """The fields every letter to the contractor about the works has."""
        return {
            # One works order per case, so the case reference numbers it: every letter on it quotes it.
            "order_number": f"WO-{self.case.reference}",
            "applicant_name": self.person("applicant").full_name,
            "site_address": self.home,
        }

    def review_by(self, decided_on: date) -> date:
        """The last day to ask for a review of the decision of ``decided_on``: the same day the workflow
        closes the window on (one computation, :func:`~dfg.rules.clocks.review_window_end`)."""
        return review_window_end(decided_on, clock_policy_for(self.case.district))

    def reason(self, lead: str = "") -> str:
        """Why, in sentences: ``lead``, the label of the step's reason code, and the reason as recorded."""
        trigger = self.definition.triggers.get(self.step.trigger)
        codes = self.definition.reason_codes.get(trigger.reason_codes or "", {}) if trigger else {}
        label = codes.get(self.step.code or "") if self.step.code != "other" else None
        parts = [sentence(p) for p in (lead, label, self.step.reason) if p and p.strip()]
        if not parts:
            raise NotOnRecord(f"no reason is recorded for the {self.step.trigger} step")
        return " ".join(parts)

    # ------------------------------------------------------------------ the case's records at the step

    @cached_property
    def history(self) -> tuple[LoggedEvent, ...]:
        """The case's events up to and including the step, oldest first: what had happened by then."""
        with self.db.read_connection() as connection:
            rows = connection.execute(
                select(
                    EVENTS.c.seq,
                    EVENTS.c.kind,
                    EVENTS.c.trigger,
                    EVENTS.c.actor,
                    EVENTS.c.role,
                    EVENTS.c.reason,
                    EVENTS.c.payload,
                )
                .where(EVENTS.c.case_id == self.case.id, EVENTS.c.seq <= self.step.seq)
                .order_by(EVENTS.c.seq)
            ).all()
            kept = personal_values(connection, [self.case.id])
        return tuple(
            LoggedEvent(
                r.seq,
                r.kind,
                r.trigger,
                r.actor,
                r.role,
                kept.reason(r.reason),
                kept.payload(json.loads(r.payload)),
            )
            for r in rows
        )

    def row(self, query: Any, missing: str) -> Row[Any]:
        with self.db.read_connection() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotOnRecord(missing)
        return row

    def record(self, name: str) -> int:
        """The id of the record (``approval``, ``payment``...) the step's own event names."""
        value = self.step.payload.get(name)
        if not isinstance(value, int):
            raise NotOnRecord(f"the {self.step.trigger} step names no {name.replace('_', ' ')} record")
        return value

    def approval(self) -> Row[Any]:
        """The approval version in force at the step: the one its own event names (``approve``,
        ``vary_works``), or else the one the last of those before it named."""
        named = next(
            (
                e.payload["approval"]
                for e in reversed(self.history)
                if e.kind == "transition" and isinstance(e.payload.get("approval"), int)
            ),
            None,
        )
        if named is None:
            raise NotOnRecord("no approval is recorded on the case before this step")
        return self.row(_APPROVAL.where(APPROVALS.c.id == named), f"approval {named} is not recorded")

    def approval_version(self, version: int) -> Row[Any]:
        """Another version of the case's approval (the one a variation varied)."""
        return self.row(
            _APPROVAL.where(APPROVALS.c.case_id == self.case.id, APPROVALS.c.version == version),
            f"version {version} of the approval is not recorded",
        )

    def first_approval(self, approval: Row[Any]) -> Row[Any]:
        """The approval itself that ``approval`` is, or varies: its date starts the 12 months."""
        if approval.kind == "approval":
            return approval
        return self.row(
            _APPROVAL.where(
                APPROVALS.c.case_id == self.case.id,
                APPROVALS.c.kind == "approval",
                APPROVALS.c.version < approval.version,
            )
            .order_by(APPROVALS.c.version.desc())
            .limit(1),
            f"no approval is recorded before version {approval.version} of it",
        )

    def selection(self, approval: Row[Any]) -> Row[Any] | None:
        """The estimate selected when the approval was given (the latest selection before it), if any."""
        first = self.first_approval(approval)
        approved = next((e.seq for e in self.history if e.payload.get("approval") == first.id), None)
        chosen = [
            e.payload["decision"]
            for e in self.history
            if e.kind == "estimate_selected" and (approved is None or e.seq < approved)
        ]
        if not chosen:
            return None
        return self.row(
            select(
                ESTIMATE_DECISIONS.c.eligible_works_pence,
                ESTIMATE_DECISIONS.c.applicant_pays_pence,
                ESTIMATE_DECISIONS.c.reason,
                ESTIMATES.c.price_pence,
                ESTIMATES.c.received_on,
                ESTIMATES.c.contractor_reference,
                CONTRACTORS.c.name,
            )
            .join(ESTIMATES, ESTIMATES.c.id == ESTIMATE_DECISIONS.c.estimate_id)
            .join(CONTRACTORS, CONTRACTORS.c.id == ESTIMATES.c.contractor_id)
            .where(ESTIMATE_DECISIONS.c.id == chosen[-1]),
            f"estimate selection {chosen[-1]} is not recorded",
        )

    def completion_due(self, approval: Row[Any]) -> date:
        """When the works must be complete by, as it stood at the step: the approval date + 12 months,
        moved by each completion extension recorded before the step."""
        extensions = [
            CompletionExtension(
                reason=e.reason or "", months=e.payload.get("months"), new_date=e.day("new_date")
            )
            for e in self.history
            if e.kind == COMPLETION_EXTENDED and e.seq < self.step.seq
        ]
        return completion_due(self.first_approval(approval).decided_on, extensions)

    def contractor(self, contractor_id: int | None) -> c.Recipient:
        """The contractor as the register has them, to address a letter to; waits if they have no usable
        address there."""
        if contractor_id is None:
            raise NotOnRecord("no contractor is recorded with the approval: the estimate selected names none")
        row = self.row(
            select(CONTRACTORS).where(CONTRACTORS.c.id == contractor_id),
            f"contractor {contractor_id} is not on the register",
        )
        return contractor_recipient(row.name, row.contact_name, row.address)


_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$", re.IGNORECASE)


def contractor_recipient(name: str, contact: str | None, address: str | None) -> c.Recipient:
    """A contractor's envelope: the register keeps the address on one line, postcode last."""
    fix = f'(record it with \'dfg contractor update "{name}" --address "..."\')'
    if not address or not address.strip():
        raise NotOnRecord(f"{name} has no address on the contractor register {fix}")
    parts = [p.strip() for p in re.split(r"[,\n]", address) if p.strip()]
    found = _POSTCODE.search(parts[-1])
    if found is None:
        raise NotOnRecord(
            f"the address of {name} on the contractor register does not end with a postcode {fix}"
        )
    last = parts[-1][: found.start()].strip()
    lines = (*parts[:-1], last) if last else tuple(parts[:-1])
    if not lines or len(lines) > c.MAX_ADDRESS_LINES:
        raise NotOnRecord(
            f"the address of {name} on the contractor register needs 1 to {c.MAX_ADDRESS_LINES} lines before "
            f"the postcode, separated by commas {fix}"
        )
    return c.Recipient(
        name=name,
        address_lines=lines,
        postcode=f"{found[1]} {found[2]}".upper(),
        salutation=contact or None,
    )


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."
