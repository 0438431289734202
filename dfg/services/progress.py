"""How a long action (rendering letters, the daily tick, an import, the demonstration) says how far it
has got, without knowing who is watching: the command line draws a bar on a terminal, a batch job
ignores it."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""Told ``(items just finished, items in all)``; called once with ``(0, total)`` before the first item."""


def unwatched(done: int, total: int) -> None:
    """The progress of an action nobody watches."""
