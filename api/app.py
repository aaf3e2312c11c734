"""`create_app(services)`: the staff API of SPEC §9, documented at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from api import codec, errors, feeds, health, journeys, people, reports, staff, webhooks
from api.codec import CodecCors, CodecSettings
from api.webhooks import WebhookSettings
from config import Settings, load_settings
from service.journeys import Services

DESCRIPTION = """\
Record what happens in each consumer's IPS journey and see what is due.

Every route but `/healthz`, `/readyz`, the webhooks and the calendar feeds
needs a staff token: `Authorization: Bearer <token>` (the codec routes, which
the Temporal web page calls, also take the cookie of `/codec/sign-in`). The webhooks
(`/webhooks/...`) are for Twilio and SendGrid, whose signature each request must
carry. A calendar feed (`/feeds/<token>.ics`) is opened by the feed token in its
path, made with `POST /feed-tokens`. A specialist sees their own caseload, a
supervisor their team's, an admin everything; anything else answers 404.

Every error is `{"error": {"status", "field", "reason", "message"}}`; `field`
names the input at fault. A 503 (the database or Temporal is down) changed
nothing: try again after `Retry-After` seconds, with the same `event_id`.
"""


def create_app(
    services: Services,
    webhook_settings: WebhookSettings | None = None,
    codec_settings: CodecSettings | None = None,
    *,
    settings: Settings | None = None,
) -> FastAPI:
    """The app over `services`; the webhooks' secrets are `webhook_settings` and the
    codec server's keys and web page origins `codec_settings`, else those of
    `settings` (`WebhookSettings.from_settings`, `CodecSettings.from_settings`,
    which raise ValueError naming a malformed setting). `settings` are by default
    `load_settings()`."""
    app = FastAPI(
        title="IPS journeys",
        description=DESCRIPTION,
        version="1",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    if settings is None:
        settings = load_settings()
    app.state.services = services
    if webhook_settings is None:
        webhook_settings = WebhookSettings.from_settings(settings)
    app.state.webhooks = webhook_settings
    if codec_settings is None:
        codec_settings = CodecSettings.from_settings(settings)
    app.state.codec = codec_settings
    # The app's address for the links in calendar feeds, as in the staff reminders.
    app.state.app_url = settings.app_url
    # The agency's legal name, on the HTML report.
    app.state.agency_name = settings.agency_name
    errors.install(app)
    app.include_router(health.router)
    app.include_router(people.router)
    app.include_router(journeys.router)
    app.include_router(staff.router)
    app.include_router(webhooks.router)
    app.include_router(feeds.router)
    app.include_router(feeds.staff_router)
    app.include_router(reports.router)
    app.include_router(codec.router)
    # Outside every other layer: errors, too, reach the web page with their CORS headers.
    app.add_middleware(CodecCors, origins=codec_settings.ui_origins)
    return app
