"""Why a workflow action was refused. The API maps each to a status code (404, 403, 409, 401)."""

from __future__ import annotations

from vigil.errors import VigilError


class WorkflowError(VigilError):
    status = 400


class NotFound(WorkflowError):
    status = 404


class Forbidden(WorkflowError):
    """The actor's role may not do this, or the four-eyes rule forbids it."""

    status = 403


class InvalidTransition(WorkflowError):
    """The case is not in a state from which the requested one can be reached."""

    status = 409


class TransitionBlocked(WorkflowError):
    """A registered pre-transition check refused the transition (e.g. a do-not-refer gate)."""

    status = 409


class AuthError(WorkflowError):
    """Wrong or missing credentials, or a locked account."""

    status = 401
