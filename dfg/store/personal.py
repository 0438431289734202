"""Personal data kept out of the hash chain, so that a case's file can be disposed of at the end of its
retention without breaking ``dfg audit verify``.

An event of format 2 (every case event written since this module) carries no personal value in the
fields its hash covers. Each personal value (a name, a date of birth, an address, free text an officer
typed) is *sealed*: the event holds ``{"$sealed": DIGEST}`` in its payload (or ``$sealed:DIGEST`` as
its reason) and the value lives in ``personal_values`` beside a random 128-bit salt, where
``DIGEST = SHA-256("dfg-personal-v1" NUL salt canonical-JSON(value))``. So:

- the chain still proves the value: verification recomputes each stored value's digest, and an edited
  value (or one swapped between events) no longer matches the digest the hashed event holds;
- disposal deletes the values and their salts: the events stay, their hashes still verify, and without
  the salt the digest cannot be matched to a guessed value (a date of birth has few candidates; the
  salt is why it is not simply hashed);
- a value whose row is gone is told apart from tampering by the disposal's tombstone on the ``system``
  stream (see ``dfg.services.retention``).

Which fields are personal is decided here, by their keys, for every payload of a case stream: one list to
review, and a test that opens, advances and closes a case with recognisable personal values and finds
none of them in any hashed field.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from dfg.store.tables import (
    ASSESSMENTS,
    CASES,
    DISPOSALS,
    METADATA,
    PEOPLE,
    PERSONAL_VALUES,
    PROPERTIES,
    RECOMMENDED_WORKS,
)
from dfg.store.text_index import forget_terms

#: The event format whose personal values are sealed. Format 1 events (before it) hold them in the clear.
SEALED_FORMAT = 2
SEALED = "$sealed"
_REASON_PREFIX = f"{SEALED}:"
_DOMAIN = b"dfg-personal-v1\x00"

#: Payload keys (at any depth) whose values are personal: who the people are, where they live, and free
#: text that may say anything about them. Values under these keys are sealed whole.
PERSONAL_KEYS = frozenset(
    {
        "name",  # a person's name (people on a case)
        "date_of_birth",
        "postal_address",
        "address",
        "postcode",
        "priority_reason",
        "notes",
        "reason",
        "works_begun_reason",
        "variation",
        "location",  # where an assessment visit takes place: often the home
        "file_name",  # a document's, as given: often a person's name
        # a correction's fields, each sealed whole (what it was and what it became)
        "title",
        "given_name",
        "family_name",
        "nhs_number",
        "phone",
        "email",
        "address_line_1",
        "address_line_2",
        "town",
        "communication_needs",
        "preferred_contact",
        "advocate",
        "format_note",
    }
)

#: What a reader is shown where a value has been disposed of.
DISPOSED = "(disposed of)"


@dataclass
class Sealed:
    """An event's fields with their personal values replaced by digests, and the values to keep."""

    payload: Any
    reason: str | None
    values: list[dict[str, Any]] = field(default_factory=list)


def digest_of(salt: bytes, canonical_value: str) -> str:
    return hashlib.sha256(_DOMAIN + salt + canonical_value.encode()).hexdigest()


def seal(payload: Mapping[str, Any], reason: str | None, *, case_id: int, encode: Any) -> Sealed:
    """Seal the personal values of one case event. ``encode`` is the chain's canonical JSON encoder, so a
    value is digested in the same text form the event would have held."""
    sealed = Sealed(payload=None, reason=None)

    def keep(value: Any) -> str:
        salt = secrets.token_bytes(16)
        text = encode(value)
        digest = digest_of(salt, text)
        sealed.values.append({"digest": digest, "case_id": case_id, "salt": salt.hex(), "value": text})
        return digest

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: {SEALED: keep(item)} if key in PERSONAL_KEYS and item is not None else walk(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        return value

    sealed.payload = walk(payload)
    sealed.reason = None if reason is None else _REASON_PREFIX + keep(reason)
    return sealed


def _marker(value: Any) -> str | None:
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get(SEALED), str):
        return str(value[SEALED])
    return None


def reason_digest(reason: str | None) -> str | None:
    if reason is not None and reason.startswith(_REASON_PREFIX):
        return reason[len(_REASON_PREFIX) :]
    return None


# A sealed value in a payload's canonical JSON. A string a user typed cannot fake one: its quotes would
# be escaped (\").
_SEALED_IN_TEXT = re.compile(r'\{"\$sealed":"([0-9a-f]{64})"\}')


def digests_in(payload_text: str) -> list[str]:
    """Every digest a stored payload (its canonical JSON) holds."""
    return _SEALED_IN_TEXT.findall(payload_text) if SEALED in payload_text else []


