"""Errors an operation can end in, each one a person can act on.

The API maps them to HTTP answers (404, 409, 422, 401, 503) and the CLI to a
message on stderr and a non-zero exit.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error an operation reports to its caller."""


class NotFound(ServiceError):
    """No such record, or one the caller may not see: the answer is the same."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"no {kind} {id!r}")
        self.kind = kind
        self.id = id


class Invalid(ServiceError):
    """Bad input: `field` names it, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Conflict(Invalid):
    """The input clashes with what is stored (an id in use, say)."""


class Unauthenticated(ServiceError):
    """No token, or one that is unknown, expired or revoked."""


class Unavailable(ServiceError):
    """The database or Temporal does not answer; nothing was changed."""

    def __init__(self, what: str, retry_after: int = 5) -> None:
        super().__init__(f"the {what} is not answering; nothing was changed, try again shortly")
        self.what = what
        self.retry_after = retry_after
