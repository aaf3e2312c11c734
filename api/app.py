"""`create_app(services)`: the staff API of SPEC §9, documented at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors, health, journeys, people, staff
from service.journeys import Services

DESCRIPTION = """\
Record what happens in each consumer's IPS journey and see what is due.

Every route but `/healthz` and `/readyz` needs a staff token:
`Authorization: Bearer <token>`. A specialist sees their own caseload, a
supervisor their team's, an admin everything; anything else answers 404.

Every error is `{"error": {"status", "field", "reason", "message"}}`; `field`
names the input at fault. A 503 (the database or Temporal is down) changed
nothing: try again after `Retry-After` seconds, with the same `event_id`.
"""


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="IPS journeys",
        description=DESCRIPTION,
        version="1",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    app.include_router(health.router)
    app.include_router(people.router)
    app.include_router(journeys.router)
    app.include_router(staff.router)
    return app
