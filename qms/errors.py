"""Domain errors; the HTTP layer maps each to a status and a problem+json body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (or one row of an import)."""

    field: str
    message: str
    row: int | None = None


class QMSError(Exception):
    """Base of every error the domain raises on purpose."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(QMSError):
    """The record does not exist, or the actor may not see it."""

    title = "Not found"


class Unauthenticated(QMSError):
    """No valid credentials."""

    title = "Unauthenticated"


class TooManyFailures(Unauthenticated):
    """This client failed to authenticate too often in a row: it waits before trying again."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Forbidden(QMSError):
    """The actor's role may not do this."""

    title = "Forbidden"


class Conflict(QMSError):
    """The request conflicts with the current state (a duplicate code, say)."""

    title = "Conflict"


class InvalidTransition(Conflict):
    """A workflow move that the state machine does not allow from the current state."""

    title = "Invalid transition"

    def __init__(self, detail: str, *, allowed: Sequence[str]) -> None:
        super().__init__(detail)
        self.allowed = list(allowed)


class StaleVersion(QMSError):
    """The If-Match version is not the record's current one."""

    title = "Precondition failed"


class PreconditionRequired(QMSError):
    """A change was sent without If-Match."""

    title = "Precondition required"


class TooLarge(QMSError):
    """The upload is larger than the service takes."""

    title = "Payload too large"


class ValidationFailed(QMSError):
    """The input breaks a rule; `errors` names each field or row."""

    title = "Validation failed"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)


class SignatureRequired(ValidationFailed):
    """A move that is an electronic signature came without the signer's confirmation; it says
    the meaning to confirm and the statement that would be signed, to show the signer."""

    def __init__(
        self, detail: str, errors: Sequence[FieldError], *, meaning: str, statement: str
    ) -> None:
        super().__init__(detail, errors)
        self.meaning = meaning
        self.statement = statement
