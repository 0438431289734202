"""The role check every action and every report begins with.

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
