"""The pipeline: open cases by stage and district, counted in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select

from dfg.errors import PermissionDenied
from dfg.rules.money import format_pounds
from dfg.store.database import Database
from dfg.store.models import Case, District
from dfg.workflow.actor import Actor
from dfg.workflow.definition import current_definition

STAGE_NAMES = {
    0: "0 first contact",
    1: "1 to assessment",
    2: "2 to application",
    3: "3 to approval",
    4: "4 to completion",
}


@dataclass(frozen=True)
class PipelineRow:
    district: str
    district_name: str
    by_stage: dict[int, int]
    urgent: int
    on_hold: int
    approved_grant_pence: int

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


@dataclass(frozen=True)
class Pipeline:
    rows: tuple[PipelineRow, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "districts": [
                {
                    "district": r.district,
                    "name": r.district_name,
                    "by_stage": {str(k): v for k, v in r.by_stage.items()},
                    "open": r.total,
                    "urgent": r.urgent,
                    "on_hold": r.on_hold,
                    "approved_grant_pence": r.approved_grant_pence,
                }
                for r in self.rows
            ],
            "totals": {
                "by_stage": {str(s): sum(r.by_stage[s] for r in self.rows) for s in STAGE_NAMES},
                "open": sum(r.total for r in self.rows),
                "urgent": sum(r.urgent for r in self.rows),
                "on_hold": sum(r.on_hold for r in self.rows),
                "approved_grant_pence": sum(r.approved_grant_pence for r in self.rows),
            },
        }

    def as_text(self) -> str:
        headers = [
            "district",
            *(f"stage {s}" for s in STAGE_NAMES),
            "open",
            "urgent",
            "on hold",
            "approved, open",
        ]
        body = [
            [
                r.district_name,
                *(str(r.by_stage[s]) for s in STAGE_NAMES),
                str(r.total),
                str(r.urgent),
                str(r.on_hold),
                format_pounds(r.approved_grant_pence, whole=True),
            ]
            for r in self.rows
        ]
        totals = self.as_dict()["totals"]
        body.append(
            [
                "All districts",
                *(str(totals["by_stage"][str(s)]) for s in STAGE_NAMES),
                str(totals["open"]),
                str(totals["urgent"]),
                str(totals["on_hold"]),
                format_pounds(totals["approved_grant_pence"], whole=True),
            ]
        )
        widths = [max(len(row[i]) for row in [headers, *body]) for i in range(len(headers))]
        lines = ["Open cases by stage (national delivery guidance stages)"]
        for number, row in enumerate([headers, *body]):
            if number == len(body):
                lines.append("  ".join("-" * w for w in widths))
            cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
            lines.append("  ".join(cells))
            if number == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def pipeline(db: Database, actor: Actor, *, district: str | None = None) -> Pipeline:
    """Open cases per district and stage, with urgent cases, holds and the approved grant still open."""
    if actor.district and district and district != actor.district:
        raise PermissionDenied(f"{actor.username} works for district {actor.district}")
    district = district or actor.district
    definition = current_definition()
    stage_of = {s.name: s.stage for s in definition.states.values() if s.stage is not None}
    stage = when(*((Case.state == name, number) for name, number in stage_of.items()), else_=None)
    columns = [
        *(func.sum(when((stage == s, 1), else_=0)).label(f"stage_{s}") for s in STAGE_NAMES),
        func.sum(when((Case.priority == "urgent", 1), else_=0)).label("urgent"),
        func.sum(when((Case.hold_since.is_not(None), 1), else_=0)).label("on_hold"),
        func.coalesce(func.sum(Case.approved_grant_pence), 0).label("approved"),
    ]
    query = (
        select(District.code, District.name, *columns)
        .outerjoin(Case, (Case.district_code == District.code) & Case.state.in_(list(stage_of)))
        .group_by(District.code, District.name)
        .order_by(District.name)
    )
    if district:
        query = query.where(District.code == district)
    with db.reading() as session:
        rows = tuple(
            PipelineRow(
                r.code,
                r.name,
                {s: int(getattr(r, f"stage_{s}") or 0) for s in STAGE_NAMES},
                int(r.urgent or 0),
                int(r.on_hold or 0),
                int(r.approved or 0),
            )
            for r in session.execute(query)
        )
    return Pipeline(rows)
