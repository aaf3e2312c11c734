import pytest

from store import (
    ConsumerRecord,
    InvalidValueError,
    NotFoundError,
    SpecialistRecord,
    Store,
    StoreError,
    SupervisorRecord,
    TreatmentTeamMember,
    UnknownReferenceError,
)


def test_people_come_back_as_saved(seeded: Store) -> None:
    assert seeded.get_supervisor("sup-1") == SupervisorRecord(
        "sup-1", "Pat Kim", "pat@example.org", "America/New_York"
    )
    assert seeded.get_specialist("es-1") == SpecialistRecord(
        "es-1",
        "Jordan Lee",
        "jordan@example.org",
        "America/New_York",
        phone="+15555550101",
        channels=["sms", "email"],
        supervisor_id="sup-1",
        fte=1.0,
    )
    assert seeded.get_consumer("c-1") == ConsumerRecord(
        "c-1",
        "Alex Smith",
        "es-1",
        "America/New_York",
        phone="+15555550123",
        sms_consent="none",
        language="en",
        treatment_team_member=TreatmentTeamMember(
            "cm-1", "Casey Wu", "case_manager", "casey@example.org", "+15555550233"
        ),
    )
    assert seeded.get_consumer("c-2") == ConsumerRecord(
        "c-2", "Sam Rivera", "es-1", "America/Chicago"
    )


def test_unknown_ids_give_none(store: Store) -> None:
    assert store.get_supervisor("sup-9") is None
    assert store.get_specialist("es-9") is None
    assert store.get_consumer("c-9") is None


def test_upsert_replaces_every_field_and_adds_no_row(seeded: Store) -> None:
    changed = ConsumerRecord(
        "c-1",
        "Alex Smith-Jones",
        "es-1",
        "America/Denver",
        email="alex@example.org",
        sms_consent="opted_in",
        language="es",
    )
    seeded.upsert_consumer(changed)
    seeded.upsert_consumer(changed)

    assert seeded.get_consumer("c-1") == changed
    assert [c.id for c in seeded.list_consumers()] == ["c-1", "c-2"]


def test_specialist_defaults_and_fte(store: Store) -> None:
    store.upsert_specialist(SpecialistRecord("es-2", "Lee", "lee@example.org", "UTC", fte=0.5))

    saved = store.get_specialist("es-2")
    assert saved is not None
    assert (saved.channels, saved.supervisor_id, saved.fte) == (["email"], None, 0.5)


def test_lists_are_in_id_order_and_filter_by_specialist(seeded: Store) -> None:
    seeded.upsert_specialist(SpecialistRecord("es-0", "Ana", "ana@example.org", "UTC"))
    seeded.upsert_consumer(ConsumerRecord("c-0", "Bo", "es-0", "UTC"))
    seeded.upsert_consumer(ConsumerRecord("C-3", "Cy", "es-0", "UTC"))

    assert [s.id for s in seeded.list_specialists()] == ["es-0", "es-1"]
    # Byte order on both databases: upper case before lower case.
    assert [c.id for c in seeded.list_consumers()] == ["C-3", "c-0", "c-1", "c-2"]
    assert [c.id for c in seeded.list_consumers(specialist_id="es-0")] == ["C-3", "c-0"]
    assert seeded.list_consumers(specialist_id="es-9") == []


def test_reassignment_moves_the_consumer_to_the_new_caseload(seeded: Store) -> None:
    seeded.upsert_specialist(SpecialistRecord("es-2", "Lee", "lee@example.org", "UTC"))

    seeded.set_consumer_specialist("c-1", "es-2")

    consumer = seeded.get_consumer("c-1")
    assert consumer is not None and consumer.specialist_id == "es-2"
    assert [c.id for c in seeded.list_consumers(specialist_id="es-2")] == ["c-1"]


def test_reassignment_errors_name_the_field(seeded: Store) -> None:
    with pytest.raises(NotFoundError, match="consumer_id: no consumer 'c-9'"):
        seeded.set_consumer_specialist("c-9", "es-1")
    with pytest.raises(UnknownReferenceError, match="specialist_id: no specialist with id 'es-9'"):
        seeded.set_consumer_specialist("c-1", "es-9")

    consumer = seeded.get_consumer("c-1")
    assert consumer is not None and consumer.specialist_id == "es-1"


