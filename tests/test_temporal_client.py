import asyncio
from datetime import date
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

import temporal_client
import worker
from codec import ENCRYPTION_KEYS_VARIABLE, KEY_ID_METADATA, KeyRingError, new_key_entry
from codec.payloads import pydantic_converter


async def test_connect_uses_the_address_from_the_environment(
    local_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        temporal_client.ADDRESS_VARIABLE, local_env.client.service_client.config.target_host
    )
    monkeypatch.delenv(ENCRYPTION_KEYS_VARIABLE, raising=False)

    client = await temporal_client.connect()

    response = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert response.namespace_info.name == "default"
    assert client.data_converter is pydantic_converter
    [decoded] = await client.data_converter.decode(
        await client.data_converter.encode([date(2041, 1, 7)]), [date]
    )
    assert decoded == date(2041, 1, 7)


async def test_with_keys_set_every_payload_is_encrypted_with_the_newest(
    local_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        temporal_client.ADDRESS_VARIABLE, local_env.client.service_client.config.target_host
    )
    monkeypatch.setenv(
        ENCRYPTION_KEYS_VARIABLE, f"{new_key_entry('k-new')},{new_key_entry('k-old')}"
    )

    client = await temporal_client.connect()

    [payload] = await client.data_converter.encode(["Ottoline Quarrington"])
    assert payload.metadata[KEY_ID_METADATA] == b"k-new"
    assert b"Quarrington" not in payload.data
    [decoded] = await client.data_converter.decode([payload], [str])
    assert decoded == "Ottoline Quarrington"


def test_a_malformed_key_list_is_refused_naming_the_entry() -> None:
    with pytest.raises(KeyRingError, match=r"IPS_ENCRYPTION_KEYS: entry 2 \(k2\): the key is 3 "):
        temporal_client.data_converter({ENCRYPTION_KEYS_VARIABLE: f"{new_key_entry('k1')},k2:YWJj"})


def test_find_program_names_the_fix_when_a_program_is_missing() -> None:
    with pytest.raises(FileNotFoundError, match="make run"):
        temporal_client.find_program("temporal-no-such-program")


async def test_a_server_with_the_search_attributes_passes_the_check(
    local_env: WorkflowEnvironment,
) -> None:
    await temporal_client.check_search_attributes(local_env.client)


async def test_the_worker_will_not_start_on_a_server_without_the_search_attributes(
    temporal_cli_path: Path, tmp_path: Path
) -> None:
    """Journeys would stop at their first step there: the worker says so instead,
    naming each missing one, and one registered with another type."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path),
        data_converter=pydantic_converter,
        dev_server_extra_args=["--search-attribute", "NextDue=Keyword"],
    ) as env:
        with pytest.raises(temporal_client.SearchAttributesMissing) as refused:
            await worker.serve(
                env.client, database_url=f"sqlite:///{tmp_path / 'ips.db'}", stop=asyncio.Event()
            )

    message = str(refused.value)
    for missing in ("Specialist (Keyword)", "Team (Keyword)", "Phase (Keyword)"):
        assert missing in message
    assert "InOutreach (Bool)" in message and "NextDue (Datetime)" in message
    assert "temporal operator search-attribute create" in message
    assert not (tmp_path / "ips.db").exists()
