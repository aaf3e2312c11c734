"""Every template, in every language, rendered with realistic data and sent the way
the journey sends it: no text, email subject or log line carries a clinical word
or the consumer's name (SPEC §6, §7). A text longer than one SMS segment is
reported as a warning, not a failure."""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import ActivityEnvironment

from activities.journey import AgencySettings, JourneyActivities
from activities.sweeps import (
    CASELOAD,
    DAILY_DIGEST,
    EMPLOYER_CONTACTS_NUDGE,
    WEEKLY_DIGEST,
    SweepActivities,
    SweepInput,
)
from notifiers import OutgoingMessage, RecordingNotifier, messages
from rules.due import RULE_WORDS
from rules.journey import ConsumerText, StaffReminder
from rules.policy import Policy
from store import (
    AppointmentRecord,
    ConsumerRecord,
    DueContactRecord,
    EventRecord,
    SpecialistRecord,
    Store,
    SupervisorRecord,
    TreatmentTeamMember,
)

CONSUMER_NAME = "Alexandra María Gómez-Smith"
CASE_ID = "c-2041-0317"
CONSUMER_PHONE = "+15555550123"
LABEL = "Wellspring Works"
PHONE = "+15555550100"
PLACE = "Eastside Public Library, 2nd floor"
APP_URL = "https://app.wellspring.example"
TZ = ZoneInfo("America/New_York")
# US clocks go forward on Sun 2041-03-10 and back on Sun 2041-11-03: due dates
# and appointments on the Monday after, reminders sent across the change.
AROUND_DST = (date(2041, 3, 11), date(2041, 11, 4))
APPOINTMENTS = (
    datetime(2041, 3, 11, 13, 0, tzinfo=TZ),  # 1:00 PM, "a la"
    datetime(2041, 11, 4, 9, 30, tzinfo=TZ),
    datetime(2041, 3, 10, 15, 45, tzinfo=TZ),  # on the day of the change
    datetime(2041, 9, 25, 12, 0, tzinfo=TZ),  # miércoles 25 de septiembre: the longest names
)
BEFORE = (timedelta(hours=2), timedelta(hours=24), timedelta(hours=48))

# Diagnoses, treatment and the program's own name, in English and Spanish. A
# word ending in * matches every word it starts; matching ignores case and accents.
CLINICAL_WORDS = (
    "schizo*", "bipolar", "depress*", "psych*", "mental*", "substance*", "addict*",
    "alcohol*", "opioid*", "diagnos*", "therap*", "medicat*", "clinic*", "treatment*",
    "disorder*", "illness*", "rehab*", "counseling", "behavioral health", "IPS", "SMI",
    "supported employment",
    "esquizo*", "depresi*", "psicosis", "psicot*", "psiqui*", "psicolog*", "salud mental",
    "sustancia*", "adicci*", "diagnostic*", "terapi*", "terapeut*", "medicament*",
    "medicacion*", "clinic*", "tratamiento*", "trastorno*", "enfermedad*", "rehabilitacion*",
    "salud conductual", "empleo con apoyo",
)  # fmt: skip


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _pattern(word: str) -> str:
    stem = re.escape(_fold(word.removesuffix("*"))).replace(r"\ ", r"\s+")
    return rf"\b{stem}\w*" if word.endswith("*") else rf"\b{stem}\b"


_CLINICAL = re.compile("|".join(_pattern(w) for w in CLINICAL_WORDS))


def clinical_words_in(text: str) -> list[str]:
    return [m.group(0) for m in _CLINICAL.finditer(_fold(text))]


def name_parts(full_name: str) -> set[str]:
    """The full name, each of its names and each half of a double surname."""
    words = full_name.split()
    return {full_name, *words, *(p for w in words for p in w.split("-"))} - {""}


def names_in(text: str, full_name: str) -> list[str]:
    folded = _fold(text)
    return sorted(p for p in name_parts(full_name) if re.search(_pattern(p), folded))


def privacy_problems(text: str, full_name: str) -> list[str]:
    return [f"clinical word {w!r}" for w in clinical_words_in(text)] + [
        f"the consumer's name {n!r}" for n in names_in(text, full_name)
    ]


# ---------------------------------------------------------------- the detector itself


