"""Staff users and their tokens: an admin manages everyone's; a supervisor those
of their team's specialists; anyone may see who they are and revoke their own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response

from api.auth import ActorDep, ServicesDep
from api.errors import ERROR_RESPONSES
from api.models import ErrorOut, TokenIn, TokenOut, UserIn, UserOut
from service import access
from service.people import Id

router = APIRouter(responses=ERROR_RESPONSES, tags=["staff users and tokens"])


@router.get("/me", response_model=UserOut, summary="The staff user the token belongs to")
def me(services: ServicesDep, actor: ActorDep) -> Any:
    return access.visible_user(services.store, actor, actor.user_id)


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses={409: {"model": ErrorOut, "description": "The id is already in use."}},
    summary="Add a staff user (admin; a supervisor for their team's specialists)",
)
def add_user(body: UserIn, services: ServicesDep, actor: ActorDep) -> Any:
    return access.add_user(
        services.store,
        user_id=body.id,
        name=body.name,
        role=body.role,
        person_id=body.person_id,
        now=services.now(),
        actor=actor,
    )


@router.post(
    "/users/{id}/tokens",
    status_code=201,
    response_model=TokenOut,
    summary="Create a token for a user; the token is shown this once",
)
def create_token(
    id: Annotated[Id, Path(description="The staff user's id.")],
    services: ServicesDep,
    actor: ActorDep,
    body: Annotated[TokenIn | None, Body()] = None,
) -> Any:
    body = body or TokenIn()
    token, record = access.create_token(
        services.store,
        user_id=id,
        now=services.now(),
        days=body.days,
        label=body.label,
        actor=actor,
    )
    return TokenOut(
        id=record.id,
        token=token,
        user_id=record.user_id,
        label=record.label,
        created_at=record.created_at,
        expires_at=record.expires_at,
    )


@router.delete(
    "/tokens/{id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a token: it stops working at once",
)
def revoke_token(
    id: Annotated[Id, Path(description="The token's id (not the token).")],
    services: ServicesDep,
    actor: ActorDep,
) -> Response:
    access.revoke_token(services.store, id, services.now(), actor=actor)
    return Response(status_code=204)
