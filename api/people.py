"""Supervisors, specialists and consumers: add, change, look up, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.auth import ActorDep, ServicesDep
from api.errors import ERROR_RESPONSES
from api.models import (
    ConsumerChanges,
    ConsumerOut,
    ErrorOut,
    SpecialistChanges,
    SupervisorChanges,
    consumer_out,
)
from service import access, people
from service.people import ConsumerIn, Id, SpecialistIn, SupervisorIn

router = APIRouter(responses=ERROR_RESPONSES)

CREATED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The id is already in use."}
}

SupervisorId = Annotated[Id, Path(description="The supervisor's id.", examples=["sup-1"])]
SpecialistId = Annotated[Id, Path(description="The specialist's id.", examples=["es-1"])]
ConsumerId = Annotated[
    Id, Path(description="The consumer's id (the agency's case id).", examples=["c-1"])
]


def _changes(body: Any) -> dict[str, Any]:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return changes


# ---------------------------------------------------------------- supervisors


@router.post(
    "/supervisors",
    status_code=201,
    response_model=SupervisorIn,
    responses=CREATED,
    tags=["supervisors"],
    summary="Add a supervisor (admin)",
)
def add_supervisor(body: SupervisorIn, services: ServicesDep, actor: ActorDep) -> Any:
    record = people.add_supervisor(services.store, actor, _changes(body))
    return people.supervisor_in(record)


@router.get(
    "/supervisors",
    response_model=list[SupervisorIn],
    tags=["supervisors"],
    summary="Supervisors the caller may see",
)
def list_supervisors(services: ServicesDep, actor: ActorDep) -> Any:
    return [people.supervisor_in(r) for r in access.visible_supervisors(services.store, actor)]


@router.get("/supervisors/{id}", response_model=SupervisorIn, tags=["supervisors"])
def get_supervisor(id: SupervisorId, services: ServicesDep, actor: ActorDep) -> Any:
    return people.supervisor_in(access.visible_supervisor(services.store, actor, id))


@router.patch("/supervisors/{id}", response_model=SupervisorIn, tags=["supervisors"])
def update_supervisor(
    id: SupervisorId,
    body: SupervisorChanges,
    services: ServicesDep,
    actor: ActorDep,
) -> Any:
    record = people.update_supervisor(services.store, actor, id, _changes(body))
    return people.supervisor_in(record)


# ---------------------------------------------------------------- specialists


@router.post(
    "/specialists",
    status_code=201,
    response_model=SpecialistIn,
    responses=CREATED,
    tags=["specialists"],
    summary="Add a specialist (admin, or a supervisor to their own team)",
)
def add_specialist(body: SpecialistIn, services: ServicesDep, actor: ActorDep) -> Any:
    record = people.add_specialist(services.store, actor, _changes(body))
    return people.specialist_in(record)


@router.get(
    "/specialists",
    response_model=list[SpecialistIn],
    tags=["specialists"],
    summary="Specialists the caller may see (themselves, their team, or all)",
)
def list_specialists(services: ServicesDep, actor: ActorDep) -> Any:
    return [people.specialist_in(r) for r in access.visible_specialists(services.store, actor)]


@router.get("/specialists/{id}", response_model=SpecialistIn, tags=["specialists"])
def get_specialist(id: SpecialistId, services: ServicesDep, actor: ActorDep) -> Any:
    return people.specialist_in(access.visible_specialist(services.store, actor, id))


@router.patch("/specialists/{id}", response_model=SpecialistIn, tags=["specialists"])
def update_specialist(
    id: SpecialistId,
    body: SpecialistChanges,
    services: ServicesDep,
    actor: ActorDep,
) -> Any:
    record = people.update_specialist(services.store, actor, id, _changes(body))
    return people.specialist_in(record)


# ---------------------------------------------------------------- consumers


@router.post(
    "/consumers",
    status_code=201,
    response_model=ConsumerOut,
    responses=CREATED,
    tags=["consumers"],
    summary="Add a consumer to a specialist's caseload (then refer them)",
)
def add_consumer(body: ConsumerIn, services: ServicesDep, actor: ActorDep) -> Any:
    record = people.add_consumer(services.store, actor, _changes(body))
    return consumer_out(record, people.consumer_in(record))


@router.get(
    "/consumers",
    response_model=list[ConsumerOut],
    tags=["consumers"],
    summary="The caller's caseload (a specialist), team's (a supervisor) or everyone (admin)",
)
def list_consumers(services: ServicesDep, actor: ActorDep) -> Any:
    return [
        consumer_out(r, people.consumer_in(r))
        for r in access.visible_consumers(services.store, actor)
    ]


@router.get("/consumers/{id}", response_model=ConsumerOut, tags=["consumers"])
def get_consumer(id: ConsumerId, services: ServicesDep, actor: ActorDep) -> Any:
    record = access.visible_consumer(services.store, actor, id)
    return consumer_out(record, people.consumer_in(record))


@router.patch(
    "/consumers/{id}",
    response_model=ConsumerOut,
    tags=["consumers"],
    description="Change a consumer's details. To change the specialist, "
    "`POST /consumers/{id}/reassign`.",
)
def update_consumer(
    id: ConsumerId,
    body: ConsumerChanges,
    services: ServicesDep,
    actor: ActorDep,
) -> Any:
    record = people.update_consumer(services.store, actor, id, _changes(body))
    return consumer_out(record, people.consumer_in(record))
