"""Request and answer bodies of the API that are not events (those are in
`api.events`). People reuse the service's models, so a field is checked the
same way whether it comes from the API, the CLI or a scenario file."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from api.events import EventId
from rules.due import RULE_WORDS
from service.access import DEFAULT_TOKEN_DAYS
from service.people import (
    ConsumerIn,
    Id,
    Name,
    SpecialistIn,
    SupervisorIn,
    TreatmentTeamMemberIn,
)
from store import (
    ConsumerRecord,
    DueContactRecord,
    EmployerContactRecord,
    EventRecord,
    OutreachRecord,
)
from store.records import DUE_CONTACT_STATUSES

# Types built at run time, from the rules' own lists and the service's own
# models, which mypy cannot follow: to it they are plain strings and models.
if TYPE_CHECKING:
    RuleId = str
    DueStatus = str
else:
    RuleId = Literal[tuple(RULE_WORDS)]
    DueStatus = Literal[tuple(sorted(DUE_CONTACT_STATUSES))]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors


class ErrorDetail(BaseModel):
    status: int = Field(description="The HTTP status, repeated.")
    field: str | None = Field(
        description="The field at fault, as a dotted path in the body or the name of a "
        "query or path parameter; null when no field is (an outage)."
    )
    reason: str = Field(description="What is wrong with it.")
    message: str = Field(description="Field and reason in one sentence, for people.")


class ErrorOut(BaseModel):
    error: ErrorDetail


# ---------------------------------------------------------------- people


def partial(
    model: type[BaseModel],
    *,
    name: str,
    drop: tuple[str, ...] = (),
    nested: dict[str, type[BaseModel]] | None = None,
) -> type[BaseModel]:
    """A body of changes to `model`: each field optional, only those sent change."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in drop:
            continue
        annotation: Any = info.annotation
        if nested and field_name in nested:
            annotation = nested[field_name] | None
        fields[field_name] = (annotation, FieldInfo.merge_field_infos(info, default=None))
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__="Only the fields sent change; a nullable field sent as null is cleared.",
        **fields,
    )


if TYPE_CHECKING:
    SupervisorChanges = BaseModel
    SpecialistChanges = BaseModel
    ConsumerChanges = BaseModel
else:
    SupervisorChanges = partial(SupervisorIn, drop=("id",), name="SupervisorChanges")
    SpecialistChanges = partial(SpecialistIn, drop=("id",), name="SpecialistChanges")
    ConsumerChanges = partial(
        ConsumerIn,
        # The specialist changes by reassignment, consent by the consumer's own
        # word (events of the journey), not here.
        drop=("id", "specialist", "sms_consent"),
        name="ConsumerChanges",
        nested={
            "treatment_team_member": partial(
                TreatmentTeamMemberIn, name="TreatmentTeamMemberChanges"
            )
        },
    )


class ConsumerOut(ConsumerIn):
    sms_consent: Literal["none", "pending", "opted_in", "opted_out"] = "none"  # type: ignore[assignment]


def consumer_out(record: ConsumerRecord, as_in: dict[str, Any]) -> dict[str, Any]:
    return {**as_in, "sms_consent": record.sms_consent}


# ---------------------------------------------------------------- journeys


class ReferralIn(Body):
    event_id: EventId = None
    at: datetime | None = Field(
        default=None,
        description="When the referral came: ISO 8601, the consumer's local time unless an "
        "offset is given. Default: now.",
    )


class ReassignmentIn(Body):
    specialist: Id = Field(description="The specialist who takes over.")
    event_id: EventId = None
    at: datetime | None = Field(
        default=None, description="When the reassignment takes effect. Default: now."
    )


