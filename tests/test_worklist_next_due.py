"""Each case's next due day (``cases.next_due``), which lets a worklist rebuild only the cases that may
have something within its horizon: worked out by the worklists and the tick, emptied by every event, and
never changing what a worklist shows (tests/test_worklist.py holds what that is). On both databases."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, text, update

from dfg.services.cases import advance
from dfg.services.worklist import NOTHING_DUE, due, tick
from dfg.store.database import Database
from dfg.store.tables import CASES
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.test_worklist import TODAY, noon, scene  # noqa: F401  (scene: the fixture)


def _kept(db: Database) -> dict[str, date | None]:
    with db.read_connection() as connection:
        return {
            r.reference: r.next_due for r in connection.execute(select(CASES.c.reference, CASES.c.next_due))
        }


def _forget(db: Database) -> None:
    with db.write_connection() as connection:
        connection.execute(update(CASES).values(next_due=None))


def _shown(db: Database, actor: Actor, day: date, within: int) -> list[dict[str, object]]:
    return [i.as_dict() for i in due(db, actor, today=day, within_days=within)]


def test_a_worklist_shows_the_same_whether_the_days_are_kept_or_worked_out(
    db: Database,
    cast: dict[str, Actor],
    scene: dict[str, str],  # noqa: F811
) -> None:
    manager = cast["manager"]
    days = [TODAY + timedelta(days=n) for n in range(-60, 120, 9)]
    for within in (0, 14, 90):
        expected = {}
        for day in days:
            _forget(db)  # every case rebuilt
            expected[day] = _shown(db, manager, day, within)
        kept = _kept(db)
        assert None not in kept.values()
        for day in days:  # each read with the days kept on some other day
            assert _shown(db, manager, day, within) == expected[day], (day, within)


def test_the_day_kept_is_the_earliest_anything_can_fall_due(
    db: Database,
    cast: dict[str, Actor],
    scene: dict[str, str],  # noqa: F811
) -> None:
    due(db, cast["manager"], today=TODAY)
    kept = _kept(db)
    assert kept[scene["B"]] == date(2026, 6, 18)  # its stage 3 target (and its decision, 30 Nov, later)
    # C is on hold: its review (28 Dec) or, were it never on hold, its stage 1 target: the earlier
    assert kept[scene["C"]] is not None and kept[scene["C"]] <= date(2026, 12, 28)
    advance(db, cast["lichfield"], scene["L"], "cancel", TriggerInput(code="died", reason="Died"))
    assert _kept(db)[scene["L"]] is None  # the event emptied it
    due(db, cast["manager"], today=TODAY)
    assert _kept(db)[scene["L"]] is None  # a closed case is on no worklist: nobody works it out
    tick(db, cast["manager"], TODAY, now=noon(TODAY))
    assert _kept(db)[scene["L"]] == NOTHING_DUE  # the tick does


def test_a_worklist_rebuilds_only_the_cases_its_horizon_brings_in(
    db: Database,
    cast: dict[str, Actor],
    scene: dict[str, str],  # noqa: F811
) -> None:
    manager = cast["manager"]
    assert scene["B"] in {i.reference for i in due(db, manager, today=TODAY)}
    with db.write_connection() as connection:  # as if nothing on B could fall due until next year
        connection.execute(text("UPDATE cases SET next_due = :day WHERE reference = :ref"),
                           {"day": date(2027, 6, 1), "ref": scene["B"]})  # fmt: skip
    assert scene["B"] not in {i.reference for i in due(db, manager, today=TODAY)}


def test_the_tick_keeps_each_cases_day_at_the_version_its_own_events_made(
    db: Database,
    cast: dict[str, Actor],
    scene: dict[str, str],  # noqa: F811
) -> None:
    manager = cast["manager"]
    expected = _shown(db, manager, TODAY, 14)
    _forget(db)
    result = tick(db, manager, TODAY, now=noon(TODAY))
    assert result.recorded  # the tick appended events to A and B...
    kept = _kept(db)
    assert None not in kept.values()  # ...and still kept their days
    assert _shown(db, manager, TODAY, 14) == expected
