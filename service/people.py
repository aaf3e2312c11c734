"""Supervisors, specialists and consumers: what may be stored about them, and
who may add or change whom."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules import calendar
from service.access import Actor, record_change, visible_consumer, visible_specialist
from service.errors import Conflict, Invalid, NotFound
from store import (
    ConsumerRecord,
    SpecialistRecord,
    Store,
    StoreError,
    SupervisorRecord,
    TreatmentTeamMember,
)

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def check_timezone(value: str) -> str:
    calendar.zone(value)
    return value


def phone_as_text(value: Any) -> Any:
    if isinstance(value, int):
        # YAML reads +15555550123 without quotes as a number and drops the "+".
        raise ValueError(f'write phone numbers in quotes, like "+{value}"')
    return value


def check_phone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number) or not value.startswith("+"):
        raise ValueError(f"{value!r} is not a phone number in E.164 form, like +15555550123")
    return value


def check_email(value: str | None) -> str | None:
    if value is None:
        return None
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value:
        raise ValueError(f"{value!r} is not an email address")
    return value


class PersonModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SupervisorIn(PersonModel):
    id: Id
    name: Name
    email: str
    timezone: str
    phone: str | None = None

    _tz = field_validator("timezone")(check_timezone)
    _phone_text = field_validator("phone", mode="before")(phone_as_text)
    _phone = field_validator("phone")(check_phone)
    _email = field_validator("email")(check_email)


class SpecialistIn(PersonModel):
    id: Id
    name: Name
    email: str
    timezone: str
    phone: str | None = None
    channels: list[Literal["sms", "email"]] = ["email"]
    supervisor: str | None = None
    fte: Annotated[float, Field(gt=0, le=1.5)] = 1.0

    _tz = field_validator("timezone")(check_timezone)
    _phone_text = field_validator("phone", mode="before")(phone_as_text)
    _phone = field_validator("phone")(check_phone)
    _email = field_validator("email")(check_email)


class TreatmentTeamMemberIn(PersonModel):
    id: Id
    name: Name
    role: Annotated[str, Field(min_length=1, max_length=64)]
    email: str | None = None
    phone: str | None = None

    _phone_text = field_validator("phone", mode="before")(phone_as_text)
    _phone = field_validator("phone")(check_phone)
    _email = field_validator("email")(check_email)


class ConsumerIn(PersonModel):
    id: Id
    name: Name
    specialist: str
    timezone: str
    phone: str | None = None
    email: str | None = None
    sms_consent: Literal["none", "opted_in"] = "none"
    language: Literal["en", "es"] = "en"
    treatment_team_member: TreatmentTeamMemberIn | None = None

    _tz = field_validator("timezone")(check_timezone)
    _phone_text = field_validator("phone", mode="before")(phone_as_text)
    _phone = field_validator("phone")(check_phone)
    _email = field_validator("email")(check_email)


def parse_person(cls: type[PersonModel], data: Any, where: str = "") -> Any:
    """Validate a person, turning the first problem into `Invalid(field, reason)`."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "is not a known field"
        elif first["type"] == "missing":
            reason = "is required"
        raise Invalid(f"{where}{loc}" if loc else where.rstrip(".") or "body", reason) from None


# ---------------------------------------------------------------- records


def supervisor_record(p: SupervisorIn) -> SupervisorRecord:
    return SupervisorRecord(id=p.id, name=p.name, email=p.email, timezone=p.timezone, phone=p.phone)


def specialist_record(p: SpecialistIn) -> SpecialistRecord:
    return SpecialistRecord(
        id=p.id,
        name=p.name,
        email=p.email,
        timezone=p.timezone,
        phone=p.phone,
        channels=list(p.channels),
        supervisor_id=p.supervisor,
        fte=p.fte,
    )


def consumer_record(p: ConsumerIn, *, sms_consent: str | None = None) -> ConsumerRecord:
    member = p.treatment_team_member
    return ConsumerRecord(
        id=p.id,
        name=p.name,
        specialist_id=p.specialist,
        timezone=p.timezone,
        phone=p.phone,
        email=p.email,
        sms_consent=sms_consent or p.sms_consent,
        language=p.language,
        treatment_team_member=None
        if member is None
        else TreatmentTeamMember(
            id=member.id, name=member.name, role=member.role, email=member.email, phone=member.phone
        ),
    )


def supervisor_in(r: SupervisorRecord) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "email": r.email, "timezone": r.timezone, "phone": r.phone}


def specialist_in(r: SpecialistRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "email": r.email,
        "timezone": r.timezone,
        "phone": r.phone,
        "channels": list(r.channels),
        "supervisor": r.supervisor_id,
        "fte": r.fte,
    }


def consumer_in(r: ConsumerRecord) -> dict[str, Any]:
    m = r.treatment_team_member
    return {
        "id": r.id,
        "name": r.name,
        "specialist": r.specialist_id,
        "timezone": r.timezone,
        "phone": r.phone,
        "email": r.email,
        "sms_consent": r.sms_consent if r.sms_consent in ("none", "opted_in") else "none",
        "language": r.language,
        "treatment_team_member": None
        if m is None
        else {"id": m.id, "name": m.name, "role": m.role, "email": m.email, "phone": m.phone},
    }


