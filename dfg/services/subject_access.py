"""Subject access (UK GDPR Article 15): everything held about one person, as JSON and a readable PDF.

The person is named by a case and their place on it (the applicant unless told); every case the user may
see where the same person appears is included: the same NHS number, or the same name and date of birth.
For each: the case as recorded, the person's own details, the case's history (personal values put back),
the assessments, the documents kept on it, and the letters addressed to them (their PDFs follow the summary in the PDF). Other
people's data can appear in a history's free text: the officer reviews the export before it is sent,
as every subject access response is reviewed.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, or_, select

from dfg.errors import NotFound
from dfg.letters.render import merge_pdfs
from dfg.presentation import day
from dfg.reports.document import ReportDocument, Section
from dfg.rules.clock import local_day, utcnow
from dfg.services.assessment import assessments_of
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.cases import normalise_reference
from dfg.services.documents import document_content, documents_of
from dfg.services.letter_register import letter_pdf, list_letters
from dfg.services.people import full_name, person_roles, postal_lines
from dfg.store.database import Database
from dfg.store.tables import CASES, PEOPLE
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

#: Who may answer a subject access request: the officers who hold the file, and managers.
ANSWERERS = ("grant_officer", "manager")

_PERSON_FIELDS = (
    "title", "given_name", "family_name", "date_of_birth", "nhs_number", "phone", "email",
    "communication_needs", "preferred_contact", "advocate", "format_note", "relationship_to_applicant",
)  # fmt: skip


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@dataclass(frozen=True)
class SubjectAccess:
    """What the engine holds about one person."""

    name: str
    produced_on: date
    produced_by: str
    cases: tuple[dict[str, Any], ...]
    letters: tuple[tuple[str, bytes], ...]  # (title, PDF) of each letter addressed to them
    documents: tuple[tuple[str, bytes], ...] = ()  # (file name, bytes) of each document kept on their cases

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.name,
            "produced_on": self.produced_on.isoformat(),
            "produced_by": self.produced_by,
            "cases": list(self.cases),
        }

    def as_document(self) -> ReportDocument:
        sections = []
        for case in self.cases:
            ref = case["case"]["reference"]
            person = case["person"]
            sections.append(
                Section(
                    f"{ref}: what is recorded about you",
                    ["Item", "Recorded"],
                    [
                        [k.replace("_", " ").capitalize(), _shown(v)]
                        for k, v in person.items()
                        if v not in (None, [])
                    ]
                    + [
                        ["Home to be adapted", ", ".join(case["case"]["address"])],
                        ["State of the case", case["case"]["state_label"]],
                        *(
                            [m.replace("_", " ").capitalize(), day(date.fromisoformat(d))]
                            for m, d in case["case"]["milestones"].items()
                        ),
                    ],
                    wrap=(1,),
                )
            )
            sections.append(
                Section(
                    f"{ref}: the case's history",
                    ["When", "Who", "What", "Why"],
                    [
                        [
                            _when(e),
                            e["actor"],
                            (e["trigger"] or e["kind"]).replace("_", " "),
                            e["reason"] or "",
                        ]
                        for e in case["history"]
                    ],
                    wrap=(3,),
                )
            )
            if case["assessments"]:
                sections.append(
                    Section(
                        f"{ref}: assessments",
                        ["Item", "Recorded"],
                        [
                            [str(k).replace("_", " ").capitalize(), _shown(v)]
                            for a in case["assessments"]
                            for k, v in a.items()
                        ],
                        wrap=(1,),
                    )
                )
            if case["documents"]:
                sections.append(
                    Section(
                        f"{ref}: documents kept on the case",
                        ["Document", "Kind", "Added"],
                        [
                            [d["file_name"], d["kind"].replace("_", " "), _shown(d["added_at"][:10])]
                            for d in case["documents"]
                        ],
                        note="A copy of each is written beside this summary.",
                    )
                )
            sections.append(
                Section(
                    f"{ref}: letters sent to you",
                    ["Letter", "Produced"],
                    [[letter["title"], _shown(letter["created_at"][:10])] for letter in case["letters"]],
                    note="Each letter follows, as it was sent." if case["letters"] else "",
                )
            )
        return ReportDocument(
            f"Information held about {self.name}",
            f"Subject access request · {len(self.cases)} case(s) · produced by {self.produced_by}",
            self.produced_on,
            tuple(sections),
        )

    def as_pdf(self) -> bytes:
        """The summary, then each letter as it was sent."""
        return merge_pdfs([self.as_document().as_pdf(), *(pdf for _, pdf in self.letters)])

    def as_archive(self, stem: str) -> bytes:
        """One ZIP file to download: ``stem.json``, ``stem.pdf`` and a copy of each document, as the command
        writes them into a folder."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}.json", json.dumps(self.as_dict(), indent=2, ensure_ascii=False))
            archive.writestr(f"{stem}.pdf", self.as_pdf())
            for name, content in self.documents:
                # a file name as uploaded: never a path out of the folder it is unpacked into
                archive.writestr(name.replace("/", "_").replace("\\", "_"), content)
        return buffer.getvalue()


