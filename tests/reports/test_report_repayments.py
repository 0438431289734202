"""The land charges and repayments report on the budget report's population (made through the real
services): land charges registered on the way to closure, and decisions on disposals in full, in part
and waived, this year and the year before. The expected figures come from what each case did, and again
from the rows by plain SQL; nothing here reads a figure from the report's own code."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from dfg.errors import InvalidInput, PermissionDenied
from dfg.reports.repayments import DECISIONS as DECISION_LABELS
from dfg.reports.repayments import FACTOR_HEADINGS, Repayments, repayments
from dfg.rules.money import format_pounds
from dfg.rules.rates import REPAYMENT_FACTORS as LAND_CHARGE_FACTORS
from dfg.store.database import Database
from dfg.store.models import REPAYMENT_CHOICES
from tests.conftest import BACKENDS, PostgresDatabases
from tests.reports.test_report_budget import (
    DECISIONS,
    NAMES,
    PAST,
    PREVIOUS,
    PREVIOUS_LABEL,
    REPAYABLE,
    TODAY,
    YEAR,
    Money,
    build,
    make_cast,
)

FACTORS = ("hardship", "health", "care", "employment", "none")


@pytest.fixture(scope="module", params=BACKENDS)
def money(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Money]:
    """The budget report's population, once per backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("repayments") / "repayments.sqlite"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        postgres: PostgresDatabases = request.getfixturevalue("postgres")
        url = postgres.fresh()
    db = Database.open(url)
    cast = make_cast(db)
    yield Money(db, cast, build(db, cast))
    db.dispose()


# ---------------------------------------------------------------------- what the figures should be

#: The land charges by the day they were registered and district: every closed owner's case has one
#: (can_full, can_part, can_kept and lic_waive today; can_past on PAST).
CHARGES = {("CAN", TODAY): 3, ("LIC", TODAY): 1, ("CAN", PAST): 1}


def decided_on(key: str) -> date:
    return PAST if key == "can_past" else TODAY


def expect(first: date | None, last: date | None, district: str | None = None) -> dict[str, dict[str, Any]]:
    """What each district should show for a period, from the cases' own plan (:data:`DECISIONS`)."""
    found: dict[str, dict[str, Any]] = {}
    for code in NAMES:
        if district not in (None, code):
            continue

        def within(day: date) -> bool:
            return (first is None or day >= first) and (last is None or day <= last)

        charges = sum(n for (d, day), n in CHARGES.items() if d == code and within(day))
        tallies = {kind: [0, 0, 0] for kind in ("full", "part", "waive")}
        factors = dict.fromkeys(FACTORS, 0)
        for key, (decision, amount, weighed) in DECISIONS.items():
            if not key.startswith(code.lower()) or not within(decided_on(key)):
                continue
            demanded = {"full": REPAYABLE, "part": amount, "waive": 0}[decision]
            tally = tallies[decision]
            tally[0], tally[1], tally[2] = tally[0] + 1, tally[1] + REPAYABLE, tally[2] + (demanded or 0)
            for factor in weighed:
                factors[factor] += 1
        found[code] = {
            "charges": charges,
            "secured_pence": charges * REPAYABLE,
            "decisions": {
                k: dict(zip(("decisions", "repayable_pence", "demanded_pence"), v, strict=True))
                for k, v in tallies.items()
            },
            "factors": factors,
        }
    return found


def shown(report: Repayments) -> dict[str, dict[str, Any]]:
    return {
        d.district: {
            "charges": d.charges,
            "secured_pence": d.secured_pence,
            "decisions": {k: t.as_dict() for k, t in d.by_decision.items()},
            "factors": dict(d.factors),
        }
        for d in report.districts
    }


def from_sql(db: Database, first: date, last: date) -> dict[str, dict[str, Any]]:
    """The same figures by plain SQL over the rows, counted here."""
    found: dict[str, dict[str, Any]] = {
        code: {"charges": 0, "secured_pence": 0,
               "decisions": {k: {"decisions": 0, "repayable_pence": 0, "demanded_pence": 0} for k in ("full", "part", "waive")},
               "factors": dict.fromkeys(FACTORS, 0)}
        for code in NAMES
    }  # fmt: skip
    with db.read_connection() as connection:
        for code, repayable in connection.execute(
            text("SELECT c.district_code, l.repayable_pence FROM land_charges l JOIN cases c ON c.id = l.case_id "
                 "WHERE l.registered_on BETWEEN :first AND :last"), {"first": first, "last": last},
        ):  # fmt: skip
            found[code]["charges"] += 1
            found[code]["secured_pence"] += repayable
        for code, decision, repayable, demanded, factors in connection.execute(
            text("SELECT c.district_code, r.decision, l.repayable_pence, r.demanded_pence, r.factors "
                 "FROM repayment_decisions r JOIN cases c ON c.id = r.case_id "
                 "JOIN land_charges l ON l.id = r.land_charge_id WHERE r.decided_on BETWEEN :first AND :last"),
            {"first": first, "last": last},
        ):  # fmt: skip
            tally = found[code]["decisions"][decision]
            tally["decisions"] += 1
            tally["repayable_pence"] += repayable
            tally["demanded_pence"] += demanded
            for factor in factors.split(","):
                found[code]["factors"][factor] += 1
    return found