@dataclass(frozen=True)
class PersonalValues:
    """The kept values of some cases' events, by digest, to put back into what a reader is shown."""

    by_digest: Mapping[str, Any]

    def payload(self, payload: Any) -> Any:
        if (digest := _marker(payload)) is not None:
            return self.by_digest.get(digest, DISPOSED)
        if isinstance(payload, Mapping):
            return {key: self.payload(item) for key, item in payload.items()}
        if isinstance(payload, list):
            return [self.payload(item) for item in payload]
        return payload

    def payload_text(self, text: str) -> str:
        """A stored payload's canonical JSON with its values put back (as ``json.dumps`` writes it)."""
        if SEALED not in text:
            return text
        return json.dumps(
            self.payload(json.loads(text)), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def reason(self, reason: str | None) -> str | None:
        digest = reason_digest(reason)
        if digest is None:
            return reason
        value = self.by_digest.get(digest, DISPOSED)
        return value if isinstance(value, str) else DISPOSED


_SELECT_VALUES = select(PERSONAL_VALUES.c.digest, PERSONAL_VALUES.c.value).where(
    PERSONAL_VALUES.c.case_id.in_(bindparam("case_ids", expanding=True))
)


def personal_values(connection: Connection, case_ids: Iterable[int]) -> PersonalValues:
    """The kept values of these cases' events (decoded from their canonical JSON)."""
    ids = sorted(set(case_ids))
    if not ids:
        return PersonalValues({})
    return _decoded(connection.execute(_SELECT_VALUES, {"case_ids": ids}))


_SELECT_BY_DIGEST = select(PERSONAL_VALUES.c.digest, PERSONAL_VALUES.c.value).where(
    PERSONAL_VALUES.c.digest.in_(bindparam("digests", expanding=True))
)


def values_of(connection: Connection, digests: Iterable[str]) -> PersonalValues:
    """The kept values of these digests only (a batch that needs a few reasons, not whole files)."""
    wanted = sorted(set(digests))
    if not wanted:
        return PersonalValues({})
    return _decoded(connection.execute(_SELECT_BY_DIGEST, {"digests": wanted}))


def _decoded(rows: Iterable[Any]) -> PersonalValues:
    return PersonalValues({row.digest: json.loads(row.value) for row in rows})


# What disposal does to the current rows of a case: people go; each column below that may hold personal
# data is overwritten; the rest (dates, states, money, codes) stays for the council's statistics and
# accounts, identifying no one. A new table or column holding personal data must be added here: a test
# opens a full case with recognisable values and finds none of them in the database after disposal.
_ERASED: dict[str, dict[str, Any]] = {
    "cases": {"priority_reason": None},
    "assessments": {"priority_reason": None, "reasons": DISPOSED},
    "feasibility_findings": {"reasons": DISPOSED},
    "determinations": {"household": "{}", "result": "{}", "reason": None},
    "estimates": {"notes": None},
    "estimate_decisions": {"reason": None},
    "approvals": {"works_begun_reason": None, "variation": None},
    "assessment_appointments": {"location": DISPOSED},
    "repayment_decisions": {"reason": DISPOSED},
    "landlord_decisions": {"reason": DISPOSED},
    "budget_entries": {"override_reason": None},
    "letters": {"recipient_name": DISPOSED, "pdf": b""},
    "documents": {"file_name": DISPOSED},  # and their files, once the disposal is committed
}


def erase_case(connection: Connection, case_id: int, *, now: datetime) -> None:
    """Dispose of a case's personal data: its kept values, its people, the address of its home, and
    every column that may say something about them. The events stay, and still verify."""
    connection.execute(insert(DISPOSALS).values(case_id=case_id, disposed_at=now))
    connection.execute(delete(PERSONAL_VALUES).where(PERSONAL_VALUES.c.case_id == case_id))
    connection.execute(delete(PEOPLE).where(PEOPLE.c.case_id == case_id))
    forget_terms(connection, case_id)  # the names, NHS numbers and address it was found by
    for name, values in _ERASED.items():
        table = METADATA.tables[name]
        key = table.c.id if name == "cases" else table.c.case_id
        connection.execute(update(table).where(key == case_id).values(values))
    assessments = select(ASSESSMENTS.c.id).where(ASSESSMENTS.c.case_id == case_id)
    connection.execute(
        update(RECOMMENDED_WORKS)
        .where(RECOMMENDED_WORKS.c.assessment_id.in_(assessments))
        .values(description=None)
    )
    home = connection.execute(
        select(PROPERTIES.c.id, PROPERTIES.c.postcode)
        .join(CASES, CASES.c.property_id == PROPERTIES.c.id)
        .where(CASES.c.id == case_id)
    ).one()
    # The outward part of the postcode stays (it names an area, not a home) so figures by area still add up.
    connection.execute(
        update(PROPERTIES)
        .where(PROPERTIES.c.id == home.id)
        .values(
            address_line_1=DISPOSED,
            address_line_2=None,
            town=DISPOSED,
            uprn=None,
            postcode=outward_code(home.postcode),
        )
    )


def outward_code(postcode: str) -> str:
    """``WS11 1AA`` -> ``WS11``: the area, without the part that narrows it to a few homes."""
    compact = postcode.replace(" ", "").upper()
    return compact[:-3] if len(compact) > 3 else compact