# ---------------------------------------------------------------- operations


def _save(
    store: Store, actor: Actor, action: str, kind: str, save: Any, record: Any, data: Any
) -> None:
    """Write a person and note who did it, and which fields, in the audit trail."""
    try:
        save(record)
    except StoreError as err:
        field = (err.field or "").split(".")[-1] or "body"
        raise Invalid(field, str(err).split(": ", 1)[-1]) from None
    fields = sorted(data) if isinstance(data, dict) else []
    record_change(store, actor, action, kind, record.id, fields)


def add_supervisor(store: Store, actor: Actor, data: Any) -> SupervisorRecord:
    if not actor.is_admin:
        raise NotFound("supervisor", str(getattr(data, "get", lambda _k: "")("id")))
    p = parse_person(SupervisorIn, data)
    if store.get_supervisor(p.id) is not None:
        raise Conflict("id", f"supervisor {p.id!r} already exists")
    record = supervisor_record(p)
    _save(store, actor, "add", "supervisor", store.upsert_supervisor, record, data)
    return record


def update_supervisor(store: Store, actor: Actor, id: str, changes: Any) -> SupervisorRecord:
    current = store.get_supervisor(id)
    allowed = actor.is_admin or (actor.role == "supervisor" and actor.person_id == id)
    if current is None or not allowed:
        raise NotFound("supervisor", id)
    record = supervisor_record(parse_person(SupervisorIn, _merged(supervisor_in(current), changes)))
    _save(store, actor, "update", "supervisor", store.upsert_supervisor, record, changes)
    return record


def add_specialist(store: Store, actor: Actor, data: Any) -> SpecialistRecord:
    if actor.role == "specialist":
        raise NotFound("specialist", str(_get(data, "id")))
    if actor.role == "supervisor" and isinstance(data, dict) and "supervisor" not in data:
        data = {**data, "supervisor": actor.person_id}
    p = parse_person(SpecialistIn, data)
    _check_team(store, actor, p.supervisor)
    if store.get_specialist(p.id) is not None:
        raise Conflict("id", f"specialist {p.id!r} already exists")
    record = specialist_record(p)
    _save(store, actor, "add", "specialist", store.upsert_specialist, record, data)
    return record


def update_specialist(store: Store, actor: Actor, id: str, changes: Any) -> SpecialistRecord:
    current = visible_specialist(store, actor, id)
    p = parse_person(SpecialistIn, _merged(specialist_in(current), changes))
    _check_team(store, actor, p.supervisor)
    record = specialist_record(p)
    _save(store, actor, "update", "specialist", store.upsert_specialist, record, changes)
    return record


def add_consumer(store: Store, actor: Actor, data: Any) -> ConsumerRecord:
    p = parse_person(ConsumerIn, data)
    visible_or_invalid_specialist(store, actor, p.specialist)
    if store.get_consumer(p.id) is not None:
        # Only people who may see the consumer learn that the id is taken.
        visible_consumer(store, actor, p.id)
        raise Conflict("id", f"consumer {p.id!r} already exists")
    record = consumer_record(p)
    _save(store, actor, "add", "consumer", store.upsert_consumer, record, data)
    return record


def update_consumer(store: Store, actor: Actor, id: str, changes: Any) -> ConsumerRecord:
    """Change a consumer's details. The specialist changes only by reassignment
    (an event in the journey), so `specialist` is not accepted here."""
    current = visible_consumer(store, actor, id)
    if isinstance(changes, dict) and "specialist" in changes:
        raise Invalid("specialist", "use reassignment to change the specialist")
    p = parse_person(ConsumerIn, _merged(consumer_in(current), changes))
    record = consumer_record(p, sms_consent=current.sms_consent)
    _save(store, actor, "update", "consumer", store.upsert_consumer, record, changes)
    return record


def visible_or_invalid_specialist(store: Store, actor: Actor, specialist_id: str) -> None:
    try:
        visible_specialist(store, actor, specialist_id)
    except NotFound:
        raise Invalid("specialist", f"no specialist {specialist_id!r}") from None


def _check_team(store: Store, actor: Actor, supervisor_id: str | None) -> None:
    if supervisor_id is not None and store.get_supervisor(supervisor_id) is None:
        raise Invalid("supervisor", f"no supervisor {supervisor_id!r}")
    if actor.role == "supervisor" and supervisor_id != actor.person_id:
        raise Invalid("supervisor", "a supervisor adds specialists to their own team")


def _merged(current: dict[str, Any], changes: Any) -> Any:
    if not isinstance(changes, dict):
        raise Invalid("body", "must be an object of the fields to change")
    if "id" in changes and changes["id"] != current["id"]:
        raise Invalid("id", "an id cannot be changed")
    merged = {**current, **changes}
    for name, value in changes.items():
        # A change to one detail of a nested record (the treatment-team member's
        # email, say) keeps its other details.
        if isinstance(value, dict) and isinstance(current.get(name), dict):
            merged[name] = {**current[name], **value}
    return merged


def _get(data: Any, key: str) -> Any:
    return data.get(key, "") if isinstance(data, dict) else ""
