"""Who is acting: a user's roles, district and delegated limit, as the workflow sees them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A named user acting on cases. Resolved once per command from ``--as`` / ``DFG_USER``."""

    user_id: int
    username: str
    roles: frozenset[str]
    district: str | None = None  # None: every district
    approval_limit_pence: int | None = None  # an approver's delegated limit; None: no authority to approve

    def may_act_in(self, district: str) -> bool:
        return self.district is None or self.district == district

    def role_for(self, allowed: tuple[str, ...]) -> str | None:
        """The first of ``allowed`` this user holds: the role recorded on the event."""
        return next((role for role in allowed if role in self.roles), None)
