"""A scenario's agency: texts are signed with the sender label, the legal name kept apart."""

from activities.journey import AgencySettings
from simulate.run import agency_settings
from simulate.scenario import Agency


def test_the_legal_name_is_carried_apart_from_the_sender_label() -> None:
    agency = Agency(
        name="Riverside Community Services, Inc.",
        sms_sender_label="Riverside Works",
        timezone="America/New_York",
        contact_phone="+15555550100",
    )
    settings = agency_settings(agency)
    assert settings.sender_label == "Riverside Works"
    assert settings.legal_name == "Riverside Community Services, Inc."
    assert settings.contact_phone == "+15555550100"


def test_without_a_sender_label_texts_are_never_signed_with_the_legal_name() -> None:
    agency = Agency(name="Riverside Community Services, Inc.", timezone="America/New_York")
    settings = agency_settings(agency)
    assert settings.sender_label == AgencySettings.sender_label
    assert settings.legal_name == "Riverside Community Services, Inc."
