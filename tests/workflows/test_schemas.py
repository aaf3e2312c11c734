"""A journey's input schema is built once per worker, not once per journey
(`codec.payloads`): at an 08:00 herd, thousands of journeys replay, each in a
sandbox of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from codec.payloads import pydantic_converter, shared_type_adapter
from tests.workflows.conftest import CONSUMER, CONSUMER_WITH_TEAM, Journeys


@pytest.fixture
def schemas_built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the types pydantic builds a schema for from now on, with the
    shared cache emptied first."""
    built: list[str] = []
    original = TypeAdapter.__init__

    def recording(self: TypeAdapter[Any], type: Any, *args: Any, **kwargs: Any) -> None:
        built.append(getattr(type, "__qualname__", repr(type)))
        original(self, type, *args, **kwargs)

    shared_type_adapter.cache_clear()
    monkeypatch.setattr(TypeAdapter, "__init__", recording)
    yield built
    shared_type_adapter.cache_clear()


async def test_a_journeys_input_schema_is_built_once_for_the_worker(
    journeys: Journeys, schemas_built: list[str]
) -> None:
    assert journeys.client.data_converter is pydantic_converter
    await journeys.send("referred", "2041-01-07T10:00", consumer=CONSUMER)
    await journeys.send("referred", "2041-01-07T11:00", consumer=CONSUMER_WITH_TEAM)

    assert (await journeys.state(CONSUMER)).consumer == CONSUMER
    assert (await journeys.state(CONSUMER_WITH_TEAM)).consumer == CONSUMER_WITH_TEAM
    # Two journeys started, each in a sandbox of its own: one schema for both.
    assert schemas_built.count("JourneyInput") == 1
    assert schemas_built.count("EventEnvelope") <= 1