class DueContactOut(BaseModel):
    key: str
    consumer: str
    rule: str = Field(description=f"One of {', '.join(RULE_WORDS)}.")
    job_id: str | None
    seq: int | None
    window_start: date
    due: date
    status: str = Field(description=f"One of {', '.join(sorted(DUE_CONTACT_STATUSES))}.")
    satisfied_on: date | None

    @classmethod
    def of(cls, r: DueContactRecord) -> DueContactOut:
        return cls(
            key=r.key,
            consumer=r.consumer_id,
            rule=r.rule,
            job_id=r.job_id,
            seq=r.seq,
            window_start=r.window_start,
            due=r.due,
            status=r.status,
            satisfied_on=r.satisfied_on,
        )


class OutreachOut(BaseModel):
    event_id: str
    at: datetime
    by: str
    role: str
    method: str
    reached: bool

    @classmethod
    def of(cls, r: OutreachRecord) -> OutreachOut:
        return cls(
            event_id=r.event_id, at=r.at, by=r.by, role=r.role, method=r.method, reached=r.reached
        )


class AuditEntry(BaseModel):
    """One event of the audit trail: what happened, who recorded it and when."""

    event_id: str
    type: str
    at: datetime
    recorded_by: str | None = Field(description="The staff user who recorded it.")
    recorded_at: datetime
    fields: dict[str, Any] = Field(description="The event's own fields (SPEC §4).")

    @classmethod
    def of(cls, r: EventRecord) -> AuditEntry:
        return cls(
            event_id=r.event_id,
            type=r.type,
            at=r.at,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
            fields=r.payload,
        )


class EmployerContactOut(BaseModel):
    event_id: str
    specialist: str
    employer: str
    face_to_face: bool
    consumer: str | None
    at: datetime

    @classmethod
    def of(cls, r: EmployerContactRecord) -> EmployerContactOut:
        return cls(
            event_id=r.event_id,
            specialist=r.specialist_id,
            employer=r.employer,
            face_to_face=r.face_to_face,
            consumer=r.consumer_id,
            at=r.at,
        )


# ---------------------------------------------------------------- staff users


class UserIn(Body):
    id: Id
    name: Name
    role: Literal["specialist", "supervisor", "admin"]
    person_id: Id | None = Field(
        default=None,
        description="The specialist or supervisor this user is (none for an admin).",
    )


class UserOut(BaseModel):
    id: str
    name: str
    role: str
    person_id: str | None
    created_at: datetime


class TokenIn(Body):
    days: Annotated[int, Field(ge=1, le=3660)] = Field(
        default=DEFAULT_TOKEN_DAYS, description="How long the token lasts."
    )
    label: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="A note to tell tokens apart, like the computer it is on."
    )


class TokenOut(BaseModel):
    id: str = Field(description="The token's id, to revoke it with DELETE /tokens/{id}.")
    token: str = Field(description="The bearer token. Shown this once; only its hash is kept.")
    user_id: str
    label: str | None
    created_at: datetime
    expires_at: datetime


class FeedTokenIn(Body):
    """One of `specialist` and `team`: whose calendar feed the token opens."""

    specialist: Id | None = Field(default=None, description="The specialist whose feed it is.")
    team: Id | None = Field(
        default=None, description="The supervisor whose team's feed it is (their id)."
    )
    user: Id | None = Field(
        default=None,
        description="The staff user who holds the token (a user the caller manages); "
        "the caller by default.",
    )
    label: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="A note to tell tokens apart, like 'Outlook'."
    )


class FeedTokenOut(BaseModel):
    id: str = Field(description="The feed token's id (not the token), as in ftok_...")
    user_id: str = Field(description="The staff user who holds it.")
    specialist: str | None = Field(description="The specialist whose feed it opens, or null.")
    team: str | None = Field(description="The supervisor whose team's feed it opens, or null.")
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


class FeedTokenCreatedOut(FeedTokenOut):
    token: str = Field(description="The token. Shown this once; only its hash is kept.")
    url: str = Field(description="The feed's https URL, for Google Calendar's 'From URL'.")
    webcal_url: str = Field(description="The same as webcal://, which calendar programs open.")


# ---------------------------------------------------------------- health


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Literal["ok", "unavailable"]
    temporal: Literal["ok", "unavailable"]