THIS_YEAR = (date(YEAR, 4, 1), date(YEAR + 1, 3, 31))
YEAR_BEFORE = (date(PREVIOUS, 4, 1), date(YEAR, 3, 31))


# ---------------------------------------------------------------------- the figures


def test_this_year_by_district(money: Money) -> None:
    report = repayments(money.db, money.cast["manager"], today=TODAY)
    assert shown(report) == expect(*THIS_YEAR) == from_sql(money.db, *THIS_YEAR)
    can, lic = report.districts
    assert (can.district_name, can.charges, can.secured_pence) == ("Cannock Chase", 3, 3 * REPAYABLE)
    assert (can.decided.decisions, can.decided.repayable_pence, can.decided.demanded_pence) == (
        2,
        2 * REPAYABLE,
        REPAYABLE + 1_200_00,
    )
    assert (lic.charges, lic.by_decision["waive"].decisions, lic.factors["health"]) == (1, 1, 1)
    total = report.total
    assert (total.charges, total.secured_pence) == (4, 4 * REPAYABLE)
    assert {k: t.decisions for k, t in total.by_decision.items()} == {"full": 1, "part": 1, "waive": 1}
    assert total.decided.demanded_pence == REPAYABLE + 1_200_00
    assert dict(total.factors) == {"hardship": 1, "health": 1, "care": 1, "employment": 0, "none": 1}
    cases = money.cases
    assert [d.as_dict() for d in report.decisions] == [
        {"reference": reference, "district": reference[:3], "disposal_on": TODAY.isoformat(),
         "decided_on": TODAY.isoformat(), "decision": decision, "repayable_pence": REPAYABLE,
         "demanded_pence": demanded, "factors": factors}
        for reference, decision, demanded, factors in sorted([
            (cases["can_full"], "full", REPAYABLE, ["none"]),
            (cases["can_part"], "part", 1_200_00, ["care", "hardship"]),
            (cases["lic_waive"], "waive", 0, ["health"]),
        ])
    ]  # fmt: skip


def test_the_year_before_and_a_date_range(money: Money) -> None:
    manager = money.cast["manager"]
    before = repayments(money.db, manager, financial_year=PREVIOUS_LABEL, today=TODAY)
    assert shown(before) == expect(*YEAR_BEFORE) == from_sql(money.db, *YEAR_BEFORE)
    assert [(d.reference, d.decision, d.factors) for d in before.decisions] == [
        (money.cases["can_past"], "waive", ("hardship", "employment"))
    ]
    assert before.total.charges == 1 and before.total.factors["employment"] == 1
    # a range over both years has everything; a range of one day has that day's
    both = repayments(money.db, manager, start=PAST.isoformat(), end=TODAY.isoformat(), today=TODAY)
    assert shown(both) == expect(PAST, TODAY) == from_sql(money.db, PAST, TODAY)
    assert both.total.decided.decisions == len(DECISIONS)
    past = repayments(money.db, manager, start=PAST, end=PAST, today=TODAY)
    assert shown(past) == expect(PAST, PAST)
    assert past.scope.describe().startswith("All districts · ")
    # from a day on, to date
    since = repayments(money.db, manager, start=f"{TODAY:%d/%m/%Y}", today=TODAY)
    assert shown(since) == expect(TODAY, None)
    assert repayments(money.db, manager, financial_year=YEAR + 1, today=TODAY).total.charges == 0


def test_one_district(money: Money) -> None:
    lic = repayments(money.db, money.cast["manager"], district="LIC", today=TODAY)
    assert shown(lic) == expect(*THIS_YEAR, district="LIC")
    assert [d.reference for d in lic.decisions] == [money.cases["lic_waive"]]
    assert lic.scope.describe().startswith("Lichfield · ")
    own = repayments(money.db, money.cast["lic_manager"], today=TODAY)
    assert shown(own) == shown(lic)
    # every case of the population is non-urgent
    assert shown(repayments(money.db, money.cast["manager"], priority="non_urgent", today=TODAY)) == expect(
        *THIS_YEAR
    )
    urgent = repayments(money.db, money.cast["manager"], priority="urgent", today=TODAY)
    assert shown(urgent) == expect(date(1990, 1, 1), date(1990, 1, 1)) and urgent.decisions == ()
    assert urgent.scope.describe().endswith(" · urgent cases only")


