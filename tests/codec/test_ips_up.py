"""`ips up` with IPS_ENCRYPTION_KEYS, as the operator runs it: the staff commands
work as before, Temporal keeps only ciphertext, and the Temporal web page is
pointed at the API's codec server, which gives an admin the journey back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from typer.testing import CliRunner

from cli.main import app
from cli.up import READY_MESSAGE
from codec import ENCODING, ENCRYPTION_KEYS_VARIABLE, new_key_entry
from tests.api.test_codec import as_json, from_json
from tests.cli.test_up import _free_port, _up_command

TZ = "America/New_York"
PLACE = "Lindqvist Community Hall, room 4"
START_TIMEOUT_SECONDS = 90


def _environment(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("IPS_")} | extra


async def _update_arguments(address: str, workflow_id: str) -> list[Payload]:
    """The recorded events' payloads, as a client without keys reads them."""
    client = await Client.connect(address)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    payloads = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            payloads.extend(request.input.args.payloads)
    return payloads


@pytest.mark.skipif(sys.platform != "linux", reason="runs `ips up` as on the agency's server")
@pytest.mark.timeout(300)
def test_ips_up_encrypts_and_its_web_page_decodes_through_the_api(tmp_path: Path) -> None:
    key = new_key_entry("k-up")
    temporal_port, ui_port, api_port = _free_port(), _free_port(), _free_port()
    data_dir = tmp_path / "var"
    process = subprocess.Popen(
        _up_command(data_dir, temporal_port, ui_port, api_port),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_environment(**{ENCRYPTION_KEYS_VARIABLE: key}),
    )
    output: list[str] = []
    ready = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if READY_MESSAGE in line:
                ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    staff_env = {
        "IPS_DATABASE_URL": f"sqlite:///{data_dir / 'ips.db'}",
        "IPS_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        ENCRYPTION_KEYS_VARIABLE: key,
        "IPS_TOKEN": "",
    }

    def ips(*args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=staff_env)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    ui = f"http://127.0.0.1:{ui_port}"
    api = f"http://127.0.0.1:{api_port}"
    try:
        assert ready.wait(START_TIMEOUT_SECONDS), "".join(output)
        shown = "".join(output)
        assert "Payloads:          encrypted (newest key k-up)" in shown
        assert f"{api}/codec/sign-in" in shown
        with urllib.request.urlopen(f"{ui}/api/v1/settings", timeout=10) as answer:
            assert json.load(answer)["Codec"]["Endpoint"] == f"{api}/codec"

        ips("people", "add", "supervisor", "--id", "sup-1", "--name", "Pat Kim",
            "--email", "pat@example.org", "--timezone", TZ)  # fmt: skip
        ips("people", "add", "specialist", "--id", "es-1", "--name", "Jordan Lee",
            "--email", "jordan@example.org", "--timezone", TZ, "--supervisor", "sup-1")  # fmt: skip
        ips("people", "add", "consumer", "--id", "c-1", "--name", "Ottoline Quarrington",
            "--specialist", "es-1", "--timezone", TZ)  # fmt: skip
        ips("users", "add", "admin", "--name", "Admin", "--role", "admin")
        token = json.loads(ips("tokens", "create", "admin", "--json"))["token"]
        ips("refer", "c-1")
        ips(
            "event", "c-1", "appointment_scheduled", "-f", "appointment_id=a-1",
            "-f", "start=2099-01-05T10:00", "-f", "duration_minutes=30", "-f", f"place={PLACE}",
        )  # fmt: skip
        assert "a-1" in ips("show", "c-1", "--json")

        stored = asyncio.run(_update_arguments(f"127.0.0.1:{temporal_port}", "journey-c-1"))
        assert len(stored) == 2
        assert all(p.metadata["encoding"] == ENCODING for p in stored)
        assert not any(PLACE.encode() in p.SerializeToString() for p in stored)

        decoded = httpx.post(
            f"{api}/codec/decode",
            json={"payloads": [as_json(p) for p in stored]},
            headers={"Authorization": f"Bearer {token}", "Origin": ui, "X-Namespace": "default"},
            timeout=30,
        )
        assert decoded.status_code == 200, decoded.text
        assert decoded.headers["Access-Control-Allow-Origin"] == ui
        plain = [from_json(item) for item in decoded.json()["payloads"]]
        assert [json.loads(p.data)["type"] for p in plain] == ["referred", "appointment_scheduled"]
        assert json.loads(plain[1].data)["fields"]["place"] == PLACE
        assert httpx.get(f"{api}/codec/sign-in", timeout=30).status_code == 200
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert "Traceback" not in "".join(output)


def test_ips_up_refuses_a_malformed_key_list_before_starting_anything(tmp_path: Path) -> None:
    key = new_key_entry("k1")
    result = subprocess.run(
        _up_command(tmp_path, _free_port(), _free_port(), _free_port()),
        env=_environment(**{ENCRYPTION_KEYS_VARIABLE: f"{key},{key}"}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "IPS_ENCRYPTION_KEYS: entry 2 (k1): the key id is entry 1's too" in result.stderr
    assert key.split(":")[1] not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "temporal.db").exists()
