"""The checks every action and every report begins with: the role, and the district acted in.

It sits in the workflow, beside :class:`~dfg.workflow.actor.Actor`, because the services and the reports
both ask it and the reports may not import the services.
"""

from __future__ import annotations

from dfg.errors import PermissionDenied
from dfg.workflow.actor import Actor


def require_role(actor: Actor, *roles: str) -> str:
    """The first of ``roles`` the actor holds (the role recorded on the event); PermissionDenied if none."""
    role = actor.role_for(roles)
    if role is None:
        raise PermissionDenied(f"{actor.username} needs the role {' or '.join(roles)} to do this")
    return role


def acting_district(actor: Actor, district: str) -> str:
    """``district`` as a code (``can`` is ``CAN``), if the actor may act in it; PermissionDenied if not."""
    code = district.strip().upper()
    if not actor.may_act_in(code):
        raise PermissionDenied(f"{actor.username} works for district {actor.district}, not {code}")
    return code
