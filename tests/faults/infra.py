"""What the fault tests break and mend: a Temporal dev server they stop and start
again on its SQLite file, the worker as its own process (`python worker.py`),
and a TCP proxy in front of the app database that they cut and restore.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from temporalio.client import Client

import temporal_client
from codec.payloads import pydantic_converter
from notifiers.sendgrid_email import IDEMPOTENCY_ARG
from notifiers.twilio_sms import CALLBACK_KEY
from store import NotificationRecord
from tests.cli.test_up import _free_port, stop_process
from tests.e2e.test_messaging import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID
from tests.notifiers.conftest import SENDGRID_TEST_KEY
from tests.notifiers.fake_sendgrid import FakeSendGrid
from tests.notifiers.fake_twilio import FakeTwilio
from workflows.search import dev_server_args

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30

T = TypeVar("T")

free_port = _free_port


def wait_for(what: str, check: Callable[[], T | None], timeout: float, every: float = 0.25) -> T:
    """`check()` once it is truthy; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(every)


def provider_env(twilio: FakeTwilio, sendgrid: FakeSendGrid, public_url: str) -> dict[str, str]:
    """The settings that send texts to the fake Twilio and emails to the fake SendGrid."""
    return {
        "IPS_PUBLIC_URL": public_url,
        "IPS_SMS_SENDER_LABEL": "Wellspring Works",
        "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IPS_TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "IPS_TWILIO_BASE_URL": twilio.base_url,
        "IPS_SENDGRID_API_KEY": SENDGRID_TEST_KEY,
        "IPS_SENDGRID_FROM_EMAIL": "reminders@wellspring.example.org",
        "IPS_SENDGRID_HOST": sendgrid.url,
    }


def delivered(twilio: FakeTwilio, sendgrid: FakeSendGrid) -> Counter[str]:
    """How many times each notification (by its idempotency key) reached a
    provider: the key is in a text's status callback URL and in an email's
    custom args."""
    keys: Counter[str] = Counter()
    for message in twilio.messages:
        query = parse_qs(urlsplit(message.form.get("StatusCallback", "")).query)
        keys.update(query.get(CALLBACK_KEY, ["(a text without a key)"]))
    for request in sendgrid.requests:
        if request.body is None:
            continue
        for personalization in request.body.get("personalizations", []):
            args = personalization.get("custom_args", {})
            keys[args.get(IDEMPOTENCY_ARG, "(an email without a key)")] += 1
    return keys


def check_delivered_once(
    notifications: list[NotificationRecord], twilio: FakeTwilio, sendgrid: FakeSendGrid
) -> None:
    """Every journey's notification that is `sent` reached its provider exactly
    once, and nothing reached a provider that is not in the outbox. (The
    agency's sweeps, which may run at their hour, are not waited for.)"""
    counts = delivered(twilio, sendgrid)
    keys = {n.idempotency_key for n in notifications}
    assert set(counts) <= keys, f"sent, but not in the outbox: {sorted(set(counts) - keys)}"
    sent = {n.idempotency_key for n in notifications if n.consumer_id and n.status == "sent"}
    assert {key: counts[key] for key in sent} == dict.fromkeys(sent, 1)


def clean_env() -> dict[str, str]:
    """This process's environment without any IPS_ setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IPS_")}


# ---------------------------------------------------------------- Temporal


class DevServer:
    """`temporal server start-dev` on a SQLite file and a fixed port, which a
    test stops (politely or with SIGKILL) and starts again on the same file."""

    def __init__(self, db_file: Path, log_file: Path, port: int | None = None) -> None:
        self.db_file = db_file
        self.log_file = log_file
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        command = [
            str(temporal_client.find_program(temporal_client.TEMPORAL_CLI)),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            HOST,
            "--port",
            str(self.port),
            "--headless",
            "--log-level",
            "warn",
            *dev_server_args(),
        ]
        with self.log_file.open("ab") as log:
            log.write(f"--- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        wait_for(f"the Temporal dev server on {self.address}", self._serving, START_TIMEOUT_SECONDS)

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"the Temporal dev server exited with code {self.process.returncode}: "
                + self.log_file.read_text(errors="replace")[-2000:]
            )
        try:
            socket.create_connection((HOST, self.port), timeout=1).close()
        except OSError:
            return False

        async def healthy() -> bool:
            client = await self.connect()
            return await client.service_client.check_health(timeout=timedelta(seconds=2))

        try:
            return asyncio.run(healthy())
        except Exception:
            return False

    async def connect(self) -> Client:
        return await Client.connect(self.address, data_converter=pydantic_converter)

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> int:
        """Stop the server (its whole process group) with `signum`; its exit code."""
        process = self.process
        assert process is not None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise AssertionError(
                    f"the Temporal dev server did not stop on {signum.name} within "
                    f"{STOP_TIMEOUT_SECONDS} s"
                ) from None
        return process.returncode

    @contextlib.contextmanager
    def running(self) -> Iterator[DevServer]:
        self.start()
        try:
            yield self
        finally:
            if self.process is not None and self.process.poll() is None:
                self.stop(signal.SIGKILL)


# ---------------------------------------------------------------- the worker


class WorkerProcess:
    """`python worker.py` as the agency runs it, configured by `env`; its output
    lines are kept in `output`."""

    READY = "worker running on task queue"

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.output: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_for("the worker to start", self._ready, START_TIMEOUT_SECONDS)

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited while starting:\n{self.log}")
        return any(self.READY in line for line in self.output)

    @property
    def log(self) -> str:
        return "".join(self.output)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int:
        process = self.process
        assert process is not None
        stop_process(process)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return process.returncode

    @contextlib.contextmanager
    def running(self) -> Iterator[WorkerProcess]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


# ---------------------------------------------------------------- the database


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` closes every connection
    and refuses new ones (nothing listens) until `restore()`: to its clients,
    the database is gone. `hang()` closes every connection too, but takes new
    ones and never answers them: a database that does not answer at all."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._hanging = False
        self._acceptor: threading.Thread | None = None

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = list(self._sockets), set()
        if listener is not None:
            # The accept loop lets go of the port within its timeout.
            if self._acceptor is not None:
                self._acceptor.join(timeout=5)
            listener.close()
        for s in sockets:
            _close(s)

    def hang(self) -> None:
        self.cut()
        self._hanging = True
        self._listen()

    def restore(self) -> None:
        if self._hanging:
            self.cut()
            self._hanging = False
        self._listen()

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.create_server((HOST, self.port))
            # The accept loop looks at `_listener` this often, to see a cut.
            listener.settimeout(0.2)
            self._listener = listener
        self._acceptor = self._start(self._accept, listener)

    def _start(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name="db-proxy", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._hanging:
                with self._lock:
                    self._sockets.add(client)  # held, unanswered, until cut or restored
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            for s in (client, server):
                s.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _close(client)
                    _close(server)
                    return
                self._sockets.update((client, server))
            self._start(self._pump, client, server)
            self._start(self._pump, server, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.difference_update((source, sink))
            _close(source)
            _close(sink)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()