@pytest.mark.parametrize(
    ("who", "given", "error", "message"),
    [
        ("officer", {}, PermissionDenied, "officer needs the role manager or admin to do this"),
        ("lic_manager", {"district": "CAN"}, PermissionDenied, "lic_manager works for district LIC"),
        ("manager", {"district": "XYZ"}, InvalidInput, "no district 'XYZ' (known: CAN, LIC)"),
        ("manager", {"financial_year": "2026-27", "start": "2026-04-01"}, InvalidInput,
         "give a financial year or a date range, not both"),
        ("manager", {"start": "2026-05-01", "end": "2026-04-01"}, InvalidInput,
         "the period ends (01/04/2026) before it starts (01/05/2026)"),
    ],
)  # fmt: skip
def test_refusals(
    money: Money, who: str, given: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        repayments(money.db, money.cast[who], today=TODAY, **given)  # type: ignore[arg-type]
    assert str(getattr(raised.value, "message", raised.value)) == message


# ---------------------------------------------------------------------- the outputs


def pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def test_csv(money: Money) -> None:
    rows = list(csv.reader(io.StringIO(repayments(money.db, money.cast["manager"], today=TODAY).as_csv())))
    assert rows[0] == [
        "district", "district_name", "charges_registered", "charges_secured_pounds",
        "full_decisions", "full_repayable_pounds", "full_demanded_pounds",
        "part_decisions", "part_repayable_pounds", "part_demanded_pounds",
        "waive_decisions", "waive_repayable_pounds", "waive_demanded_pounds",
        "factor_hardship", "factor_health", "factor_care", "factor_employment", "factor_none",
    ]  # fmt: skip
    expected = []
    for code, figures in expect(*THIS_YEAR).items():
        row = [code, NAMES[code], str(figures["charges"]), pounds(figures["secured_pence"])]
        for kind in ("full", "part", "waive"):
            tally = figures["decisions"][kind]
            row += [
                str(tally["decisions"]),
                pounds(tally["repayable_pence"]),
                pounds(tally["demanded_pence"]),
            ]
        row += [str(figures["factors"][f]) for f in FACTORS]
        expected.append(row)
    assert rows[1:] == expected


def test_json(money: Money) -> None:
    data = json.loads(json.dumps(repayments(money.db, money.cast["manager"], today=TODAY).as_dict()))
    assert data["report"] == "repayments"
    assert data["scope"]["financial_year"] == f"{YEAR}-{(YEAR + 1) % 100:02d}"
    figures = expect(*THIS_YEAR)
    for district in data["districts"]:
        code = district["district"]
        assert district["district_name"] == NAMES[code]
        assert {k: district[k] for k in ("charges", "secured_pence", "decisions", "factors")} == figures[code]
    assert data["total"]["district"] is None and data["total"]["district_name"] == "All districts"
    assert data["total"]["decided"] == {
        "decisions": 3,
        "repayable_pence": 3 * REPAYABLE,
        "demanded_pence": REPAYABLE + 1_200_00,
    }
    assert [d["decision"] for d in data["decisions"]] == ["full", "part", "waive"]


def test_text_and_pdf(money: Money) -> None:
    report = repayments(money.db, money.cast["manager"], today=TODAY)
    lines = report.as_text().splitlines()
    cells = [re.split(r"\s{2,}", line) for line in lines]
    demanded = REPAYABLE + 1_200_00
    assert ["All decisions", "3", format_pounds(3 * REPAYABLE), format_pounds(demanded),
            f"{round(100 * demanded / (3 * REPAYABLE))}%"] in cells  # fmt: skip
    assert ["All districts", "4", format_pounds(4 * REPAYABLE), "1", "1", "1", format_pounds(3 * REPAYABLE),
            format_pounds(demanded)] in cells  # fmt: skip
    assert ["All districts", "1", "1", "1", "0", "1"] in cells  # the factors
    part = next(c for c in cells if c[0] == money.cases["can_part"])
    assert part == [money.cases["can_part"], f"{TODAY:%d/%m/%Y}", f"{TODAY:%d/%m/%Y}", "Demanded in part",
                    format_pounds(REPAYABLE), "£1,200.00", "care, hardship"]  # fmt: skip
    if not money.db.is_sqlite:
        return  # the PDF does not depend on the database: one backend is enough
    reader = PdfReader(io.BytesIO(report.as_pdf()))
    words = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for phrase in (
        "Land charges and repayments",
        f"run on {TODAY:%d/%m/%Y}",
        "demanded not demanded",  # a chart's legend
        "The owner is moving for health reasons",  # the factors chart
        f"All decisions 3 {format_pounds(3 * REPAYABLE)} {format_pounds(demanded)}",
    ):
        assert phrase in words, phrase
    for section in report.document().sections:
        for row in section.rows:
            for cell in row:
                assert cell in words, (section.title, cell)
    assert reader.metadata is not None and reader.metadata.title.startswith("Land charges and repayments")


def test_every_decision_and_factor_has_its_label() -> None:
    assert tuple(DECISION_LABELS) == REPAYMENT_CHOICES
    assert tuple(FACTOR_HEADINGS) == tuple(LAND_CHARGE_FACTORS) == FACTORS


def test_no_decisions_yet(money: Money) -> None:
    empty = repayments(money.db, money.cast["manager"], financial_year=YEAR + 1, today=TODAY)
    assert empty.decisions == () and [d.charges for d in empty.districts] == [0, 0]
    document = empty.document()
    assert [s.chart for s in document.sections] == [None, None, None, None]
    assert "Each decision\n(none)" in empty.as_text()
