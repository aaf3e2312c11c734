"""Liveness and readiness, for a load balancer or a person: no token needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.auth import ServicesDep
from api.models import Health, Readiness
from service.journeys import ready

router = APIRouter(tags=["health"])

# Seconds a client waits before asking /readyz again.
RETRY_AFTER = 5


@router.get("/healthz", response_model=Health, summary="The API process is running")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The database and Temporal answer",
    responses={503: {"model": Readiness, "description": "One of them does not answer."}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    checks = await ready(services)
    answer = Readiness(
        status="ready" if all(checks.values()) else "unavailable",
        database="ok" if checks["database"] else "unavailable",
        temporal="ok" if checks["temporal"] else "unavailable",
    )
    if answer.status == "ready":
        return JSONResponse(answer.model_dump())
    return JSONResponse(
        answer.model_dump(), status_code=503, headers={"Retry-After": str(RETRY_AFTER)}
    )
