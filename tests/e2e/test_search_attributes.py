"""A supervisor filters journeys in the Temporal UI of `ips up`: `ips up` in its
own process, a team recorded with the staff commands, and the journeys listed by
Specialist, Phase and Team through the UI's own HTTP API (what its search box
asks) and through the Temporal client."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

import temporal_client
from cli.main import app
from tests.cli.test_up import _free_port, _up_command, ips_up_running

TZ = "America/New_York"
README = Path(__file__).resolve().parents[2] / "README.md"
# Visibility is eventually consistent: a journey shows in a listing a moment
# after its attributes change.
VISIBLE_WITHIN_SECONDS = 30


@dataclass
class Stack:
    temporal_address: str
    ui: str
    env: dict[str, str]

    def ips(self, *args: str) -> None:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, (args, result.output)

    def ui_list(self, query: str) -> dict[str, dict[str, Any]]:
        """The journeys the Temporal UI lists for `query`: their attributes by workflow id."""
        response = httpx.get(
            f"{self.ui}/api/v1/namespaces/default/workflows", params={"query": query}, timeout=10
        )
        assert response.status_code == 200, response.text
        return {
            execution["execution"]["workflowId"]: _attributes(execution)
            for execution in response.json().get("executions", [])
        }

    def client_list(self, query: str) -> set[str]:
        async def listed() -> set[str]:
            client = await temporal_client.connect(self.temporal_address)
            return {workflow.id async for workflow in client.list_workflows(query)}

        return asyncio.run(listed())


def _attributes(execution: dict[str, Any]) -> dict[str, Any]:
    """The search attributes as the UI shows them: JSON payloads, base64-encoded."""
    fields = execution.get("searchAttributes", {}).get("indexedFields", {})
    return {name: json.loads(base64.b64decode(value["data"])) for name, value in fields.items()}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    temporal_port, ui_port = _free_port(), _free_port()
    data_dir = tmp_path / "var"
    command = _up_command(data_dir, temporal_port, ui_port, _free_port())
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPS_")}
    with ips_up_running(command, environment) as up:
        yield Stack(
            temporal_address=f"127.0.0.1:{temporal_port}",
            ui=f"http://127.0.0.1:{ui_port}",
            env={
                "IPS_DATABASE_URL": f"sqlite:///{data_dir / 'ips.db'}",
                "IPS_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
                "IPS_TOKEN": "",
            },
        )
    assert "Traceback" not in "".join(up.output)


def _eventually(what: str, expected: set[str], read: Callable[[], set[str]]) -> None:
    """Poll `read()` until it answers `expected`, for a bounded time; then compare."""
    deadline = time.monotonic() + VISIBLE_WITHIN_SECONDS
    found = read()
    while found != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        found = read()
    assert found == expected, what


@pytest.mark.skipif(sys.platform != "linux", reason="runs `ips up` as on the agency's server")
@pytest.mark.timeout(300)
def test_the_temporal_ui_lists_journeys_by_specialist_and_phase(stack: Stack) -> None:
    ips = stack.ips
    for supervisor in ("sup-1", "sup-2"):
        ips(
            "people", "add", "supervisor", "--id", supervisor, "--name", "Pat Kim",
            "--email", f"{supervisor}@example.org", "--timezone", TZ,
        )  # fmt: skip
    for specialist, supervisor in (("es-1", "sup-1"), ("es-2", "sup-2")):
        ips(
            "people", "add", "specialist", "--id", specialist, "--name", "Jordan Lee",
            "--email", f"{specialist}@example.org", "--channels", "email",
            "--timezone", TZ, "--supervisor", supervisor,
        )  # fmt: skip
    # es-1: c-1 referred, c-2 and c-3 looking for work, c-5 working;
    # es-2: c-4 looking for work, c-6 referred.
    journeys = {"c-1": "es-1", "c-2": "es-1", "c-3": "es-1", "c-4": "es-2", "c-5": "es-1"}
    journeys["c-6"] = "es-2"
    for consumer, specialist in journeys.items():
        ips(
            "people", "add", "consumer", "--id", consumer, "--name", "Alex Smith",
            "--specialist", specialist, "--timezone", TZ,
        )  # fmt: skip
        ips("refer", consumer)
    for consumer in ("c-2", "c-3", "c-4", "c-5"):
        ips("event", consumer, "first_meeting")
    today = datetime.now(ZoneInfo(TZ)).date().isoformat()
    ips(
        "event", "c-5", "job_started", "-f", "job_id=j-1", "-f", "employer=Acme Foods",
        "-f", "title=Stock associate", "-f", f"start_date={today}", "-f", "hours_per_week=20",
        "-f", "hourly_wage=15.5", "-f", "competitive=true",
    )  # fmt: skip

    query = 'Specialist = "es-1" AND Phase = "job_search"'
    _eventually(
        "the UI lists es-1's journeys looking for work",
        {"journey-c-2", "journey-c-3"},
        lambda: set(stack.ui_list(query)),
    )
    shown = stack.ui_list(query)["journey-c-2"]
    assert (shown["Specialist"], shown["Team"], shown["Phase"]) == ("es-1", "sup-1", "job_search")
    assert shown["InOutreach"] is False
    _eventually(
        "the UI lists es-1's working journey",
        {"journey-c-5"},
        lambda: set(stack.ui_list('Specialist = "es-1" AND Phase = "working"')),
    )
    assert stack.client_list(query) == {"journey-c-2", "journey-c-3"}
    assert stack.client_list('Team = "sup-2"') == {"journey-c-4", "journey-c-6"}
    assert stack.client_list('Phase = "referred"') == {"journey-c-1", "journey-c-6"}

    # Every example query in the README is one the server accepts.
    examples = _readme_queries()
    assert len(examples) >= 3
    for example in examples:
        stack.client_list(example)


def _readme_queries() -> list[str]:
    section = README.read_text("utf-8").split("\n## Finding journeys in the Temporal UI\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    block = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert block, "the README shows no example queries"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("--")]
