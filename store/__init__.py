"""The app's database: `Store` and the records it takes and gives back."""

from store.errors import InvalidValueError, NotFoundError, StoreError, UnknownReferenceError
from store.records import (
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
    SupervisorRecord,
    TreatmentTeamMember,
)
from store.store import Store

__all__ = [
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
