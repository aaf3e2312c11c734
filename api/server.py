"""Serving the API with uvicorn inside an event loop someone else runs (`ips up`
runs the worker in the same loop): the caller decides when it stops, so uvicorn
installs no signal handlers of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from types import TracebackType

import uvicorn

from api.app import create_app
from api.codec import CodecSettings
from api.feeds import HideFeedTokens
from api.webhooks import WebhookSettings
from config import Settings
from service.journeys import Services

# How long a stopping server lets requests under way finish.
GRACEFUL_SHUTDOWN_SECONDS = 10


class ApiError(Exception):
    """The API could not start (its port is taken, say)."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C and SIGTERM belong to the program that runs us.
        yield


class ApiServer:
    """`async with ApiServer(services, host, port):` serves the API in the body.

    Requests are not logged: their addresses name consumers, and a feed's holds
    its token (which `HideFeedTokens` blanks should the access log be turned on).
    """

    def __init__(
        self,
        services: Services,
        *,
        host: str,
        port: int,
        webhook_settings: WebhookSettings | None = None,
        codec_settings: CodecSettings | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(
            create_app(services, webhook_settings, codec_settings, settings=settings),
            host=host,
            port=port,
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        access_log = logging.getLogger("uvicorn.access")
        if not any(isinstance(f, HideFeedTokens) for f in access_log.filters):
            access_log.addFilter(HideFeedTokens())
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> ApiServer:
        self._task = asyncio.create_task(self._serve())
        while not self._server.started:
            if self._task.done():
                await self._task  # raises ApiError
                raise ApiError(f"the web API stopped while starting on {self.url}")
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except SystemExit:
            # uvicorn exits when it cannot listen; it has logged why.
            raise ApiError(
                f"the web API could not listen on {self.host}:{self.port} "
                "(is another program using the port?)"
            ) from None
