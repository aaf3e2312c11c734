"""Event request bodies, built from the event models of `rules.events` so that
the API, the CLI and scenario files share one set of field names and checks.

`consumer` and `recorded_by` are not in the body: the consumer comes from the
path and the recorder from the token. `event_id` is optional (the idempotency
key: a retry with the same id changes nothing).
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from rules import events

EventId = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "Your id for this event. A retry with the same id changes nothing, so "
            "choose one before the first try; without it the server picks one."
        ),
    ),
]

AT_DESCRIPTION = "When it happened: ISO 8601, the consumer's local time unless an offset is given."

_FROM_PATH_OR_TOKEN = ("consumer", "recorded_by")


def request_model(
    event_model: type[BaseModel],
    *,
    drop: tuple[str, ...] = (),
    name: str | None = None,
    at_description: str = AT_DESCRIPTION,
) -> type[BaseModel]:
    """The body for `event_model`: its own fields, minus those the path and token give."""
    fields: dict[str, Any] = {}
    own = event_model.model_fields
    for field_name in ("type", "event_id", *own):
        if field_name in fields or field_name in _FROM_PATH_OR_TOKEN or field_name in drop:
            continue
        if field_name == "event_id":
            fields[field_name] = (EventId, None)
            continue
        info = own[field_name]
        if field_name == "at":
            info = FieldInfo.merge_field_infos(info, description=at_description)
        fields[field_name] = (info.annotation, info)
    return create_model(
        name or event_model.__name__,
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"A `{_type_of(event_model)}` event (SPEC §4).",
        **fields,
    )


def _type_of(event_model: type[BaseModel]) -> str:
    (event_type,) = typing.get_args(event_model.model_fields["type"].annotation)
    return str(event_type)


_EVENT_MODELS: tuple[type[BaseModel], ...] = typing.get_args(typing.get_args(events.Event)[0])
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    _type_of(model): request_model(model) for model in _EVENT_MODELS
}
assert tuple(REQUEST_MODELS) == events.EVENT_TYPES, "every SPEC §4 type has a request body"

# The bodies are built at run time, which mypy cannot follow: to it they are
# plain models, to FastAPI and the OpenAPI schema the precise ones.
if TYPE_CHECKING:
    EventIn = BaseModel
    EmployerContactIn = BaseModel
else:
    # One body for every type, told apart by `type`.
    EventIn = Annotated[
        Union[tuple(REQUEST_MODELS.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]
    # An employer contact of the specialist's own: the specialist is in the path.
    EmployerContactIn = request_model(
        events.EmployerContact,
        drop=("type", "specialist"),
        name="OwnEmployerContact",
        at_description=(
            "When it happened: ISO 8601, the specialist's local time unless an offset is given."
        ),
    )
