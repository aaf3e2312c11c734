"""`ips up` as staff run it: the real command in its own process."""

import contextlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.up import READY_MESSAGE

IPS = Path(sys.executable).parent / "ips"
START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30


def _worker_serve_missing() -> bool:
    if importlib.util.find_spec("worker") is None:
        return True
    return not hasattr(importlib.import_module("worker"), "serve")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def _port_answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _up_command(data_dir: Path, temporal_port: int, ui_port: int, api_port: int) -> list[str]:
    return [
        str(IPS),
        "up",
        "--data-dir",
        str(data_dir),
        "--temporal-port",
        str(temporal_port),
        "--ui-port",
        str(ui_port),
        "--api-port",
        str(api_port),
    ]


@dataclass
class RunningIpsUp:
    process: subprocess.Popen[str]
    # Its output lines, which grow while it runs; all of them once it stopped.
    output: list[str]


@contextlib.contextmanager
def ips_up_running(command: list[str], env: dict[str, str]) -> Iterator[RunningIpsUp]:
    """`ips up` (`command`) in its own process, once it says it is ready;
    stopped on the way out if it still runs."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    ready = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if READY_MESSAGE in line:
                ready.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        assert ready.wait(START_TIMEOUT_SECONDS), "".join(output)
        yield RunningIpsUp(process, output)
    finally:
        stop_process(process)
        reader.join(timeout=5)


def stop_process(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then after STOP_TIMEOUT_SECONDS SIGKILL, unless it already ended."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.skipif(
    _worker_serve_missing(), reason="worker.serve does not exist yet: `ips up` has nothing to run"
)
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigterm_stops_everything_it_started(tmp_path: Path) -> None:
    temporal_port, ui_port, api_port = _free_port(), _free_port(), _free_port()
    command = _up_command(tmp_path / "var", temporal_port, ui_port, api_port)
    environment = {k: v for k, v in os.environ.items() if k != "IPS_DATABASE_URL"}
    with ips_up_running(command, environment) as up:
        started = _children(up.process.pid)
        assert started, "`ips up` said it was ready but runs no Temporal server"
        assert _port_answers(temporal_port)
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/readyz", timeout=10) as ready:
            assert json.load(ready) == {"status": "ready", "database": "ok", "temporal": "ok"}

        up.process.send_signal(signal.SIGTERM)

        assert up.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, "".join(up.output)
    assert "Traceback" not in "".join(up.output)
    assert [pid for pid in started if _is_running(pid)] == []
    assert not _port_answers(temporal_port)
    assert not _port_answers(api_port)
    assert (tmp_path / "var" / "temporal.db").is_file()


def test_refuses_a_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])

        result = subprocess.run(
            [str(IPS), "up", "--data-dir", str(tmp_path), "--temporal-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"port {port}" in result.stderr
    assert "--temporal-port" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_explains_the_command_to_staff() -> None:
    result = subprocess.run([str(IPS), "up", "--help"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0
    assert "Ctrl-C" in result.stdout
    for option in ("--data-dir", "--temporal-port", "--ui-port", "--api-port"):
        assert option in result.stdout


def test_refuses_an_api_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])

        result = subprocess.run(
            _up_command(tmp_path, _free_port(), _free_port(), port),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"port {port}" in result.stderr
    assert "--api-port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ({"IPS_PUBLIC_URL": "ips.example.org"}, "IPS_PUBLIC_URL (public_url) is malformed"),
        ({"IPS_SMS_NOTIFIER": "twilio"}, "IPS_SMS_NOTIFIER is twilio, but IPS_TWILIO_ACCOUNT_SID"),
        ({"IPS_EMAIL_NOTIFIER": "e-mail"}, "IPS_EMAIL_NOTIFIER: must be 'auto', 'sendgrid' or"),
    ],
    ids=["malformed", "provider without credentials", "unknown choice"],
)
def test_refuses_a_bad_setting_before_starting_anything(
    tmp_path: Path, setting: dict[str, str], error: str
) -> None:
    result = subprocess.run(
        _up_command(tmp_path, _free_port(), _free_port(), _free_port()),
        env={**os.environ, **setting},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert error in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "temporal.db").exists()
