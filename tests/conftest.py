"""Shared fixtures: a real database per test (SQLite always; PostgreSQL when DFG_TEST_DATABASE_URL is set),
a cast of users with every role, and a factory for cases."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dfg.rules.clock import local_day, utcnow
from dfg.services.approval import ApprovalTerms, approval_versions, approve_grant
from dfg.services.assessment import AssessmentInput, record_assessment, run_means_test
from dfg.services.budget import allocate
from dfg.services.case_opening import NewCase, NewPerson, open_case
from dfg.services.case_reading import show_case
from dfg.services.cases import advance, record_change
from dfg.services.contractors import NewContractor, add_contractor
from dfg.services.database import grant_engine_roles
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.identity import map_identity, resolve_actor, running_principal
from dfg.services.payments import money_view, pay_final, record_contribution, record_invoice
from dfg.services.users import add_district, add_user
from dfg.services.works import record_completion_check
from dfg.store.database import Database
from dfg.store.migrate import upgrade
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from dfg.workflow.timeline import COMPLETION_EXTENDED

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("DFG_TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(
    not PG_URL,
    reason="PostgreSQL tests need DFG_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres)",
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=needs_postgres),
]


def _admin_url(name: str) -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


class PostgresDatabases:
    """Creates throw-away databases on the server named by DFG_TEST_DATABASE_URL, and drops them."""

    def __init__(self) -> None:
        assert PG_URL is not None
        self.server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.prefix = f"dfg_test_{uuid.uuid4().hex[:8]}"
        self.template: str | None = None
        self.made: list[str] = []

    def migrated_template(self) -> str:
        if self.template is None:
            self.template = f"{self.prefix}_template"
            self._execute(f'CREATE DATABASE "{self.template}"')
            self.made.append(self.template)
            database = Database(_admin_url(self.template))
            upgrade(database)
            database.dispose()
        return self.template

    def fresh(self, *, migrated: bool = True) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        template = f' TEMPLATE "{self.migrated_template()}"' if migrated else ""
        self._execute(f'CREATE DATABASE "{name}"{template}')
        self.made.append(name)
        return _admin_url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.remove(str(name))

    def drop_all(self) -> None:
        for name in list(reversed(self.made)):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.server.dispose()

    def _execute(self, sql: str) -> None:
        with self.server.connect() as connection:
            connection.execute(text(sql))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need DFG_TEST_DATABASE_URL")
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (a real file, WAL and all)."""
    path = tmp_path_factory.mktemp("template") / "dfg.sqlite"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A freshly migrated, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "dfg.sqlite"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        postgres: PostgresDatabases = request.getfixturevalue("postgres")
        url = postgres.fresh()
        yield url
        postgres.drop(url)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables), on each backend: for tests of the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    return postgres.fresh(migrated=False)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture
def engine_login(db: Database) -> Iterator[Callable[..., str]]:
    """PostgreSQL only: logins in the group role the engine runs as (``dfg db grant-engine-role``, under
    names of this test's own), each given as the URL that connects as it; ``admin=True`` adds the
    administrators' role. Dropped afterwards."""
    if db.is_sqlite:
        pytest.skip("roles are PostgreSQL's")
    tag = uuid.uuid4().hex[:8]
    engine_role, admin_role = f"dfg_engine_{tag}", f"dfg_admin_{tag}"
    grant_engine_roles(db, engine_role, admin_role, apply=True)
    made = [engine_role, admin_role]

    def login(name: str, *, admin: bool = False) -> str:
        role = f"dfg_{tag}_{name}"
        with db.write_connection() as connection:
            groups = f"{engine_role}, {admin_role}" if admin else engine_role
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN IN ROLE {groups}')
        made.insert(0, role)
        return make_url(db.url).set(username=role).render_as_string(hide_password=False)

    yield login
    with db.write_connection() as connection:
        for role in made:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')


CAST = {
    # username: (roles, district, delegated limit in pence)
    "officer": (["grant_officer"], "CAN", None),
    "ot": (["ot"], None, None),
    "technical": (["technical_officer"], "CAN", None),
    "approver": (["approver"], None, 30_000_00),
    "manager": (["manager"], None, None),
    "lichfield": (["grant_officer"], "LIC", None),
}


@pytest.fixture
def cast(db: Database) -> dict[str, Actor]:
    """An admin, two districts, and a user for every role."""
    return make_cast(db)


def make_cast(db: Database) -> dict[str, Actor]:
    """The cast fixture's users, for a database a test prepares itself (a module's shared file)."""
    add_user(db, None, username="admin", full_name="Ada Admin", roles=["admin"])
    admin = resolve_actor(db, "admin")
    add_district(db, admin, "CAN", "Cannock Chase")
    add_district(db, admin, "LIC", "Lichfield")
    for username, (roles, district, limit) in CAST.items():
        add_user(
            db, "admin", username=username, full_name=username.title(), roles=roles, district=district,
            approval_limit_pence=limit,
        )  # fmt: skip
        # the account running the tests (on PostgreSQL, the test login) may act as everyone: the CLI's
        # --as then chooses among them through the real proof
        map_identity(db, admin, username, running_principal(db))
    return {name: resolve_actor(db, name) for name in ["admin", *CAST]}


