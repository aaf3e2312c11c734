"""The worker's agency settings come from the environment, the legal name apart from the label."""

import pytest

import worker
from activities.journey import AgencySettings
from config import load_settings


def test_agency_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPS_SMS_SENDER_LABEL", "Riverside Works")
    monkeypatch.setenv("IPS_AGENCY_NAME", "Riverside Community Services, Inc.")
    monkeypatch.setenv("IPS_AGENCY_PHONE", "+15555550100")
    monkeypatch.setenv("IPS_APP_URL", "https://app.riverside.example")
    assert worker.agency_from_settings(load_settings()) == AgencySettings(
        sender_label="Riverside Works",
        app_url="https://app.riverside.example",
        contact_phone="+15555550100",
        legal_name="Riverside Community Services, Inc.",
    )


def test_unset_agency_settings_take_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IPS_SMS_SENDER_LABEL", "IPS_AGENCY_NAME", "IPS_AGENCY_PHONE", "IPS_APP_URL"):
        monkeypatch.delenv(name, raising=False)
    assert worker.agency_from_settings(load_settings()) == AgencySettings()