@pytest.mark.parametrize(
    "text",
    [
        "Reminder from Riverside Mental Health: meeting with Jordan tomorrow",
        "Your therapist Jordan: Reply STOP to opt out.",
        "Recordatorio: cita en la Clínica de Salud Mental",
        "Recordatorio de su TRATAMIENTO mañana",
        "diagnostico pendiente",  # without its accent
        "Psychiatric Services of Main St",
        "Your IPS specialist",
        "Supported  Employment team",
        "Empleo con apoyo: reunión con Jordan",
        "Overdue: First meeting for Alexandra María Gómez-Smith",
        "Overdue: First meeting for GOMEZ-SMITH (c-1)",
        "meeting with Ms. Smith",
        "email c-1/r1/first_meeting/-/-/due_soon/treatment_team_member/email recorded",
    ],
)
def test_the_check_flags_a_clinical_word_or_the_name(text: str) -> None:
    assert privacy_problems(text, CONSUMER_NAME)


@pytest.mark.parametrize(
    "text",
    [
        "Reminder from Wellspring Works: meeting with Jordan tomorrow 1:00 PM at "
        "Eastside Public Library, 2nd floor. Reply STOP to opt out.",
        "Overdue: First meeting for A.M.G. (c-2041-0317) was due Mon Mar 11.",
        "Tips for chips at the Smithfield Library",
        "Recordatorio de Wellspring Works: reunión con Jordan mañana a las 2:00 PM.",
    ],
)
def test_the_check_passes_a_plain_text(text: str) -> None:
    assert privacy_problems(text, CONSUMER_NAME) == []


# ---------------------------------------------------------------- sending everything


@dataclass
class Sent:
    message: OutgoingMessage
    template: tuple[str, str]  # (language, name) of the body's template


