"""SPEC §7: consent keywords in any case, on the whole message trimmed of spaces
and punctuation; requests to stop in other words opt out and go to staff."""

from collections.abc import Callable

import pytest

from rules.consent import classify_reply
from rules.policy import Policy
from tests.rules.conftest import JourneyDriver

STOP_WORDS = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT-OUT",
]


@pytest.mark.parametrize("word", STOP_WORDS)
@pytest.mark.parametrize("dress", ["{}", " {}. ", "{}!!", "  {}\n"])
def test_stop_words_opt_out_in_any_case(word: str, dress: str) -> None:
    for body in (dress.format(word), dress.format(word.lower()), dress.format(word.title())):
        reply = classify_reply(body)
        assert reply.new_state == "opted_out", body
        assert not reply.flag_for_staff
        assert not reply.help


@pytest.mark.parametrize(
    "body",
    [
        # Punctuation a phone adds or a Spanish speaker writes is punctuation too.
        "¡Stop!",
        "Stop…",
        "“STOP”",
        "STOP\u00a0",
    ],
)
def test_stop_trimmed_of_any_punctuation_or_space(body: str) -> None:
    assert classify_reply(body).new_state == "opted_out"


@pytest.mark.parametrize("body", ["START", "yes", "Yes!", " unstop ", "Start."])
def test_start_words_opt_in(body: str) -> None:
    reply = classify_reply(body)
    assert reply.new_state == "opted_in"
    assert not reply.help


@pytest.mark.parametrize("body", ["HELP", "help", "Info?", " info ", "¿Info?"])
def test_help_and_info_ask_for_the_help_reply(body: str) -> None:
    reply = classify_reply(body)
    assert reply.help
    assert reply.new_state is None


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Please stop",
        "stop please",
        "No more texts",
        "Stop sending me these messages",
        "Don't text me anymore",
        "Take me off your list",
        "Remove me from your list please",
        "No más mensajes por favor",
        "Ya no me manden mensajes",
        "Deja de enviarme mensajes",
        "No me envíen más textos",
        "No quiero más mensajes",
    ],
)
def test_a_request_to_stop_in_other_words_opts_out_and_is_flagged(body: str) -> None:
    reply = classify_reply(body)
    assert reply.new_state == "opted_out"
    assert reply.flag_for_staff
    assert not reply.help


@pytest.mark.parametrize(
    "body",
    [
        "Yes I'll be there at 2",
        "Can we stop by the library first?",
        "I stopped at the store, running late",
        "Don't stop texting me, the reminders help",
        "help me find the address",
    ],
)
def test_other_messages_change_nothing(body: str) -> None:
    reply = classify_reply(body)
    assert reply.new_state is None
    assert not reply.flag_for_staff
    assert not reply.help


def test_consent_recorded_then_yes_then_stop(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    journey.event("sms_consent_recorded", "2041-01-07T10:05", disclosure_version="v3")
    assert journey.state.sms_consent == "pending"
    assert [t.kind for t in journey.texts] == ["opt_in_confirmation"]
    assert [(c.state, c.disclosure_version) for c in journey.consent_changes] == [("pending", "v3")]

    journey.event("sms_reply", "2041-01-07T10:20", body="Yes!")
    assert journey.state.sms_consent == "opted_in"
    journey.event("sms_reply", "2041-01-09T18:00", body="stop")
    assert journey.state.sms_consent == "opted_out"
    assert [c.state for c in journey.consent_changes] == ["pending", "opted_in", "opted_out"]
    # The provider's own STOP reply is assumed: we send nothing back by default.
    assert [t.kind for t in journey.texts] == ["opt_in_confirmation"]


def test_help_gets_a_reply_and_keeps_consent(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(sms_consent="opted_in")
    journey.event("referred", "2041-01-07T10:00")
    journey.event("sms_reply", "2041-01-08T09:00", body="HELP")
    assert journey.state.sms_consent == "opted_in"
    assert [t.kind for t in journey.texts] == ["help_reply"]


def test_a_free_text_opt_out_is_flagged_and_gets_no_reply(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(sms_consent="opted_in")
    journey.event("referred", "2041-01-07T10:00")
    journey.event("sms_reply", "2041-01-08T09:00", event_id="sms-9", body="no more texts please")
    assert journey.state.sms_consent == "opted_out"
    assert journey.state.flagged_for_staff == ["sms-9"]
    assert journey.texts == []


def test_an_agency_that_answers_stop_itself_sends_its_own_reply(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    """Where the agency's number does not answer STOP for it (policy
    send_own_stop_reply), the journey answers; still not to a free-text stop."""
    journey = new_journey(sms_consent="opted_in", policy=Policy(send_own_stop_reply=True))
    journey.event("referred", "2041-01-07T10:00")
    journey.event("sms_reply", "2041-01-08T09:00", event_id="sms-1", body="no more texts")
    journey.event("sms_reply", "2041-01-08T09:05", body="START")
    journey.event("sms_reply", "2041-01-08T09:10", event_id="sms-3", body="Stop.")

    assert journey.state.sms_consent == "opted_out"
    assert [(t.kind, t.key) for t in journey.texts] == [
        ("opt_out_confirmation", "c-1/opt_out_confirmation/sms-3")
    ]
