"""`pydantic_converter`: Temporal's pydantic data converter, with one cache of
validation schemas for the whole worker.

Pydantic's `TypeAdapter` is what turns a payload's JSON back into a journey's
dataclasses; building one for `JourneyInput` (the policy and the whole journey
state) takes tens of milliseconds. The SDK's pydantic converter caches them,
but every workflow instance gets a payload converter of its own, so its cache
started empty for each journey: the schemas were built again at each journey's
first task, and at every replay after it left the worker's cache (at an 08:00
herd, thousands of them; docs/benchmarks.md, "Where the time goes"). Here every
converter shares one cache. A type defined in a module the sandbox re-imports
is a new class in each run and gains nothing from it, so the workflows' input
types live in passed-through modules (`workflows.inputs`, `rules`,
`activities`).

The payloads are the same JSON as with `temporalio.contrib.pydantic`'s
converter: histories recorded with either replay with the other.
"""

from __future__ import annotations

import functools
import sys
import typing
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

# As many as the SDK's own cache holds; least recently used leave first.
MAX_CACHED_TYPE_ADAPTERS = 1024

# The worker's modules, as this module is imported outside any sandbox. Inside
# one, `sys.modules` is the sandbox's own.
_WORKER_MODULES = sys.modules

# A TypeAdapter only validates and serializes: one may serve every thread.
shared_type_adapter: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(
    maxsize=MAX_CACHED_TYPE_ADAPTERS
)(TypeAdapter)


def is_shared(hint: Any) -> bool:
    """Whether `hint` is made only of the worker's own classes, the same in
    every workflow run. A class of a module the sandbox re-imports is new in
    each run: kept in the shared cache, it would keep its whole run alive."""
    if hint is None or hint is Any or hint is type(None):
        return True
    origin = typing.get_origin(hint)
    if origin is not None:
        # Union, Optional, Literal and the like are typing's own.
        typing_own = getattr(origin, "__module__", None) == "typing"
        return (typing_own or is_shared(origin)) and all(
            is_shared(a) for a in typing.get_args(hint)
        )
    if not isinstance(hint, type):
        return False  # a value in the hint (Literal, Annotated): not worth the risk
    found: Any = _WORKER_MODULES.get(hint.__module__)
    for name in hint.__qualname__.split("."):
        found = getattr(found, name, None)
    return found is hint


class SharedSchemasJSONConverter(PydanticJSONPlainPayloadConverter):
    """The SDK's pydantic JSON converter, its TypeAdapters for the worker's own
    classes from the shared cache, for the others from its own."""

    def __init__(self) -> None:
        super().__init__(max_cached_type_adapters=MAX_CACHED_TYPE_ADAPTERS)
        self._own_type_adapter = self._type_adapter
        self._type_adapter = self._adapter  # type: ignore[assignment]

    def _adapter(self, hint: Any) -> TypeAdapter[Any]:
        if is_shared(hint):
            return shared_type_adapter(hint)
        return self._own_type_adapter(hint)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_type_adapter")
        state.pop("_own_type_adapter")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._own_type_adapter = functools.lru_cache(maxsize=MAX_CACHED_TYPE_ADAPTERS)(TypeAdapter)
        self._type_adapter = self._adapter  # type: ignore[assignment]


class SharedSchemasPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converters, JSON done by pydantic with the
    shared cache (what `temporalio.contrib.pydantic.PydanticPayloadConverter`
    builds, with its own cache)."""

    def __init__(self) -> None:
        json_converter = SharedSchemasJSONConverter()
        super().__init__(
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


pydantic_converter = DataConverter(payload_converter_class=SharedSchemasPayloadConverter)
