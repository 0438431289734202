"""The household a test of resources is run on: parsed from a dict (a JSON file) and validated.

Every problem raises :class:`InvalidInput` with one message that names the field by its path, e.g.
``relevant_persons[1].age: 200 is not a plausible age``. Unknown keys are refused, so a misspelt field
is never silently ignored. Amounts are given in pounds as strings (``"300.00"``) and held in pence.

Shape (optional keys in brackets)::

    {"tenure": "owner", ["application_for_child": false], "couple": true,
     "relevant_persons": [{"age": 45, ["benefits": []], ["premiums": []], ["pension_credit_age": false],
                           ["tax_credit_annual_income": "14000.00"]}, ...],
     ["children": [{"age": 7, ["disabled": true], ["enhanced_disability": false]}]],
     "weekly_income": [{"kind": "earnings_net", "amount": "300.00", ["person": 0]}],
     "capital": "0.00",
     ["earlier_contributions": [{"amount": "1200.00", "approved_on": "2020-05-01",
                                 "same_dwelling": true, "same_person": true, ["tenure": "owner"]}]]}

For a landlord's application or an application for a disabled child the test is not run, so
``couple``, ``relevant_persons``, ``weekly_income`` and ``capital`` may be left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from dfg.errors import InvalidInput
from dfg.rules.files import read_json
from dfg.rules.money import Pence, format_pounds, parse_pounds

#: Kinds of application (s.19 HGCRA 1996), as ``tenure``.
APPLICANT_TENURES: tuple[str, ...] = ("owner", "tenant", "occupier", "landlord")
#: The kinds of application in words.
TENURE_LABELS: Mapping[str, str] = {
    "owner": "owner's application",
    "tenant": "tenant's application",
    "occupier": "occupier's application (a caravan, park home or houseboat)",
    "landlord": "landlord's application",
}
#: Tenures whose applications are means-tested (a landlord's is not).
MEANS_TESTED_TENURES: tuple[str, ...] = ("owner", "tenant", "occupier")

#: Benefits a relevant person may be in receipt of (codes → words for letters and workings).
BENEFIT_LABELS: Mapping[str, str] = {
    "income_support": "income support",
    "income_based_jsa": "income-based jobseeker's allowance",
    "income_related_esa": "income-related employment and support allowance",
    "housing_benefit": "housing benefit",
    "council_tax_benefit": "council tax benefit",
    "council_tax_support": "council tax support (reduction)",
    "pension_credit_guarantee": "pension credit (guarantee credit)",
    "pension_credit_savings": "pension credit (savings credit only)",
    "working_tax_credit": "working tax credit",
    "child_tax_credit": "child tax credit",
    "universal_credit": "Universal Credit",
    "contribution_based_jsa": "contribution-based jobseeker's allowance",
    "contributory_esa": "contributory employment and support allowance",
    "dla": "disability living allowance",
    "pip": "personal independence payment",
    "attendance_allowance": "attendance allowance",
    "carers_allowance": "carer's allowance",
    "state_pension": "state pension",
    "child_benefit": "child benefit",
    "armed_forces_independence_payment": "armed forces independence payment",
}
BENEFITS = frozenset(BENEFIT_LABELS)

#: Tax credits: passports only under an annual-income ceiling, so the income must be given.
TAX_CREDITS = frozenset({"working_tax_credit", "child_tax_credit"})

#: Premiums a relevant person may qualify for (the household's children's premiums come from ``children``).
PREMIUM_LABELS: Mapping[str, str] = {
    "disability": "disability premium",
    "enhanced_disability": "enhanced disability premium",
    "severe_disability": "severe disability premium",
    "carer": "carer premium",
}
PREMIUMS = frozenset(PREMIUM_LABELS)

#: Kinds of weekly income; the rate table says which are disregarded.
INCOME_LABELS: Mapping[str, str] = {
    "earnings_net": "net earnings",
    "self_employed_net": "net self-employed earnings",
    "state_pension": "state pension",
    "occupational_pension": "occupational pension",
    "personal_pension": "personal pension",
    "contributory_esa": "contributory employment and support allowance",
    "contribution_based_jsa": "contribution-based jobseeker's allowance",
    "incapacity_benefit": "incapacity benefit",
    "carers_allowance": "carer's allowance",
    "pension_credit_savings": "pension credit (savings credit)",
    "child_benefit": "child benefit",
    "maintenance": "maintenance",
    "rental_income": "rental income",
    "other": "other income",
    "dla": "disability living allowance",
    "pip": "personal independence payment",
    "attendance_allowance": "attendance allowance",
    "working_tax_credit": "working tax credit",
    "child_tax_credit": "child tax credit",
    "armed_forces_compensation_scheme": "armed forces compensation scheme payment",
    "armed_forces_independence_payment": "armed forces independence payment",
    "war_disablement_pension": "war disablement pension",
}
INCOME_KINDS = frozenset(INCOME_LABELS)

#: Plausible ages: a relevant person is 16 or over; a dependent child or young person is under 20.
RELEVANT_PERSON_AGES = (16, 120)
CHILD_AGES = (0, 19)

_T = TypeVar("_T")


@dataclass(frozen=True)
class RelevantPerson:
    """A disabled occupant or their partner: the people whose means are tested."""

    age: int
    benefits: frozenset[str] = frozenset()
    premiums: frozenset[str] = frozenset()
    pension_credit_age: bool | None = None  # None: derive from age and the rate table
    tax_credit_annual_income_pence: Pence | None = None


@dataclass(frozen=True)
class Child:
    """A dependent child or young person in the household."""

    age: int
    disabled: bool = False
    enhanced_disability: bool = False


@dataclass(frozen=True)
class IncomeItem:
    """One weekly income: its kind, amount and (optionally) whose it is, by index of relevant person."""

    kind: str
    amount_pence: Pence
    person: int | None = None


@dataclass(frozen=True)
class EarlierContribution:
    """A contribution assessed on an earlier grant, for the successive-application rule (reg. 13)."""

    amount_pence: Pence
    approved_on: date
    same_dwelling: bool
    same_person: bool
    tenure: str | None = None  # the earlier application's; None: the same as this one


@dataclass(frozen=True)
class Household:
    """A validated household. Build one with :func:`parse_household`."""

    tenure: str
    couple: bool
    relevant_persons: tuple[RelevantPerson, ...]
    children: tuple[Child, ...] = ()
    weekly_income: tuple[IncomeItem, ...] = ()
    capital_pence: Pence = 0
    earlier_contributions: tuple[EarlierContribution, ...] = ()
    application_for_child: bool = False

    @property
    def means_tested(self) -> bool:
        """Whether the test of resources runs at all (not a landlord's, not for a disabled child)."""
        return self.tenure != "landlord" and not self.application_for_child


# --------------------------------------------------------------------------------------------------
# Field readers: each takes the value and its path, and raises InvalidInput naming the path.


def _object(value: object, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{path or 'household'}: must be an object ({{...}})")
    for key in value:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise InvalidInput(f"{where}: unknown key (known: {', '.join(allowed)})")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _required(obj: Mapping[str, Any], path: str, key: str) -> Any:
    if key not in obj:
        raise InvalidInput(f"{_join(path, key)}: required")
    return obj[key]


def _bool(obj: Mapping[str, Any], path: str, key: str, default: bool | None = None) -> bool:
    if key not in obj and default is not None:
        return default
    value = _required(obj, path, key)
    if not isinstance(value, bool):
        raise InvalidInput(f"{_join(path, key)}: must be true or false, got {value!r}")
    return value


def _age(value: object, path: str, bounds: tuple[int, int], what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{path}: must be a whole number of years, got {value!r}")
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidInput(f"{path}: {value} is not a plausible age{what}")
    return value


def _amount(value: object, path: str) -> Pence:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        # A JSON number reaches us as a float; str() gives back the digits as written.
        return parse_pounds(str(value), field=path)
    raise InvalidInput(f'{path}: expected an amount in pounds such as "300.00", got {value!r}')


def _list(obj: Mapping[str, Any], path: str, key: str, *, required: bool) -> list[Any]:
    if key not in obj and not required:
        return []
    value = _required(obj, path, key)
    if not isinstance(value, list):
        raise InvalidInput(f"{_join(path, key)}: must be a list ([...])")
    return value


def _codes(obj: Mapping[str, Any], path: str, key: str, known: frozenset[str], what: str) -> frozenset[str]:
    where = _join(path, key)
    codes: list[str] = []
    for item in _list(obj, path, key, required=False):
        if not isinstance(item, str):
            raise InvalidInput(f"{where}: each {what} must be a code string, got {item!r}")
        if item not in known:
            raise InvalidInput(f"{where}: unknown {what} {item!r} (known: {', '.join(sorted(known))})")
        if item in codes:
            raise InvalidInput(f"{where}: {item!r} is listed twice")
        codes.append(item)
    return frozenset(codes)


def _parse_person(value: object, path: str) -> RelevantPerson:
    obj = _object(
        value, path, ("age", "benefits", "premiums", "pension_credit_age", "tax_credit_annual_income")
    )
    age = _age(_required(obj, path, "age"), f"{path}.age", RELEVANT_PERSON_AGES, "")
    benefits = _codes(obj, path, "benefits", BENEFITS, "benefit")
    premiums = _codes(obj, path, "premiums", PREMIUMS, "premium")
    pension_credit_age = _bool(obj, path, "pension_credit_age") if "pension_credit_age" in obj else None
    tax_credit_income: Pence | None = None
    if "tax_credit_annual_income" in obj:
        tax_credit_income = _amount(obj["tax_credit_annual_income"], f"{path}.tax_credit_annual_income")
    elif benefits & TAX_CREDITS:
        raise InvalidInput(
            f"{path}.tax_credit_annual_income: required when receiving working tax credit or child tax "
            "credit (the annual income the award was based on)"
        )
    return RelevantPerson(age, benefits, premiums, pension_credit_age, tax_credit_income)


def _parse_child(value: object, path: str) -> Child:
    obj = _object(value, path, ("age", "disabled", "enhanced_disability"))
    age = _age(_required(obj, path, "age"), f"{path}.age", CHILD_AGES, " for a dependent child (0 to 19)")
    disabled = _bool(obj, path, "disabled", default=False)
    enhanced = _bool(obj, path, "enhanced_disability", default=False)
    if enhanced and not disabled:
        raise InvalidInput(
            f"{path}.enhanced_disability: only a disabled child can have it; set disabled to true"
        )
    return Child(age, disabled, enhanced)


def _parse_income(value: object, path: str, persons: int) -> IncomeItem:
    obj = _object(value, path, ("kind", "amount", "person"))
    kind = _required(obj, path, "kind")
    if kind not in INCOME_KINDS:
        raise InvalidInput(
            f"{path}.kind: unknown income kind {kind!r} (known: {', '.join(sorted(INCOME_KINDS))})"
        )
    amount = _amount(_required(obj, path, "amount"), f"{path}.amount")
    person = obj.get("person")
    if person is not None and (
        isinstance(person, bool) or not isinstance(person, int) or not 0 <= person < persons
    ):
        raise InvalidInput(f"{path}.person: {person!r} is not a relevant person (0 to {persons - 1})")
    return IncomeItem(str(kind), amount, person)


def _parse_earlier(value: object, path: str) -> EarlierContribution:
    obj = _object(value, path, ("amount", "approved_on", "same_dwelling", "same_person", "tenure"))
    amount = _amount(_required(obj, path, "amount"), f"{path}.amount")
    raw_date = _required(obj, path, "approved_on")
    try:
        approved_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        approved_on = None
    if approved_on is None:
        raise InvalidInput(f"{path}.approved_on: {raw_date!r} is not a date (YYYY-MM-DD)")
    tenure = obj.get("tenure")
    if tenure is not None and tenure not in MEANS_TESTED_TENURES:
        raise InvalidInput(
            f"{path}.tenure: {tenure!r} is not a means-tested tenure "
            f"(known: {', '.join(MEANS_TESTED_TENURES)})"
        )
    return EarlierContribution(
        amount_pence=amount,
        approved_on=approved_on,
        same_dwelling=_bool(obj, path, "same_dwelling"),
        same_person=_bool(obj, path, "same_person"),
        tenure=tenure,
    )


_HOUSEHOLD_KEYS = (
    "tenure",
    "application_for_child",
    "couple",
    "relevant_persons",
    "children",
    "weekly_income",
    "capital",
    "earlier_contributions",
)


class HouseholdProblems(InvalidInput):
    """Every problem found in a household at once, each naming its field's path; the message is the
    first, so the command line still says one thing (a form shows them all, each beside its field)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(problems[0])
        self.problems = tuple(problems)


def parse_household(data: object) -> Household:
    """Validate a household dict (the JSON file's shape) and return a :class:`Household`.

    Raises :class:`HouseholdProblems` (an :class:`InvalidInput`) naming every bad field, the first one
    in its message; each item of a list (a person, a child, an income) is reported once at most.
    """
    obj = _object(data, "", _HOUSEHOLD_KEYS)  # an unknown key: nothing else can be trusted
    problems: list[str] = []

    def attempt(read: Callable[[], _T]) -> _T | None:
        try:
            return read()
        except InvalidInput as problem:
            problems.append(problem.message)
            return None

    tenure = attempt(lambda: _tenure(obj))
    for_child = attempt(lambda: _bool(obj, "", "application_for_child", default=False)) or False
    tested = tenure != "landlord" and not for_child

    def each(key: str, parse: Callable[[object, str], _T], *, required: bool = False) -> tuple[_T, ...]:
        items: list[object] = attempt(lambda: _list(obj, "", key, required=required)) or []
        found = (attempt(partial(parse, item, f"{key}[{i}]")) for i, item in enumerate(items))
        return tuple(item for item in found if item is not None)

    couple = attempt(lambda: _bool(obj, "", "couple")) if tested or "couple" in obj else False
    persons = each("relevant_persons", _parse_person, required=tested)
    given = obj.get("relevant_persons")
    count = len(given) if isinstance(given, list) else 0  # those with a problem too
    if tested and couple is not None:
        expected = 2 if couple else 1
        if count != expected:
            shape = "a couple has 2 relevant persons" if couple else "a single person has 1 relevant person"
            hint = "" if couple else " (set couple to true for a couple)"
            problems.append(f"relevant_persons: {shape}, got {count}{hint}")
    children = each("children", _parse_child)
    income = each("weekly_income", partial(_parse_income, persons=count), required=tested)
    capital = (
        attempt(lambda: _amount(_required(obj, "", "capital"), "capital"))
        if tested or "capital" in obj
        else 0
    )
    earlier = each("earlier_contributions", _parse_earlier)
    if problems:
        raise HouseholdProblems(problems)
    assert tenure is not None and couple is not None and capital is not None  # else a problem was found
    return Household(
        tenure=tenure,
        couple=couple,
        relevant_persons=persons,
        children=children,
        weekly_income=income,
        capital_pence=capital,
        earlier_contributions=earlier,
        application_for_child=for_child,
    )


def _tenure(obj: Mapping[str, Any]) -> str:
    tenure = _required(obj, "", "tenure")
    if tenure not in APPLICANT_TENURES:
        raise InvalidInput(f"tenure: unknown tenure {tenure!r} (known: {', '.join(APPLICANT_TENURES)})")
    return str(tenure)


def check_case_tenure(household: Household, case_tenure: str) -> None:
    """Refuse a household whose kind of application is not the case's: the test of resources is for
    the application the case records (an owner's is not a tenant's), never another."""
    if household.tenure != case_tenure:

        def kind(tenure: str) -> str:
            words = TENURE_LABELS.get(tenure, tenure)
            return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"

        raise InvalidInput(
            f"tenure: the household is for {kind(household.tenure)}, but the case is {kind(case_tenure)}: "
            "a test of resources is for the case's own kind of application"
        )


def load_household(path: Path) -> Household:
    """Read and validate a household JSON file."""
    return parse_household(read_json(path))


def _plain(pence: Pence) -> str:
    # The JSON shape takes plain pounds ("300.00"), not the display form ("£300.00").
    return format_pounds(pence).replace("£", "").replace(",", "")


def household_to_dict(household: Household) -> dict[str, Any]:
    """The household back in its JSON shape (``parse_household(household_to_dict(h)) == h``)."""
    persons: list[dict[str, Any]] = []
    for person in household.relevant_persons:
        item: dict[str, Any] = {
            "age": person.age,
            "benefits": sorted(person.benefits),
            "premiums": sorted(person.premiums),
        }
        if person.pension_credit_age is not None:
            item["pension_credit_age"] = person.pension_credit_age
        if person.tax_credit_annual_income_pence is not None:
            item["tax_credit_annual_income"] = _plain(person.tax_credit_annual_income_pence)
        persons.append(item)
    income: list[dict[str, Any]] = []
    for entry in household.weekly_income:
        row: dict[str, Any] = {"kind": entry.kind, "amount": _plain(entry.amount_pence)}
        if entry.person is not None:
            row["person"] = entry.person
        income.append(row)
    earlier: list[dict[str, Any]] = []
    for contribution in household.earlier_contributions:
        previous: dict[str, Any] = {
            "amount": _plain(contribution.amount_pence),
            "approved_on": contribution.approved_on.isoformat(),
            "same_dwelling": contribution.same_dwelling,
            "same_person": contribution.same_person,
        }
        if contribution.tenure is not None:
            previous["tenure"] = contribution.tenure
        earlier.append(previous)
    return {
        "tenure": household.tenure,
        "application_for_child": household.application_for_child,
        "couple": household.couple,
        "relevant_persons": persons,
        "children": [
            {"age": c.age, "disabled": c.disabled, "enhanced_disability": c.enhanced_disability}
            for c in household.children
        ],
        "weekly_income": income,
        "capital": _plain(household.capital_pence),
        "earlier_contributions": earlier,
    }
