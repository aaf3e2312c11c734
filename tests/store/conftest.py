"""`store`: a fresh, empty Store on each database of `database_url` (tests/conftest.py);
`seeded`: the same with a supervisor, a specialist and two consumers."""

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from store import ConsumerRecord, SpecialistRecord, Store, SupervisorRecord, TreatmentTeamMember


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        # Sessions in a zone other than UTC: what comes back must still be UTC.
        url = url.update_query_dict({"options": "-c timezone=America/New_York"})
    store = Store(url.render_as_string(hide_password=False))
    try:
        store.create_schema()
        yield store
    finally:
        store.dispose()


@pytest.fixture
def seeded(store: Store) -> Store:
    store.upsert_supervisor(
        SupervisorRecord("sup-1", "Pat Kim", "pat@example.org", "America/New_York")
    )
    store.upsert_specialist(
        SpecialistRecord(
            "es-1",
            "Jordan Lee",
            "jordan@example.org",
            "America/New_York",
            phone="+15555550101",
            channels=["sms", "email"],
            supervisor_id="sup-1",
        )
    )
    store.upsert_consumer(
        ConsumerRecord(
            "c-1",
            "Alex Smith",
            "es-1",
            "America/New_York",
            phone="+15555550123",
            treatment_team_member=TreatmentTeamMember(
                "cm-1", "Casey Wu", "case_manager", "casey@example.org", "+15555550233"
            ),
        )
    )
    store.upsert_consumer(ConsumerRecord("c-2", "Sam Rivera", "es-1", "America/Chicago"))
    return store
