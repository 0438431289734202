"""Every trigger is refused for every role the definition does not name, and for other districts.

The matrix is generated from the definition, so a new trigger or role is covered without a new test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from dfg.errors import PermissionDenied
from dfg.rules.clock import local_day, utcnow
from dfg.services.case_reading import CaseFilter, list_cases, show_case
from dfg.services.cases import advance
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.store.models import Case, Event
from dfg.workflow.actor import Actor
from dfg.workflow.definition import PREVIOUS, current_definition
from dfg.workflow.guards import TriggerInput
from tests.conftest import CAST

DEFINITION = current_definition()
USER_FOR_ROLE = {
    "admin": "admin",
    **{roles[0]: name for name, (roles, district, _) in CAST.items() if district != "LIC"},
}


def _put_in_state(db: Database, reference: str, state: str) -> None:
    with db.writing() as session:
        session.execute(update(Case).where(Case.reference == reference).values(state=state))


def _snapshot(db: Database, reference: str) -> tuple[str, int, int]:
    with db.reading() as session:
        state, version = session.execute(
            select(Case.state, Case.version).where(Case.reference == reference)
        ).one()
        events = session.scalar(select(func.count()).select_from(Event).where(Event.stream == reference))
        return state, version, int(events or 0)


def _full_input(trigger_name: str) -> TriggerInput:
    """Input that satisfies every input rule, so the only obstacle left is the role."""
    trigger = DEFINITION.triggers[trigger_name]
    codes = DEFINITION.reason_codes.get(trigger.reason_codes or "", {})
    return TriggerInput(
        reason="because",
        code=next(iter(codes)) if codes else None,
        review_date=local_day(utcnow()) + timedelta(days=7) if trigger.review_date else None,
    )


@pytest.mark.parametrize("trigger_name", list(DEFINITION.triggers))
def test_trigger_refused_for_every_other_role(
    trigger_name: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    trigger = DEFINITION.triggers[trigger_name]
    reference = open_sample()
    _put_in_state(db, reference, trigger.sources[0])
    before = _snapshot(db, reference)
    refused = [role for role in DEFINITION.roles if role not in trigger.roles]
    assert refused, f"{trigger_name} is open to every role"
    for role in refused:
        with pytest.raises(PermissionDenied, match=f"cannot {trigger_name}: needs the role"):
            advance(db, cast[USER_FOR_ROLE[role]], reference, trigger_name, _full_input(trigger_name))
        assert _snapshot(db, reference) == before, f"{role} changed the case"


@pytest.mark.parametrize(
    "trigger_name", [t for t, tr in DEFINITION.triggers.items() if "grant_officer" in tr.roles]
)
def test_trigger_refused_in_another_district(
    trigger_name: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    _put_in_state(db, reference, DEFINITION.triggers[trigger_name].sources[0])
    before = _snapshot(db, reference)
    with pytest.raises(PermissionDenied, match="lichfield works for district LIC; CAN-"):
        advance(db, cast["lichfield"], reference, trigger_name, _full_input(trigger_name))
    assert _snapshot(db, reference) == before


def test_reading_is_limited_to_the_users_district(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    open_sample("LIC", by="lichfield")
    with pytest.raises(PermissionDenied):
        show_case(db, cast["lichfield"], reference)
    assert [c.district for c in list_cases(db, cast["lichfield"], CaseFilter())] == ["LIC"]
    assert sorted(c.district for c in list_cases(db, cast["manager"], CaseFilter())) == ["CAN", "LIC"]
    with pytest.raises(PermissionDenied):
        list_cases(db, cast["lichfield"], CaseFilter(district="CAN"))


def test_every_case_working_role_fires_something() -> None:
    named = {role for trigger in DEFINITION.triggers.values() for role in trigger.roles}
    assert named == set(DEFINITION.roles) - {"admin", "manager"}  # managers read and report
    assert any(t.dest == PREVIOUS for t in DEFINITION.triggers.values())


def test_a_district_admin_adds_users_only_for_their_district(db: Database, cast: dict[str, Actor]) -> None:
    add_user(db, "admin", username="lic.admin", full_name="Lichfield admin", roles=["admin"], district="LIC")
    for district in (None, "CAN"):
        with pytest.raises(PermissionDenied, match=r"lic\.admin administers district LIC only"):
            add_user(
                db, "lic.admin", username="sock", full_name="Sock", roles=["grant_officer"], district=district
            )
    add_user(db, "lic.admin", username="lic.new", full_name="New", roles=["grant_officer"], district="LIC")
