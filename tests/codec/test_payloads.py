"""The shared cache of validation schemas (`codec.payloads`): a journey's
input schema is built once per worker, not once per journey, and a class of a
sandboxed run never enters the shared cache (it would keep its run alive)."""

from __future__ import annotations

import importlib.util
from typing import Any

from codec.payloads import is_shared, pydantic_converter
from rules.events import EventEnvelope
from rules.journey import JourneyState
from workflows import inputs
from workflows.inputs import JourneyInput


def test_the_workers_own_classes_are_shared() -> None:
    assert is_shared(JourneyInput)
    assert is_shared(EventEnvelope)
    assert is_shared(JourneyState | None)
    assert is_shared(list[EventEnvelope])
    assert is_shared(dict[str, Any])
    assert is_shared(str)


def test_a_class_of_a_re_imported_module_is_not_shared() -> None:
    """What the sandbox does to a workflow module: the same source, loaded again
    as a module of its own, gives classes of the same name that are new."""
    spec = importlib.util.spec_from_file_location(inputs.__name__, inputs.__file__)
    assert spec is not None and spec.loader is not None
    again = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(again)
    assert again.JourneyInput.__qualname__ == JourneyInput.__qualname__
    assert not is_shared(again.JourneyInput)
    assert not is_shared(again.JourneyInput | None)


def test_payloads_are_the_same_json_as_the_sdks_converter() -> None:
    from temporalio.contrib.pydantic import pydantic_data_converter

    value = EventEnvelope(
        event_id="e-1", type="referred", at="2041-01-07T10:00:00-05:00", consumer="c-1"
    )
    [ours] = pydantic_converter.payload_converter.to_payloads([value])
    [sdks] = pydantic_data_converter.payload_converter.to_payloads([value])
    assert ours == sdks
    [back] = pydantic_converter.payload_converter.from_payloads([sdks], [EventEnvelope])
    assert back == value