def sample_case(district: str = "CAN", *, dob: date | None = date(1950, 6, 1), **changes: object) -> NewCase:
    applicant = NewPerson(
        title="Mrs", given_name="Margaret", family_name="Holt", date_of_birth=dob, is_applicant=True,
        is_disabled_occupant=True,
    )  # fmt: skip
    fields: dict[str, object] = {
        "district": district,
        "priority": "non_urgent",
        "tenure": "owner",
        "first_contact_date": date(2026, 1, 5),
        "address_line_1": "12 Mill Lane",
        "town": "Cannock",
        "postcode": "WS11 1AA",
        "people": (applicant,),
        # the same Mrs Holt is opened many times over by the tests, on purpose
        "allow_duplicate": True,
        **changes,
    }
    return NewCase(**fields)  # type: ignore[arg-type]


@pytest.fixture
def open_sample(db: Database, cast: dict[str, Actor]) -> Callable[..., str]:
    """Open a sample case as the Cannock officer (or as ``by``); returns its reference."""

    def make(district: str = "CAN", *, by: str = "officer", **changes: object) -> str:
        return open_case(db, cast[by], sample_case(district, **changes))

    return make


HOUSEHOLD = {
    "tenure": "owner",
    "application_for_child": False,
    "couple": True,
    "relevant_persons": [
        {"age": 45, "benefits": [], "premiums": []},
        {"age": 44, "benefits": [], "premiums": []},
    ],
    "children": [],
    "weekly_income": [{"kind": "earnings_net", "amount": "300.00"}],
    "capital": "0.00",
    "earlier_contributions": [],
}


def sample_assessment(on: date, *, necessary: bool = True) -> AssessmentInput:
    return AssessmentInput(
        assessed_on=on,
        assessor="Ruth Ashley",
        organisation="Staffordshire County Council",
        purposes=("d", "f"),
        works=(("stairlift_straight", None), ("level_access_shower", None)),
        priority="non_urgent",
        necessary_and_appropriate=necessary,
        reasons="Cannot climb the stairs or step into the bath safely",
    )


CONTRACTORS = {  # name: (accreditation, expiry)
    "Able Lifts Ltd": ("TrustMark", date(2030, 3, 31)),
    "Brook Builders": ("TrustMark", date(2030, 3, 31)),
    "Castle Adaptations": ("Staffordshire adaptations framework", date(2030, 3, 31)),
}
BUDGET_PER_LINE = 1_000_000_00  # each district, funding line and financial year the walks touch


def prepare_works(db: Database, cast: dict[str, Actor]) -> None:
    """The register and the budgets a case needs from its application on: the contractors above, and
    an allocation for every district, financial year 2025-26 to 2027-28 and funding line. Idempotent."""
    with db.read_connection() as connection:
        known = set(connection.scalars(text("SELECT name FROM contractors")))
        funded = connection.execute(text("SELECT count(*) FROM budgets")).scalar()
    for name, (accreditation, expires) in CONTRACTORS.items():
        if name not in known:
            add_contractor(db, cast["admin"], NewContractor(name=name, accreditation=accreditation,
                                                             accreditation_expires=expires))  # fmt: skip
    if funded:
        return
    for district in ("CAN", "LIC"):
        for year in (2025, 2026, 2027):
            for line in ("mandatory", "top_up"):
                allocate(db, cast["admin"], district=district, financial_year=year, funding_line=line,
                         amount_pence=BUDGET_PER_LINE, reason="test allocation")  # fmt: skip


def take_step(
    db: Database, cast: dict[str, Actor], reference: str, trigger: str, who: str, given: TriggerInput, *,
    now: datetime | None = None, grant_pence: int = 0,
) -> str:  # fmt: skip
    """Fire one step of the main path as ``who`` (at ``now``, default the real time), recording what the
    step needs first: assessment, means test, estimates, an approval (of ``grant_pence``, default
    APPROVED_GRANT), completion checks, invoice and payment, contribution and land charge."""
    today = given.on or local_day(now or utcnow())
    if trigger == "record_assessment":
        return record_assessment(db, cast[who], reference, sample_assessment(today), now=now).to_state
    if trigger == "complete_test_of_resources":
        household = {**HOUSEHOLD, "tenure": show_case(db, cast[who], reference).tenure}  # the case's own
        run_means_test(db, cast[who], reference, household, on=given.on, now=now)
    if trigger == "validate_application":
        add_estimates(db, cast, reference, who=who, on=today, now=now)
    if trigger == "approve":
        return approve(db, cast, reference, grant_pence or APPROVED_GRANT, on=given.on, by=who, now=now)
    if trigger == "certify":
        for check, by in (
            ("inspection", "technical"),
            ("ot_sign_off", "ot"),
            ("applicant_satisfaction", "officer"),
        ):
            record_completion_check(db, cast[by], reference, check, passed=True, on=given.on, now=now)
    if trigger == "pay_final":
        works = approval_versions(db, cast[who], reference)[-1].works_pence  # invoiced as approved
        record_invoice(db, cast[who], reference, supplier="Castle Adaptations", invoice_reference="INV-1",
                       amount_pence=works, received_on=today, now=now)  # fmt: skip
        return pay_final(db, cast[who], reference, on=given.on, now=now).to_state
    if trigger == "close":
        settle_before_closing(db, cast, reference, who=who, on=today, now=now)
    return advance(db, cast[who], reference, trigger, given, now=now).to_state


