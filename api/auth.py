"""Who is calling: the staff user behind the bearer token, on every route but
health and the documentation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service import access
from service.access import Actor
from service.journeys import Services, available

bearer = HTTPBearer(
    auto_error=False,
    description="A staff token from `ips tokens create` or `POST /users/{id}/tokens`, "
    "sent as `Authorization: Bearer <token>`.",
)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    found = services(request)
    token = credentials.credentials if credentials is not None else None
    with available():
        return access.authenticate(found.store, token, found.now())


ActorDep = Annotated[Actor, Depends(current_actor)]
