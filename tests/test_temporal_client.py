from datetime import date

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import temporal_client


async def test_connect_uses_the_address_from_the_environment(
    local_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        temporal_client.ADDRESS_VARIABLE, local_env.client.service_client.config.target_host
    )

    client = await temporal_client.connect()

    response = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert response.namespace_info.name == "default"
    assert client.data_converter is pydantic_data_converter
    [decoded] = await client.data_converter.decode(
        await client.data_converter.encode([date(2041, 1, 7)]), [date]
    )
    assert decoded == date(2041, 1, 7)


def test_find_program_names_the_fix_when_a_program_is_missing() -> None:
    with pytest.raises(FileNotFoundError, match="make run"):
        temporal_client.find_program("temporal-no-such-program")