def test_consumer_of_unknown_specialist_is_refused(store: Store) -> None:
    with pytest.raises(StoreError) as refused:
        store.upsert_consumer(ConsumerRecord("c-1", "Alex", "es-9", "America/New_York"))

    assert isinstance(refused.value, UnknownReferenceError)
    assert str(refused.value) == "ConsumerRecord.specialist_id: no specialist with id 'es-9'"
    assert refused.value.field == "ConsumerRecord.specialist_id"
    assert store.get_consumer("c-1") is None


def test_specialist_of_unknown_supervisor_is_refused(store: Store) -> None:
    with pytest.raises(
        UnknownReferenceError,
        match="SpecialistRecord.supervisor_id: no supervisor with id 'sup-9'",
    ):
        store.upsert_specialist(
            SpecialistRecord("es-1", "Jo", "jo@example.org", "UTC", supervisor_id="sup-9")
        )
    assert store.list_specialists() == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            SupervisorRecord("sup-1", "Pat", "pat@example.org", "Mars/Olympus"),
            "SupervisorRecord.timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            SupervisorRecord("sup-1", "Pat", "pat@example.org", "UTC", phone="555-0101"),
            "SupervisorRecord.phone: '555-0101' is not an E.164 phone number",
        ),
        (
            SpecialistRecord("es-1", "Jo", "jo@example.org", "UTC", channels=["pager"]),
            "SpecialistRecord.channels: unknown channel 'pager'",
        ),
        (
            SpecialistRecord("es-1", "Jo", "jo@example.org", "UTC", channels=["sms"]),
            "SpecialistRecord.channels: specialist 'es-1' gets SMS but has no phone",
        ),
        (
            SpecialistRecord("es-1", "Jo", "jo@example.org", "UTC", fte=0),
            "SpecialistRecord.fte: must be above 0",
        ),
    ],
    ids=["timezone", "phone", "channel", "sms-without-phone", "fte"],
)
def test_bad_staff_values_are_refused(
    store: Store, record: SupervisorRecord | SpecialistRecord, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=f"^{message}"):
        if isinstance(record, SupervisorRecord):
            store.upsert_supervisor(record)
        else:
            store.upsert_specialist(record)
    assert store.get_supervisor("sup-1") is None
    assert store.get_specialist("es-1") is None


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            ConsumerRecord("c-1", "Alex", "es-1", "Eastern"),
            "ConsumerRecord.timezone: 'Eastern' is not an IANA time zone",
        ),
        (
            ConsumerRecord("c-1", "Alex", "es-1", "UTC", phone="5555550123"),
            "ConsumerRecord.phone: '5555550123' is not an E.164 phone number",
        ),
        (
            ConsumerRecord("c-1", "Alex", "es-1", "UTC", sms_consent="yes"),
            "ConsumerRecord.sms_consent: 'yes' is not one of none, opted_in, opted_out, pending",
        ),
        (
            ConsumerRecord(
                "c-1",
                "Alex",
                "es-1",
                "UTC",
                treatment_team_member=TreatmentTeamMember(
                    "cm-1", "Casey", "case_manager", phone="x"
                ),
            ),
            "TreatmentTeamMember.phone: 'x' is not an E.164 phone number",
        ),
    ],
    ids=["timezone", "phone", "sms_consent", "team-member-phone"],
)
def test_bad_consumer_values_are_refused(
    seeded: Store, record: ConsumerRecord, message: str
) -> None:
    before = seeded.get_consumer("c-1")

    with pytest.raises(InvalidValueError, match=f"^{message}"):
        seeded.upsert_consumer(record)

    assert seeded.get_consumer("c-1") == before


def test_consumers_are_found_by_their_exact_phone_number(seeded: Store) -> None:
    seeded.upsert_consumer(ConsumerRecord("c-0", "Bo", "es-1", "UTC", phone="+15555550123"))

    assert [c.id for c in seeded.list_consumers_by_phone("+15555550123")] == ["c-0", "c-1"]
    assert seeded.list_consumers_by_phone("+15555550999") == []
    assert seeded.list_consumers_by_phone("15555550123") == []
