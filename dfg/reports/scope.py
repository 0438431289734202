"""What a report covers: a district, a priority and a period (a financial year or a date range).

Financial years run 1 April to 31 March and are named ``2026-27`` (:func:`dfg.rules.budget.financial_year_label`,
the one name every report, command and page gives them). A user who
belongs to one district reports on that district only; asking for another is refused, as everywhere
else in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select, true

from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.rules.budget import financial_year_label, financial_year_of
from dfg.rules.dates import parse_date
from dfg.rules.rates import long_date
from dfg.store.models import CASES, PRIORITIES, District
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

#: Who may run the managers' reports (the pipeline is open to anyone).
REPORT_ROLES = ("manager", "admin")


def require_report_reader(actor: Actor) -> str:
    """The role the actor runs a manager's report in; :class:`PermissionDenied` for anyone else."""
    return require_role(actor, *REPORT_ROLES)


def district_names(connection: Connection) -> dict[str, str]:
    """Every district's name by its code, in the order of their names (the order reports list them)."""
    return dict(connection.execute(select(District.code, District.name).order_by(District.name)).all())


def district_name(connection: Connection, code: str) -> str:
    """The district's name; :class:`NotFound` for an unknown code."""
    name = connection.scalar(select(District.name).where(District.code == code))
    if name is None:
        raise NotFound(f"no district '{code}' (see 'dfg district list')")
    return str(name)


def parse_financial_year(text: str | int) -> int:
    """The starting year of a financial year written ``2026-27``, ``2026/27``, ``2026/2027`` or ``2026``."""
    raw = str(text).strip().replace("/", "-")
    first, _, second = raw.partition("-")
    if not first.isdigit() or len(first) != 4 or (second and not second.isdigit()):
        raise InvalidInput(f"financial year '{text}' is not like 2026-27")
    start = int(first)
    if second and int(second) not in (start + 1, (start + 1) % 100):
        raise InvalidInput(f"financial year '{text}': {second} does not follow {start}")
    return start


@dataclass(frozen=True)
class ReportScope:
    """The cases a report counts. Dates are inclusive; ``None`` means no limit."""

    district: str | None = None
    district_name: str | None = None
    priority: str | None = None
    start: date | None = None
    end: date | None = None
    #: ``2026-27`` when the period is a financial year.
    financial_year: str | None = None

    def describe(self) -> str:
        """One line for a report's heading: ``Cannock Chase · 2026-27 (1 April 2026 to 31 March 2027)``."""
        parts = [self.district_name or self.district or "All districts"]
        if self.start or self.end:
            span = f"{long_date(self.start) if self.start else 'the start'} to {long_date(self.end) if self.end else 'date'}"
            parts.append(f"{self.financial_year} ({span})" if self.financial_year else span)
        if self.priority:
            parts.append(f"{self.priority.replace('_', '-')} cases only")
        return " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "priority": self.priority,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "financial_year": self.financial_year,
        }

    def cases(self) -> ColumnElement[bool]:
        """The district and priority conditions on the ``cases`` table."""
        conditions: list[ColumnElement[bool]] = []
        if self.district:
            conditions.append(CASES.c.district_code == self.district)
        if self.priority:
            conditions.append(CASES.c.priority == self.priority)
        return and_(true(), *conditions)

    def within(self, column: ColumnElement[date]) -> ColumnElement[bool]:
        """``column`` falls in the period (always true for an open-ended period)."""
        conditions: list[ColumnElement[bool]] = []
        if self.start:
            conditions.append(column >= self.start)
        if self.end:
            conditions.append(column <= self.end)
        return and_(true(), *conditions)

    def covers(self, day: date) -> bool:
        """Whether ``day`` is in the period (the Python twin of :meth:`within`)."""
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) of the period, in order; empty for an open-ended one."""
        if self.start is None or self.end is None:
            return []
        found, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


def report_scope(
    actor: Actor,
    *,
    district: str | None = None,
    known_districts: dict[str, str] | None = None,
    priority: str | None = None,
    financial_year: str | int | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    default_year_of: date | None = None,
    manager_only: bool = True,
) -> ReportScope:
    """Check and settle what a report covers.

    Give a ``financial_year`` or a ``start``/``end`` range (ISO or British dates), not both; with
    neither, ``default_year_of`` picks the financial year containing that day (None: no period).
    ``manager_only`` reports need the manager role (administrators too). A user who belongs to one
    district reports on it only (:class:`PermissionDenied` for another); ``known_districts`` (code to
    name, from :func:`district_names`) names the district in the heading and refuses an unknown one.
    """
    if manager_only:
        require_report_reader(actor)
    if actor.district and district and district != actor.district:
        raise PermissionDenied(f"{actor.username} works for district {actor.district}")
    district = district or actor.district
    if known_districts is not None and district is not None and district not in known_districts:
        raise InvalidInput(f"no district '{district}' (known: {', '.join(sorted(known_districts))})")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(f"priority '{priority}' is not one of: {', '.join(PRIORITIES)}")
    if financial_year is not None and (start is not None or end is not None):
        raise InvalidInput("give a financial year or a date range, not both")
    first = parse_date(start, field="--from") if isinstance(start, str) else start
    last = parse_date(end, field="--to") if isinstance(end, str) else end
    label = None
    if financial_year is None and first is None and last is None and default_year_of is not None:
        financial_year = financial_year_of(default_year_of)
    if financial_year is not None:
        year = parse_financial_year(financial_year)
        first, last, label = date(year, 4, 1), date(year + 1, 3, 31), financial_year_label(year)
    if first and last and last < first:
        raise InvalidInput(f"the period ends ({last:%d/%m/%Y}) before it starts ({first:%d/%m/%Y})")
    name = (known_districts or {}).get(district) if district else None
    return ReportScope(district, name, priority, first, last, label)