def _when(entry: dict[str, Any]) -> str:
    """The day a step took effect (it may be backdated)."""
    effective = entry["payload"].get("effective_date")
    return day(date.fromisoformat(effective if isinstance(effective, str) else entry["occurred_at"][:10]))


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def export_person(
    db: Database, actor: Actor, reference: str, *, person: int | None = None, now: datetime | None = None
) -> SubjectAccess:
    """Everything held about the person at place ``person`` (1 = first listed) on the case, or its applicant."""
    require_role(actor, *ANSWERERS)
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # NotFound, and the district check
    with db.read_connection() as connection:
        people = connection.execute(
            select(PEOPLE)
            .join(CASES, CASES.c.id == PEOPLE.c.case_id)
            .where(CASES.c.reference == reference)
            .order_by(PEOPLE.c.id)
        ).all()
        subject = _chosen(people, person, reference)
        same = or_(
            *([PEOPLE.c.nhs_number == subject.nhs_number] if subject.nhs_number else []),
            (func.lower(PEOPLE.c.given_name) == subject.given_name.lower())
            & (func.lower(PEOPLE.c.family_name) == subject.family_name.lower())
            & (
                PEOPLE.c.date_of_birth == subject.date_of_birth
                if subject.date_of_birth
                else PEOPLE.c.id == subject.id
            ),
        )
        query = (
            select(PEOPLE, CASES.c.reference, CASES.c.district_code)
            .join(CASES, CASES.c.id == PEOPLE.c.case_id)
            .where(same)
        )
        if actor.district is not None:
            query = query.where(CASES.c.district_code == actor.district)
        matches = connection.execute(query.order_by(CASES.c.id)).all()
    cases, letters, kept = [], [], []
    for match in matches:
        found_in = match.reference
        own_letters = [
            record for record in list_letters(db, actor, found_in)
            if record.recipient_role == "applicant" and match.is_applicant
        ]  # fmt: skip
        cases.append(
            {
                "case": show_case(db, actor, found_in).as_dict(),
                "person": {
                    "name": full_name(match),
                    "roles": person_roles(match),
                    **{name: _plain(getattr(match, name)) for name in _PERSON_FIELDS},
                    "postal_address": list(postal_lines(match)) or None,
                },
                "history": [entry.as_dict() for entry in history(db, actor, found_in, view="subject_access")],
                "assessments": [
                    {k: _plain(v) for k, v in a.items()} for a in assessments_of(db, actor, found_in)
                ],
                "documents": [d.as_dict() for d in documents_of(db, actor, found_in)],
                "letters": [
                    {"id": r.id, "title": r.title, "created_at": r.created_at.isoformat(), "sha256": r.sha256}
                    for r in own_letters
                ],
            }
        )
        letters += [(r.title, letter_pdf(db, actor, r.id)) for r in own_letters]
        kept += [
            (f"{found_in}-{d.id}-{d.file_name}", document_content(db, actor, found_in, d.id)[1])
            for d in documents_of(db, actor, found_in)
        ]
    return SubjectAccess(
        full_name(subject),
        local_day(now or utcnow()),
        actor.username,
        tuple(cases),
        tuple(letters),
        tuple(kept),
    )


def _chosen(people: Sequence[Row[Any]], place: int | None, reference: str) -> Row[Any]:
    if place is not None:
        if not 1 <= place <= len(people):
            raise NotFound(f"{reference} has {len(people)} person(s) recorded: --person 1 to {len(people)}")
        return people[place - 1]
    for p in people:
        if p.is_applicant:
            return p
    raise NotFound(f"{reference} has no applicant recorded (its file may have been disposed of)")
