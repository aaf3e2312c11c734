"""Referrals, events, journey state, due lists, the outreach log, the audit
trail and a specialist's own employer contacts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from api.auth import ActorDep, ServicesDep
from api.errors import ERROR_RESPONSES
from api.events import EmployerContactIn, EventIn
from api.models import (
    AuditEntry,
    DueContactOut,
    DueStatus,
    EmployerContactOut,
    ErrorOut,
    OutreachOut,
    ReassignmentIn,
    ReferralIn,
    RuleId,
)
from api.people import ConsumerId, SpecialistId, SupervisorId
from rules.journey import JourneyView
from service import journeys
from service.errors import NotFound

router = APIRouter(responses=ERROR_RESPONSES)

ACCEPTED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The event_id belongs to another event."}
}


def _accepted(view: JourneyView | None, consumer_id: str) -> JourneyView:
    if view is None:
        raise NotFound("journey", consumer_id)
    return view


# ---------------------------------------------------------------- events


@router.post(
    "/consumers/{id}/referral",
    status_code=202,
    response_model=JourneyView,
    responses=ACCEPTED,
    tags=["journeys"],
    summary="Refer the consumer: starts (or after closure restarts) the journey",
)
async def refer(
    id: ConsumerId,
    services: ServicesDep,
    actor: ActorDep,
    body: Annotated[ReferralIn | None, Body()] = None,
) -> JourneyView:
    body = body or ReferralIn()
    view = await journeys.refer(services, actor, id, at=body.at, event_id=body.event_id)
    return _accepted(view, id)


@router.post(
    "/consumers/{id}/reassign",
    status_code=202,
    response_model=JourneyView,
    responses=ACCEPTED,
    tags=["journeys"],
    summary="Hand the consumer to another specialist (a `reassigned` event)",
)
async def reassign(
    id: ConsumerId, body: ReassignmentIn, services: ServicesDep, actor: ActorDep
) -> JourneyView:
    view = await journeys.reassign(
        services, actor, id, body.specialist, at=body.at, event_id=body.event_id
    )
    return _accepted(view, id)


@router.post(
    "/consumers/{id}/events",
    status_code=202,
    response_model=JourneyView,
    responses=ACCEPTED,
    tags=["journeys"],
    summary="Record an event of the consumer's journey (any type of SPEC §4)",
    description="The body is one event; `type` says which, and the other fields are "
    "that type's. A retry with the same `event_id` changes nothing and answers 202. "
    "The answer is the journey's state once the event is recorded.",
)
async def record_event(
    id: ConsumerId,
    body: EventIn,
    services: ServicesDep,
    actor: ActorDep,
) -> JourneyView:
    data = body.model_dump(mode="json", exclude_unset=True)
    view = await journeys.record_event(services, actor, id, data)
    return _accepted(view, id)


@router.get(
    "/consumers/{id}/journey",
    response_model=JourneyView,
    tags=["journeys"],
    summary="The journey's state: phase, outreach, open and missed due contacts",
)
async def journey(id: ConsumerId, services: ServicesDep, actor: ActorDep) -> JourneyView:
    return await journeys.journey(services, actor, id)


@router.get(
    "/consumers/{id}/outreach",
    response_model=list[OutreachOut],
    tags=["journeys"],
    summary="The consumer's outreach log",
)
def outreach(id: ConsumerId, services: ServicesDep, actor: ActorDep) -> Any:
    return [OutreachOut.of(r) for r in journeys.outreach_log(services, actor, id)]


@router.get(
    "/consumers/{id}/events",
    response_model=list[AuditEntry],
    tags=["journeys"],
    summary="The audit trail: every event, who recorded it and when",
)
def history(id: ConsumerId, services: ServicesDep, actor: ActorDep) -> Any:
    return [AuditEntry.of(r) for r in journeys.history(services, actor, id)]


# ---------------------------------------------------------------- due lists


def due_filters(
    status: Annotated[
        DueStatus | None, Query(description="Only due contacts in this status.")
    ] = None,
    rule: Annotated[RuleId | None, Query(description="Only due contacts of this rule.")] = None,
    due_from: Annotated[date | None, Query(description="Only those due on or after.")] = None,
    due_to: Annotated[date | None, Query(description="Only those due on or before.")] = None,
) -> dict[str, Any]:
    return {"status": status, "rule": rule, "due_from": due_from, "due_to": due_to}


Filters = Annotated[dict[str, Any], Depends(due_filters)]
due_router = APIRouter(responses=ERROR_RESPONSES, tags=["due contacts"])


@due_router.get(
    "/due-contacts",
    response_model=list[DueContactOut],
    summary="Due contacts of everyone the caller may see",
)
def due_in_scope(services: ServicesDep, actor: ActorDep, filters: Filters) -> Any:
    return [DueContactOut.of(r) for r in journeys.due_contacts(services, actor, **filters)]


@due_router.get(
    "/consumers/{id}/due-contacts",
    response_model=list[DueContactOut],
    summary="A consumer's due contacts",
)
def due_of_consumer(
    id: ConsumerId, services: ServicesDep, actor: ActorDep, filters: Filters
) -> Any:
    found = journeys.due_contacts(services, actor, consumer=id, **filters)
    return [DueContactOut.of(r) for r in found]


@due_router.get(
    "/specialists/{id}/due-contacts",
    response_model=list[DueContactOut],
    summary="Due contacts of a specialist's caseload",
)
def due_of_specialist(
    id: SpecialistId, services: ServicesDep, actor: ActorDep, filters: Filters
) -> Any:
    found = journeys.due_contacts(services, actor, specialist=id, **filters)
    return [DueContactOut.of(r) for r in found]


@due_router.get(
    "/teams/{supervisor_id}/due-contacts",
    response_model=list[DueContactOut],
    summary="Due contacts of a supervisor's team",
)
def due_of_team(
    supervisor_id: SupervisorId, services: ServicesDep, actor: ActorDep, filters: Filters
) -> Any:
    found = journeys.due_contacts(services, actor, team=supervisor_id, **filters)
    return [DueContactOut.of(r) for r in found]


router.include_router(due_router)


# ---------------------------------------------------------------- employer contacts


@router.post(
    "/specialists/{id}/employer-contacts",
    status_code=201,
    response_model=EmployerContactOut,
    responses=ACCEPTED,
    tags=["employer contacts"],
    summary="Log an employer contact of the specialist's own, about no one consumer",
    description="It counts toward the specialist's weekly tally. A contact about a "
    "consumer is an `employer_contact` event of that consumer's journey. A retry with "
    "the same `event_id` changes nothing.",
)
def add_employer_contact(
    id: SpecialistId,
    body: EmployerContactIn,
    services: ServicesDep,
    actor: ActorDep,
) -> Any:
    data = body.model_dump(mode="json", exclude_unset=True)
    return EmployerContactOut.of(journeys.record_employer_contact(services, actor, id, data))


@router.get(
    "/specialists/{id}/employer-contacts",
    response_model=list[EmployerContactOut],
    tags=["employer contacts"],
    summary="A specialist's employer contacts (their own log and those about consumers)",
)
def employer_contacts(id: SpecialistId, services: ServicesDep, actor: ActorDep) -> Any:
    return [EmployerContactOut.of(r) for r in journeys.employer_contacts(services, actor, id)]
