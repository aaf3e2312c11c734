"""Errors a caller of the store can cause, each naming the field at fault."""


class StoreError(Exception):
    """A change the store refuses; nothing was written.

    `field` names the offending field (for example `ConsumerRecord.specialist_id`)
    when there is one, so an API can point at it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class InvalidValueError(StoreError, ValueError):
    """A value the store cannot keep: a naive datetime, an unknown status, a bad phone."""


class UnknownReferenceError(StoreError):
    """A field names a supervisor, specialist or consumer that is not stored."""


class NotFoundError(StoreError, LookupError):
    """The row to change does not exist."""
