"""The s.23 purposes and the catalogue of recommended works, from ``workflows/catalogue.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dfg.errors import ConfigurationError, InvalidInput
from dfg.paths import workflows_dir


@dataclass(frozen=True)
class WorkType:
    code: str
    label: str
    purposes: tuple[str, ...]
    needs_description: bool
    kind: str  # the name funding lines use for it (a stairlift of either shape is a "stairlift")


@dataclass(frozen=True)
class Catalogue:
    purposes: dict[str, str]
    works: dict[str, WorkType]

    def purpose(self, code: str, *, field: str = "purpose") -> str:
        """The purpose's code, checked (``InvalidInput`` naming the field and the known codes)."""
        if code not in self.purposes:
            raise InvalidInput(f"{field}: unknown s.23 purpose '{code}' (known: {', '.join(self.purposes)})")
        return code

    def work(self, code: str, description: str | None, *, field: str = "work") -> WorkType:
        """A catalogue item, checked; 'other' needs a description."""
        if code not in self.works:
            raise InvalidInput(f"{field}: unknown work '{code}' (known: {', '.join(self.works)})")
        item = self.works[code]
        if item.needs_description and not (description and description.strip()):
            raise InvalidInput(
                f"{field}: work '{code}' needs a description, e.g. {code}:'grab rails by the bath'"
            )
        return item


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        purposes = {str(k): str(v) for k, v in data["purposes"].items()}
        works = {}
        for code, raw in data["works"].items():
            unknown = [p for p in raw.get("purposes", []) if p not in purposes]
            if unknown:
                raise ConfigurationError(
                    f"{path.name}: works.{code}.purposes: unknown purpose '{unknown[0]}'"
                )
            works[code] = WorkType(
                code=code,
                label=str(raw["label"]),
                purposes=tuple(raw.get("purposes", [])),
                needs_description=bool(raw.get("needs_description", False)),
                kind=str(raw.get("kind", code)),
            )
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path.name}: {exc}") from None
    except KeyError as exc:
        raise ConfigurationError(f"{path.name}: missing {exc}") from None
    return Catalogue(purposes, works)


@cache
def catalogue() -> Catalogue:
    """The installed catalogue (read once per process)."""
    return load_catalogue(workflows_dir() / "catalogue.toml")
