"""NHS number check digits and the catalogue of works."""

from __future__ import annotations

from pathlib import Path

import pytest

from dfg.errors import ConfigurationError, InvalidInput
from dfg.rules.catalogue import catalogue, load_catalogue
from dfg.rules.nhs_number import parse_nhs_number


@pytest.mark.parametrize("number", ["943 476 5919", "9434765919", "401-023-2137"])
def test_valid_nhs_numbers(number: str) -> None:
    assert parse_nhs_number(number) == number.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    ("number", "problem"),
    [("9434765918", "fails the check digit"), ("943476591", "is not ten digits"), ("94347659A9", "is not ten digits"),
     ("1000000010", "fails the check digit")],  # the last has check value 10: never valid
)  # fmt: skip
def test_invalid_nhs_numbers(number: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_nhs_number(number)


def test_catalogue_has_every_purpose_and_the_required_works() -> None:
    items = catalogue()
    assert list(items.purposes) == [*"abcdefghijk", "garden"]
    assert {"stairlift_straight", "stairlift_curved", "level_access_shower", "ramp", "through_floor_lift", "extension",
            "door_widening", "heating", "kitchen_adaptation", "wc", "garden_access", "other"} <= set(items.works)  # fmt: skip
    assert items.works["other"].needs_description


def test_catalogue_refuses_an_unknown_purpose(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text('[purposes]\na = "x"\n[works.ramp]\nlabel = "Ramp"\npurposes = ["q"]\n')
    with pytest.raises(ConfigurationError, match=r"works\.ramp\.purposes: unknown purpose 'q'"):
        load_catalogue(path)
