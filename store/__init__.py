"""The app's database: `Store` and the records it takes and gives back."""

from store.errors import InvalidValueError, NotFoundError, StoreError, UnknownReferenceError
from store.records import (
    STAFF_ROLES,
    ApiTokenRecord,
    AppointmentRecord,
    ConsentChangeRecord,
    ConsumerRecord,
    DueContactChangeRecord,
    DueContactRecord,
    EmployerContactRecord,
    EventRecord,
    JobRecord,
    NotificationRecord,
    OutreachRecord,
    SpecialistRecord,
    StaffChangeRecord,
    StaffUserRecord,
    SupervisorRecord,
    TreatmentTeamMember,
)
from store.store import Store

__all__ = [
    "STAFF_ROLES",
    "ApiTokenRecord",
    "StaffChangeRecord",
    "StaffUserRecord",
    "AppointmentRecord",
    "ConsentChangeRecord",
    "ConsumerRecord",
    "DueContactChangeRecord",
    "DueContactRecord",
    "EmployerContactRecord",
    "EventRecord",
    "InvalidValueError",
    "JobRecord",
    "NotFoundError",
    "NotificationRecord",
    "OutreachRecord",
    "SpecialistRecord",
    "Store",
    "StoreError",
    "SupervisorRecord",
    "TreatmentTeamMember",
    "UnknownReferenceError",
]
