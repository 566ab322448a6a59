"""The one exception hierarchy of crowdline.

Every error says what was wrong and what to do. Each category also subclasses the
matching builtin so callers can catch ``LookupError`` or ``ValueError`` as usual.
Exit codes (CLI) and HTTP statuses (server) are mapped here, once.
"""

from __future__ import annotations

from typing import Any


class CrowdlineError(Exception):
    """Root of every error crowdline raises on purpose."""

    exit_code: int = 1
    http_status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, hint: str | None = None, payload: Any = None) -> None:
        self.message = message
        self.hint = hint
        self.payload = payload
        super().__init__(f"{message} ({hint})" if hint else message)


# --- categories ---------------------------------------------------------------------------


class InvalidInput(CrowdlineError, ValueError):
    """The caller gave something malformed; nothing was changed."""

    exit_code = 2
    http_status = 400
    code = "VALIDATION_ERROR"


class NotFound(CrowdlineError, LookupError):
    exit_code = 3
    http_status = 404
    code = "DOES_NOT_EXIST"


class AmbiguousId(InvalidInput, LookupError):
    """An id prefix matches several ids; the message lists them."""


class AlreadyExists(CrowdlineError, ValueError):
    exit_code = 4
    http_status = 409
    code = "ALREADY_EXISTS"


class Conflict(CrowdlineError, RuntimeError):
    """The operation clashes with the current state (a finished commit, a moved branch head...)."""

    exit_code = 5
    http_status = 409
    code = "CONFLICT_STATE"


class AuthenticationFailed(CrowdlineError, PermissionError):
    exit_code = 6
    http_status = 401
    code = "AUTHENTICATION_ERROR"


class PermissionDenied(CrowdlineError, PermissionError):
    exit_code = 6
    http_status = 403
    code = "ACCESS_DENIED"


class RateLimited(CrowdlineError, PermissionError):
    """Too many failed attempts from one client; ``retry_after`` seconds until the next."""

    exit_code = 6
    http_status = 429
    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, payload={"retry_after": retry_after})
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ConfigError(CrowdlineError, ValueError):
    exit_code = 7
    http_status = 500
    code = "CONFIG_ERROR"


class BackendUnavailable(CrowdlineError, ConnectionError):
    """A database, object store, executor or remote service could not be reached."""

    exit_code = 8
    http_status = 503
    code = "SERVICE_UNAVAILABLE"


class Unsupported(InvalidInput):
    """A field or option crowdline does not implement; the message names it."""

    code = "UNSUPPORTED_FIELD"


class UploadTooLarge(InvalidInput):
    """An upload (or one cell, line or item of it) is over its size limit."""

    http_status = 413
    code = "PAYLOAD_TOO_LARGE"


class WorkspaceNotFound(NotFound):
    pass


class IntegrityError(CrowdlineError, RuntimeError):
    """Stored data failed a consistency check (see ``crowdline fsck``)."""

    exit_code = 9
    code = "INTEGRITY_ERROR"


# --- store --------------------------------------------------------------------------------


class RepoNotFound(NotFound):
    pass


class BranchNotFound(NotFound):
    pass


class CommitNotFound(NotFound):
    pass


class FileNotFound(NotFound):
    pass


class RepoExists(AlreadyExists):
    pass


class CommitFinished(Conflict):
    """The commit is finished (immutable) or gone; start a new commit to change anything."""

    code = "COMMIT_FINISHED"


class BranchMoved(Conflict):
    """Another writer moved the branch and touched the same paths; retry on the new head."""

    code = "BRANCH_MOVED"


class BadPath(InvalidInput):
    code = "BAD_PATH"


class BadName(InvalidInput):
    code = "BAD_NAME"


# --- pipelines ----------------------------------------------------------------------------


class BadSpec(InvalidInput):
    """A pipeline spec is malformed; the message names the field."""

    code = "BAD_PIPELINE_SPEC"


class PipelineNotFound(NotFound):
    pass


class PipelineAlreadyExists(AlreadyExists):
    pass


class JobNotFound(NotFound):
    pass


class DatumNotFound(NotFound):
    pass


class SecretNotFound(NotFound):
    pass


class DatumFailed(CrowdlineError, RuntimeError):
    """A datum failed every try; its error and log are in ``crowdline job logs``."""

    exit_code = 10
    code = "DATUM_FAILED"


class InvalidTransition(Conflict):
    """A job or datum was asked to move to a state its state machine does not allow."""


# --- crowd --------------------------------------------------------------------------------


class ProjectNotFound(NotFound):
    pass


class PoolNotFound(NotFound):
    pass


class TaskNotFound(NotFound):
    pass


class TaskSuiteNotFound(NotFound):
    pass


class AssignmentNotFound(NotFound):
    pass


class WorkerNotFound(NotFound):
    pass


class SkillNotFound(NotFound):
    pass


class RestrictionNotFound(NotFound):
    pass


class PoolClosed(Conflict):
    """The pool is not open (or is archived) for what was asked."""

    code = "POOL_CLOSED"


class AssignmentNotActive(Conflict):
    """The assignment already left the state this needs (submitted, skipped, expired...)."""

    code = "ASSIGNMENT_NOT_ACTIVE"


class AssignmentExpired(Conflict):
    code = "ASSIGNMENT_EXPIRED"


class NotYourAssignment(PermissionDenied):
    code = "NOT_YOUR_ASSIGNMENT"


class UnknownLabel(InvalidInput):
    code = "UNKNOWN_LABEL"


# crowd: asynchronous operations (Toloka-compatible API)


class OperationNotFound(NotFound):
    pass


class OperationAlreadyExists(Conflict):
    """An operation with this id was already submitted; fetch it instead of resubmitting."""

    code = "OPERATION_ALREADY_EXISTS"


# --- aggregate / model --------------------------------------------------------------------


# model (the model in the loop)


class BadTrainingData(InvalidInput):
    """Texts and labels cannot train a model (empty, one class, mismatched lengths...)."""

    code = "BAD_TRAINING_DATA"


class ModelNotFitted(Conflict):
    """A model was asked to predict or be saved before ``fit``."""

    code = "MODEL_NOT_FITTED"


class ModelVersionNotFound(NotFound):
    pass


class BadModelFile(InvalidInput):
    """A saved model file is not one crowdline wrote (or was written by another model class)."""

    code = "BAD_MODEL_FILE"


# --- aggregate ----------------------------------------------------------------------------


class MissingColumns(InvalidInput, KeyError):
    """A frame lacks columns an operation needs. Also a ``KeyError``: pandas (and crowd-kit,
    whose users catch ``KeyError``) raise that for a missing column."""

    code = "MISSING_COLUMNS"

    __str__ = CrowdlineError.__str__  # KeyError's own __str__ would quote the message
