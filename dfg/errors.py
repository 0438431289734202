"""The engine's exceptions, each with a stable exit code.

Every error the engine raises on purpose is a :class:`DfgError`. The CLI turns one into a single line on
stderr and exits with its ``exit_code``; the browser application answers with its ``http_status`` and
the same message on the page; a batch job can use the ``kind``. The exit codes are documented in
``docs/exit-codes.md`` and must never be renumbered.
"""

from __future__ import annotations


class DfgError(Exception):
    """Base class: a message fit for an officer, and a stable exit code."""

    exit_code = 1
    http_status = 400
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(DfgError):
    """An unknown case, user, district or other record."""

    exit_code = 3
    http_status = 404
    kind = "not_found"


class InvalidTransition(DfgError):
    """An unknown trigger, or one that cannot fire from the case's current state."""

    exit_code = 4
    http_status = 409
    kind = "invalid_transition"


class GuardFailed(DfgError):
    """A rule of the workflow said no: the message names the rule and why."""

    exit_code = 5
    http_status = 409
    kind = "guard_failed"


class PermissionDenied(DfgError):
    """The acting user's role or district does not allow the action."""

    exit_code = 6
    http_status = 403
    kind = "permission_denied"


class OutsideDistrict(PermissionDenied):
    """A case in a district the user does not work for. The command line says so (exit 6); the browser
    answers as if the case did not exist (404), so a page never confirms another district's case."""

    http_status = 404

    def __init__(self, message: str, *, reference: str) -> None:
        super().__init__(message)
        self.unseen = f"no case {reference}"


class Conflict(DfgError):
    """The case was changed by someone else between reading and writing it."""

    exit_code = 7
    http_status = 409
    kind = "conflict"


class InvalidInput(DfgError):
    """A malformed date, amount, code or file supplied by the user."""

    exit_code = 8
    http_status = 422
    kind = "invalid_input"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        #: Each problem by the input it is about, in a person's words (a form shows each beside its field).
        self.fields = dict(fields or {})


class DatabaseProblem(DfgError):
    """The database is not a DFG database, is out of date, or was made by a newer version."""

    exit_code = 9
    http_status = 503
    kind = "database"


class AuditFailure(DfgError):
    """The audit trail does not verify: an event was edited, deleted, inserted or reordered, or a table's
    row disagrees with what the events say."""

    exit_code = 10
    http_status = 500
    kind = "audit_failure"


class ConfigurationError(DfgError):
    """A workflow definition, rate table or policy file is invalid."""

    exit_code = 11
    http_status = 500
    kind = "configuration"


#: Every error class, for documentation and for tests that check the codes stay distinct.
ALL_ERRORS: tuple[type[DfgError], ...] = (
    NotFound,
    InvalidTransition,
    GuardFailed,
    PermissionDenied,
    Conflict,
    InvalidInput,
    DatabaseProblem,
    AuditFailure,
    ConfigurationError,
)