def add_estimates(
    db: Database, cast: dict[str, Actor], reference: str, *, who: str = "officer", on: date | None = None,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Two estimates from different contractors, as a valid application needs (dear ones: the approval
    helper adds the lowest, priced for the grant it wants)."""
    prepare_works(db, cast)
    received = on or local_day(now or utcnow())
    for name, price in (("Able Lifts Ltd", 60_000_00), ("Brook Builders", 61_000_00)):
        record_estimate(
            db, cast[who], reference, contractor=name, price_pence=price, received_on=received, now=now
        )


def settle_before_closing(
    db: Database, cast: dict[str, Actor], reference: str, *, who: str, on: date, now: datetime | None = None
) -> None:
    """Collect the contribution and register the land charge, where the case has them."""
    from dfg.services.land_charge import land_charge_view, register_land_charge

    money = money_view(db, cast[who], reference)
    if money.contribution_collected_pence < money.contribution_pence:
        record_contribution(db, cast[who], reference, on=on, now=now,
                            amount_pence=money.contribution_pence - money.contribution_collected_pence)  # fmt: skip
    charge = land_charge_view(db, cast[who], reference)
    if charge.applies and charge.registration is None:
        register_land_charge(
            db, cast[who], reference, registered_on=on, registry_reference=f"LLC/{reference}", now=now
        )


#: The main path from referral to closed: (trigger, who fires it).
MAIN_PATH = (
    ("accept_referral", "officer"), ("record_assessment", "ot"), ("complete_test_of_resources", "officer"),
    ("receive_application", "officer"), ("validate_application", "officer"), ("approve", "approver"),
    ("order_works", "officer"), ("start_on_site", "officer"), ("complete_works", "technical"),
    ("certify", "technical"), ("pay_final", "officer"), ("close", "officer"),
)  # fmt: skip


def walk_to(
    db: Database, cast: dict[str, Actor], reference: str, state: str, *, on: date | None = None
) -> None:
    """Walk a Cannock case along the main path, through the real services, until it is in ``state``."""
    for trigger, who in MAIN_PATH:
        if show_case(db, cast["officer"], reference).state == state:
            return
        take_step(db, cast, reference, trigger, who, TriggerInput(on=on))
    assert show_case(db, cast["officer"], reference).state == state, f"{state} is not on the main path"


HOUSEHOLD_CONTRIBUTION = 10_199_45  # what HOUSEHOLD contributes (the hand-checked example)
APPROVED_GRANT = 8_450_00  # the grant take_step approves


def approve(db: Database, cast: dict[str, Actor], reference: str, grant_pence: int, *, on: date | None = None,
            by: str = "approver", terms: ApprovalTerms | None = None, now: datetime | None = None) -> str:  # fmt: skip
    """Select an estimate whose works give exactly ``grant_pence`` after HOUSEHOLD's contribution (the
    lowest, from Castle Adaptations), calculate the grant on it, and approve it."""
    prepare_works(db, cast)
    officer = (
        cast["officer"] if show_case(db, cast["officer"], reference).district == "CAN" else cast["lichfield"]
    )
    received = on or local_day(now or utcnow())
    estimate = record_estimate(db, officer, reference, contractor="Castle Adaptations", now=now,
                               price_pence=grant_pence + HOUSEHOLD_CONTRIBUTION, received_on=received)  # fmt: skip
    select_estimate(db, officer, reference, estimate.id, on=on, now=now)
    calculate_case_grant(db, officer, reference, on=on, now=now)
    return approve_grant(db, cast[by], reference, terms or ApprovalTerms(), on=on, now=now).to_state


def extend_completion(
    db: Database, cast: dict[str, Actor], reference: str, *, months: int, reason: str, at: datetime
) -> None:
    """Stands in for the extension service of the works issue: a ``completion_extended`` event on the
    case's chain, written the way every change to a case is (``record_change``)."""
    record_change(db, cast["officer"], reference, role="grant_officer", kind=COMPLETION_EXTENDED,
                  payload={"months": months}, reason=reason, now=at)  # fmt: skip
