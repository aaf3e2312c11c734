"""The tools the suite relies on are installed and work."""

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment


def test_temporal_cli_runs(temporal_cli_path: Path) -> None:
    result = subprocess.run(
        [str(temporal_cli_path), "--version"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "temporal version" in result.stdout


def test_temporal_test_server_is_installed(temporal_test_server_path: Path) -> None:
    assert temporal_test_server_path.is_file()
    assert os.access(temporal_test_server_path, os.X_OK)


async def test_time_skipping_env_skips_a_year_at_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    before = await time_skipping_env.get_current_time()
    assert before.utcoffset() == timedelta(0)

    await time_skipping_env.sleep(timedelta(days=365))

    after = await time_skipping_env.get_current_time()
    assert after - before >= timedelta(days=365)
    assert datetime.now(UTC) - before < timedelta(days=1)


@dataclass
class _Appointment:
    on: date
    at: datetime


async def test_environments_carry_dates_inside_dataclasses(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appointment = _Appointment(on=date(2041, 2, 11), at=datetime(2041, 2, 11, 9, 30, tzinfo=UTC))
    converter = time_skipping_env.client.data_converter

    payloads = await converter.encode([appointment])
    [decoded] = await converter.decode(payloads, [_Appointment])

    assert decoded == appointment


async def test_local_env_serves_the_default_namespace(local_env: WorkflowEnvironment) -> None:
    response = await local_env.client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )

    assert response.namespace_info.name == "default"
    assert [workflow async for workflow in local_env.client.list_workflows()] == []


def test_database_url_gives_an_empty_database_of_its_own(database_url: str) -> None:
    engine = sqlalchemy.create_engine(database_url)
    try:
        assert sqlalchemy.inspect(engine).get_table_names() == []
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            connection.execute(sqlalchemy.text("INSERT INTO probe (id) VALUES (7)"))
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SELECT id FROM probe")).scalar_one() == 7
    finally:
        engine.dispose()