@dataclass
class Run:
    store: Store
    notifier: RecordingNotifier
    rendered: list[tuple[str, str]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def send(self, activity: Any, arg: Any) -> None:
        first_rendered, first_sent = len(self.rendered), len(self.notifier.sent)
        ActivityEnvironment().run(activity, arg)
        assert len(self.rendered) > first_rendered
        body_template = self.rendered[-1]  # a message renders its body last
        self.sent += [Sent(m, body_template) for m in self.notifier.sent[first_sent:]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    store = Store(f"sqlite:///{tmp_path / 'ips.db'}")
    store.create_schema()
    store.upsert_specialist(
        SpecialistRecord(
            id="es-1",
            name="Jordan Lee",
            email="jordan@wellspring.example",
            timezone="America/New_York",
            phone="+15555550101",
            channels=["sms", "email"],
        )
    )
    # Echo: the log line the worker writes for each message when no provider is configured.
    result = Run(store, RecordingNotifier(echo=True))
    real_render = messages.render

    def recording_render(name: str, language: str = "en", **values: str) -> str:
        result.rendered.append((language, name))
        return real_render(name, language, **values)

    monkeypatch.setattr(messages, "render", recording_render)
    yield result
    store.dispose()


def _consumer(store: Store, language: str, *, team_member: bool = False) -> None:
    store.upsert_consumer(
        ConsumerRecord(
            id=CASE_ID,
            name=CONSUMER_NAME,
            specialist_id="es-1",
            timezone="America/New_York",
            phone=CONSUMER_PHONE,
            email="alexandra.gomez-smith@mail.example",
            sms_consent="opted_in",
            language=language,
            treatment_team_member=TreatmentTeamMember(
                id="cm-1",
                name="Casey Wu",
                role="case_manager",
                email="casey@wellspring.example",
                phone="+15555550130",
            )
            if team_member
            else None,
        )
    )


def _staff_reminders(roles: list[str]) -> Iterator[StaffReminder]:
    send_day = {"due_soon": -2, "due_today": 0, "overdue": 1}
    for rule in RULE_WORDS:
        for due in AROUND_DST:
            for window_start in (due - timedelta(days=7), due):
                for kind, offset in send_day.items():
                    dc_key = f"{CASE_ID}/r1/{rule}/-/-/{due}/{window_start}"
                    yield StaffReminder(
                        key=f"{dc_key}/{kind}",
                        consumer_id=CASE_ID,
                        due_contact_key=dc_key,
                        rule=rule,
                        kind=kind,
                        window_start=window_start,
                        due=due,
                        send_at=datetime.combine(due + timedelta(days=offset), time(8), TZ),
                        recipient_roles=roles,
                    )


def _consumer_texts(place: str) -> Iterator[ConsumerText]:
    for kind in ("opt_in_confirmation", "opt_out_confirmation", "help_reply"):
        yield ConsumerText(
            key=f"{CASE_ID}/{kind}/ev-1",
            consumer_id=CASE_ID,
            kind=kind,
            send_at=datetime(2041, 3, 9, 19, 0, tzinfo=TZ),
            status="sent",
        )
    for n, start in enumerate(APPOINTMENTS):
        for index, before in enumerate(BEFORE):
            yield ConsumerText(
                key=f"{CASE_ID}/r1/appointment/a-{n}/{index}",
                consumer_id=CASE_ID,
                kind="appointment_reminder",
                send_at=start - before,
                status="sent",
                appointment_id=f"a-{n}",
                appointment_start=start,
                place=place,
            )


def _send_everything(
    run: Run, agency: AgencySettings, roles: list[str], place: str = PLACE
) -> None:
    activities = JourneyActivities(run.store, run.notifier, agency)
    for reminder in _staff_reminders(roles):
        run.send(activities.send_staff_reminder, reminder)
    for text in _consumer_texts(place):
        run.send(activities.send_consumer_text, text)
    # The HELP reply once more, from an agency without a contact phone.
    without_phone = JourneyActivities(
        run.store, run.notifier, dataclasses.replace(agency, contact_phone=None)
    )
    help_text = next(t for t in _consumer_texts(place) if t.kind == "help_reply")
    run.send(
        without_phone.send_consumer_text,
        dataclasses.replace(help_text, key=f"{CASE_ID}/help_reply/ev-2"),
    )
    _send_sweeps(run, agency)


def _send_sweeps(run: Run, agency: AgencySettings) -> None:
    """Every sweep once, with something in each of the daily digest's lists but
    one (so that `digest_none` is rendered too), a team with a caseload over the
    limit, and a supervisor without a team."""
    store = run.store
    store.upsert_supervisor(
        SupervisorRecord(id="sup-1", name="Pat Kim", email="pat@example.org", timezone="UTC")
    )
    store.upsert_supervisor(
        SupervisorRecord(id="sup-2", name="Sam Roe", email="sam@example.org", timezone="UTC")
    )
    specialist = store.get_specialist("es-1")
    assert specialist is not None
    store.upsert_specialist(dataclasses.replace(specialist, supervisor_id="sup-1", fte=0.01))
    today = AROUND_DST[0]
    at = datetime.combine(today, time(7, 30), TZ)
    store.record_event(
        EventRecord(
            f"{CASE_ID}-referred", "referred", at - timedelta(days=30), CASE_ID, {}, None, at
        )
    )
    store.save_due_contacts(
        [
            DueContactRecord(
                key=f"{CASE_ID}/sweep/{rule}",
                consumer_id=CASE_ID,
                rule=rule,
                job_id=None,
                seq=None,
                window_start=due - timedelta(days=7),
                due=due,
                status=status,
                satisfied_on=None,
                referral_no=1,
                created_at=at,
            )
            for rule, due, status in (
                ("vocational_profile", today, "open"),
                ("first_meeting", today - timedelta(days=6), "missed"),
                ("outreach_attempt", today + timedelta(days=1), "open"),
            )
        ],
        at,
    )
    store.upsert_appointment(
        AppointmentRecord(CASE_ID, "sweep-a", at + timedelta(hours=6), 30, PLACE)
    )
    activities = SweepActivities(store, run.notifier, agency)
    policy = Policy()
    runs = [
        (activities.send_daily_digest, DAILY_DIGEST, "es-1", today),
        (activities.send_daily_digest, DAILY_DIGEST, "es-1", today + timedelta(days=1)),
        (activities.send_weekly_digest, WEEKLY_DIGEST, "sup-1", today),
        (activities.send_weekly_digest, WEEKLY_DIGEST, "sup-2", today),
        (activities.send_employer_contacts_nudge, EMPLOYER_CONTACTS_NUDGE, "es-1", today),
        (activities.check_caseloads, CASELOAD, "sup-1", today),
    ]
    for activity, sweep, recipient, day in runs:
        when = datetime.combine(day, time(7, 30), TZ)
        run.send(activity, SweepInput(sweep, recipient, day.isoformat(), policy, when))


def _problems(run: Run, log_records: list[logging.LogRecord]) -> list[str]:
    problems: list[str] = []
    for sent in run.sent:
        m = sent.message
        where = f"{'/'.join(sent.template)}.txt, {m.channel} {m.idempotency_key}"
        for part, text in (("body", m.body), ("subject", m.subject or "")):
            problems += [
                f"{where} {part}: {p}: {text!r}" for p in privacy_problems(text, CONSUMER_NAME)
            ]
    for record in log_records:
        line = record.getMessage()
        problems += [f"log line: {p}: {line!r}" for p in privacy_problems(line, CONSUMER_NAME)]
    return problems


def _assert_none(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problems, among them:\n" + "\n".join(problems[:10])


class LongTextWarning(UserWarning):
    pass


def _warn_about_long_texts(run: Run) -> None:
    seen = set()
    for sent in run.sent:
        body = sent.message.body
        if sent.message.channel != "sms" or body in seen:
            continue
        seen.add(body)
        segments = messages.sms_segments(body)
        if segments > 1:
            language, name = sent.template
            warnings.warn(
                f"template {name}.txt ({language}): an SMS of {len(body)} characters in "
                f"{messages.sms_encoding(body)} takes {segments} segments: {body!r}",
                LongTextWarning,
                stacklevel=2,
            )


def _template_files(language: str) -> set[tuple[str, str]]:
    folder = resources.files("notifiers") / "templates" / language
    return {(language, f.name[: -len(".txt")]) for f in folder.iterdir() if f.name.endswith(".txt")}


AGENCY = AgencySettings(sender_label=LABEL, app_url=APP_URL, contact_phone=PHONE)


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_no_text_subject_or_log_line_names_the_consumer_or_a_clinical_word(
    language: str, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    _consumer(run.store, language)
    caplog.set_level(logging.DEBUG)

    _send_everything(run, AGENCY, ["specialist"])

    _assert_none(_problems(run, caplog.records))
    _warn_about_long_texts(run)
    # Every template file of the language was rendered, so none escaped the check ...
    assert _template_files(language) <= set(run.rendered)
    # ... consumer texts went out in the consumer's language, staff reminders in English ...
    to_consumer = {s.template[0] for s in run.sent if s.message.to == CONSUMER_PHONE}
    to_staff = {s.template[0] for s in run.sent if s.message.to != CONSUMER_PHONE}
    assert (to_consumer, to_staff) == ({language}, {"en"})
    # ... and the log lines checked are there: one per message.
    assert len(caplog.records) >= len(run.sent) > 0


def test_copies_to_the_treatment_team_name_neither(run: Run) -> None:
    _consumer(run.store, "es", team_member=True)

    _send_everything(run, AGENCY, ["specialist", "treatment_team_member"])

    assert {s.message.to for s in run.sent} >= {"casey@wellspring.example", "+15555550130"}
    _assert_none(_problems(run, log_records=[]))  # their log lines: the next test


def test_log_lines_about_copies_to_the_treatment_team_have_no_clinical_word(
    run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    _consumer(run.store, "en", team_member=True)
    caplog.set_level(logging.DEBUG)

    _send_everything(run, AGENCY, ["specialist", "treatment_team_member"])

    _assert_none(_problems(run, caplog.records))


@pytest.mark.parametrize(
    "agency",
    [
        AgencySettings(sender_label="Riverside Mental Health", app_url=APP_URL),
        AgencySettings(sender_label=LABEL, app_url="https://ips.riverside.example"),
    ],
)
def test_the_check_fails_on_a_clinical_sender_label_or_link(
    agency: AgencySettings, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    _consumer(run.store, "es")

    _send_everything(run, agency, ["specialist"])

    assert _problems(run, caplog.records)


def test_the_check_fails_on_a_place_that_names_the_consumer(run: Run) -> None:
    _consumer(run.store, "en")

    _send_everything(run, AGENCY, ["specialist"], place="the Gómez home")

    assert any("'Gómez'" in p for p in _problems(run, log_records=[]))
