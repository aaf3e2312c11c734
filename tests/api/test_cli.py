"""`ips api` serves the API alone, as staff run it: its own process, the
database and Temporal of the environment, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

IPS = Path(sys.executable).parent / "ips"
START_TIMEOUT_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def _environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IPS_DATABASE_URL": f"sqlite:///{tmp_path / 'ips.db'}",
        # Nothing listens there: the API starts anyway and says Temporal is down.
        "IPS_TEMPORAL_ADDRESS": f"127.0.0.1:{_free_port()}",
    }


def test_ips_api_serves_until_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [str(IPS), "api", "--port", str(port)],
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                alive = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "ips api did not start"
                assert process.poll() is None, process.communicate()[0]
                time.sleep(0.2)
        ready = _get(f"http://127.0.0.1:{port}/readyz")
        unauthenticated = _get(f"http://127.0.0.1:{port}/consumers")

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert alive == (200, {"status": "ok"})
    assert ready == (503, {"status": "unavailable", "database": "ok", "temporal": "unavailable"})
    assert unauthenticated[0] == 401
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "Traceback" not in output
    assert (tmp_path / "ips.db").is_file()


def test_ips_api_says_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])

        result = subprocess.run(
            [str(IPS), "api", "--port", str(port)],
            env=_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_ips_api_refuses_to_start_with_a_malformed_webhook_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(IPS), "api", "--port", str(_free_port())],
        env={**_environment(tmp_path), "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkwEwYHKo"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY is not an elliptic-curve public key" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
