"""The journey of one consumer as a pure state machine (SPEC §4–7).

`check_event` says whether an event may be recorded now, `apply_event`
records it, and `advance` moves the journey forward to a moment in time:
misses, successors (next monthly contact, next outreach task), reminders
whose moment has come. Each returns `Effects`: the due contacts that changed
and the notifications to send. `next_wake` is the next moment `advance` has
work to do. Nothing here reads a clock or does I/O: the workflow passes `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rules import calendar
from rules.consent import ConsentChange, classify_reply
from rules.due import (
    CANCELLED,
    CONTACT_RULES,
    DONE,
    FACE_TO_FACE_RULES,
    MISSED,
    NOT_APPLICABLE,
    OPEN,
    DueContact,
)
from rules.events import (
    AppointmentCancelled,
    AppointmentScheduled,
    BenefitsPlanningOffered,
    Contact,
    EmployerContact,
    Event,
    EventError,
    FirstMeeting,
    JobChanged,
    JobEnded,
    JobStarted,
    OutreachAttempt,
    Reassigned,
    Referred,
    ServicesDeclined,
    SmsConsentRecorded,
    SmsReply,
    StepDownDecision,
    VocationalProfileCompleted,
)
from rules.policy import Policy
from rules.reminders import appointment_reminder_time, staff_reminder_times

# How far an event's `at` may lie ahead of the journey's clock.
FUTURE_SKEW = timedelta(minutes=5)
# An event recorded up to this long after its `at` still counts as created at `at`
# (a reminder due in between is sent); older back-dating counts from now.
CREATION_GRACE = timedelta(minutes=5)
# Event ids kept in the workflow for a fast duplicate check; the store keeps all.
RECENT_EVENT_IDS = 500
# Settled due contacts stay in the workflow state this long (late documentation
# can still satisfy a missed one); the store keeps them for ever.
KEEP_SETTLED = timedelta(days=62)


@dataclass
class Job:
    job_id: str
    employer: str
    title: str
    start_date: date
    hours_per_week: float
    hourly_wage: float
    competitive: bool
    learned_on: date
    learned_at: datetime
    ended_on: date | None = None
    transitioned: bool = False


@dataclass
class Appointment:
    appointment_id: str
    start: datetime
    duration_minutes: int
    place: str
    booked_at: datetime
    cancelled: bool = False
    reminders_handled: list[int] = field(default_factory=list)


@dataclass
class Profile:
    """What the journey needs to know about the people around the consumer."""

    consumer_id: str
    timezone: str
    specialist_id: str
    specialist_timezone: str
    has_treatment_team_member: bool = False
    sms_consent: str = "none"
    prior_referrals: int = 0
    # The disclosure text version of the consumer's latest consent record.
    disclosure_version: str | None = None


@dataclass
class JourneyState:
    consumer_id: str
    timezone: str
    specialist_id: str
    specialist_timezone: str
    policy: Policy
    has_treatment_team_member: bool = False
    sms_consent: str = "none"
    referral_no: int = 0
    closed: bool = False
    referral_date: date | None = None
    entry_date: date | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    due_contacts: list[DueContact] = field(default_factory=list)
    in_outreach: bool = False
    outreach_episode: int = 0
    specialist_unreached_attempts: int = 0
    appointments: dict[str, Appointment] = field(default_factory=dict)
    recent_event_ids: list[str] = field(default_factory=list)
    # sms_reply events that asked to stop texts in the consumer's own words.
    flagged_for_staff: list[str] = field(default_factory=list)
    # The disclosure text the consumer's consent was given under: every later
    # change by reply records it too.
    disclosure_version: str | None = None

    @classmethod
    def new(cls, profile: Profile, policy: Policy) -> JourneyState:
        return cls(
            consumer_id=profile.consumer_id,
            timezone=profile.timezone,
            specialist_id=profile.specialist_id,
            specialist_timezone=profile.specialist_timezone,
            policy=policy,
            has_treatment_team_member=profile.has_treatment_team_member,
            sms_consent=profile.sms_consent,
            referral_no=profile.prior_referrals,
            closed=True,  # until the referral arrives
            disclosure_version=profile.disclosure_version,
        )


@dataclass
class StaffReminder:
    """A reminder of a due contact, to the specialist (and maybe others)."""

    key: str
    consumer_id: str
    due_contact_key: str
    rule: str
    kind: str
    window_start: date
    due: date
    send_at: datetime
    recipient_roles: list[str]
    job_id: str | None = None
    seq: int | None = None


@dataclass
class ConsumerText:
    """A text to the consumer. `status` is decided here: sent, skipped_no_consent
    or skipped_too_late."""

    key: str
    consumer_id: str
    kind: str
    send_at: datetime
    status: str
    appointment_id: str | None = None
    appointment_start: datetime | None = None
    place: str | None = None


@dataclass
class Effects:
    due_contacts: list[DueContact] = field(default_factory=list)
    reminders: list[StaffReminder] = field(default_factory=list)
    texts: list[ConsumerText] = field(default_factory=list)
    consent_changes: list[ConsentChange] = field(default_factory=list)

    def touch(self, dc: DueContact) -> None:
        if all(d.key != dc.key for d in self.due_contacts):
            self.due_contacts.append(dc)

    def extend(self, other: Effects) -> None:
        for dc in other.due_contacts:
            self.touch(dc)
        self.reminders.extend(other.reminders)
        self.texts.extend(other.texts)
        self.consent_changes.extend(other.consent_changes)

    def __bool__(self) -> bool:
        return bool(self.due_contacts or self.reminders or self.texts or self.consent_changes)


# ---------------------------------------------------------------- phase


def phase(state: JourneyState, today: date) -> str:
    if state.closed:
        return "closed"
    if state.entry_date is None:
        return "referred"
    active = [j for j in state.jobs.values() if j.ended_on is None]
    started = [j for j in active if j.start_date <= today]
    if any(not j.transitioned for j in started):
        return "working"
    if started:
        return "step_down"
    if active:
        return "job_pending"
    return "job_search"


def today(state: JourneyState, now: datetime) -> date:
    return calendar.local_date(now, state.timezone)


def has_ended(state: JourneyState) -> bool:
    """Closed by `services_declined` (not merely waiting for its first referral)."""
    return state.closed and state.referral_date is not None


# ---------------------------------------------------------------- checking


def event_instant(state: JourneyState, event: Event) -> datetime:
    return calendar.to_local(event.at, state.timezone)


def check_event(state: JourneyState, event: Event, now: datetime) -> None:
    """Raise `EventError` if the event cannot be recorded in this state."""
    at = event_instant(state, event)
    if at > now + FUTURE_SKEW:
        raise EventError("at", f"{at.isoformat()} is in the future; record events once they happen")
    day = at.date()
    if isinstance(event, Referred):
        if not state.closed:
            raise EventError(
                "type", "this consumer's journey is already open; a referral needs none"
            )
        return
    if state.closed and state.referral_no == 0:
        raise EventError("type", f"{event.type} before any referral; record a referral first")
    if state.closed:
        raise EventError(
            "type",
            f"the journey is closed; only a new referral can reopen it, not {event.type}",
        )
    if state.referral_date is not None and day < state.referral_date:
        raise EventError(
            "at", f"{day.isoformat()} is before the referral on {state.referral_date.isoformat()}"
        )
    if isinstance(event, FirstMeeting) and state.entry_date is not None:
        raise EventError(
            "type", f"the first meeting was already recorded on {state.entry_date.isoformat()}"
        )
    if isinstance(event, JobStarted) and event.job_id in state.jobs:
        raise EventError("job_id", f"job {event.job_id!r} was already recorded")
    if isinstance(event, (JobChanged, JobEnded, StepDownDecision)):
        job = state.jobs.get(event.job_id)
        if job is None:
            raise EventError("job_id", f"no job {event.job_id!r} was started for this consumer")
        if job.ended_on is not None:
            raise EventError(
                "job_id", f"job {event.job_id!r} already ended on {job.ended_on.isoformat()}"
            )
        if isinstance(event, JobEnded) and event.end_date < job.start_date:
            raise EventError(
                "end_date",
                f"{event.end_date.isoformat()} is before the job's start on "
                f"{job.start_date.isoformat()}",
            )
        if isinstance(event, StepDownDecision) and job.transitioned:
            raise EventError("job_id", f"job {event.job_id!r} has already stepped down")
    if isinstance(event, AppointmentScheduled) and event.appointment_id in state.appointments:
        raise EventError("appointment_id", f"appointment {event.appointment_id!r} already exists")
    if isinstance(event, AppointmentCancelled):
        appointment = state.appointments.get(event.appointment_id)
        if appointment is None:
            raise EventError("appointment_id", f"no appointment {event.appointment_id!r}")
        if appointment.cancelled:
            raise EventError(
                "appointment_id", f"appointment {event.appointment_id!r} is already cancelled"
            )


# ---------------------------------------------------------------- applying


def apply_event(state: JourneyState, event: Event, now: datetime) -> Effects:
    """Record a checked event. The caller has already run `check_event`."""
    effects = Effects()
    at = event_instant(state, event)
    day = at.date()
    created = min(now, max(at, now - CREATION_GRACE))
    _remember(state, event.event_id)

    if isinstance(event, Referred):
        _open_journey(state, day, created, effects)
    elif isinstance(event, FirstMeeting):
        state.entry_date = day
        _satisfy(state, {"first_meeting"}, day, effects)
        p = state.policy
        _create(
            state,
            "first_employer_contact",
            day,
            day + _d(p.first_employer_contact_days),
            created,
            effects,
        )
        _create(
            state, "vocational_profile", day, day + _d(p.vocational_profile_days), created, effects
        )
    elif isinstance(event, Contact):
        rules = {"job_loss_contact"}
        if event.method == "face_to_face":
            rules |= FACE_TO_FACE_RULES
        _satisfy(state, rules, day, effects)
        _end_outreach(state, effects)
    elif isinstance(event, EmployerContact):
        if event.face_to_face:
            _satisfy(state, {"first_employer_contact"}, day, effects)
    elif isinstance(event, VocationalProfileCompleted):
        _satisfy(state, {"vocational_profile", "vocational_profile_update"}, day, effects)
    elif isinstance(event, BenefitsPlanningOffered):
        _satisfy(state, {"benefits_planning"}, day, effects)
    elif isinstance(event, JobStarted):
        _start_job(state, event, day, created, effects)
    elif isinstance(event, JobChanged):
        job = state.jobs[event.job_id]
        if event.hours_per_week is not None:
            job.hours_per_week = event.hours_per_week
        if event.hourly_wage is not None:
            job.hourly_wage = event.hourly_wage
        _create(
            state,
            "benefits_planning",
            day,
            day + _d(state.policy.benefits_planning_job_changed_days),
            created,
            effects,
            job_id=job.job_id,
            # A job can change many times: each change has its own benefits planning.
            tag=f"changed-{event.event_id}",
        )
    elif isinstance(event, JobEnded):
        job = state.jobs[event.job_id]
        job.ended_on = event.end_date
        for dc in state.due_contacts:
            if dc.job_id == job.job_id and dc.status == OPEN:
                _set_status(dc, CANCELLED, effects)
        p = state.policy
        _create(
            state,
            "job_loss_contact",
            day,
            day + _d(p.job_loss_contact_days),
            created,
            effects,
            job_id=job.job_id,
        )
        _create(
            state,
            "vocational_profile_update",
            day,
            day + _d(p.vocational_profile_update_days),
            created,
            effects,
            job_id=job.job_id,
        )
    elif isinstance(event, OutreachAttempt):
        _satisfy(state, {"outreach_attempt"}, day, effects)
        if event.reached:
            _end_outreach(state, effects)
        elif state.in_outreach and (event.role == "specialist" or event.by == state.specialist_id):
            state.specialist_unreached_attempts += 1
    elif isinstance(event, StepDownDecision):
        _decide_step_down(state, event, day, created, effects)
    elif isinstance(event, ServicesDeclined):
        for dc in state.due_contacts:
            if dc.status == OPEN:
                _set_status(dc, CANCELLED, effects)
        state.in_outreach = False
        state.closed = True
    elif isinstance(event, Reassigned):
        state.specialist_id = event.specialist
    elif isinstance(event, AppointmentScheduled):
        _schedule_appointment(state, event, at, effects)
    elif isinstance(event, AppointmentCancelled):
        state.appointments[event.appointment_id].cancelled = True
    elif isinstance(event, SmsConsentRecorded):
        state.sms_consent = "pending"
        state.disclosure_version = event.disclosure_version
        effects.consent_changes.append(
            ConsentChange(
                state="pending", source="staff", disclosure_version=event.disclosure_version
            )
        )
        effects.texts.append(
            ConsumerText(
                key=f"{state.consumer_id}/opt_in_confirmation/{event.event_id}",
                consumer_id=state.consumer_id,
                kind="opt_in_confirmation",
                send_at=created,
                status="sent",
            )
        )
    elif isinstance(event, SmsReply):
        _handle_reply(state, event, created, effects)
    return effects


def _remember(state: JourneyState, event_id: str) -> None:
    state.recent_event_ids.append(event_id)
    del state.recent_event_ids[:-RECENT_EVENT_IDS]


def _d(days: int) -> timedelta:
    return timedelta(days=days)


def _open_journey(state: JourneyState, day: date, created: datetime, effects: Effects) -> None:
    state.referral_no += 1
    state.closed = False
    state.referral_date = day
    state.entry_date = None
    state.jobs = {}
    state.in_outreach = False
    state.specialist_unreached_attempts = 0
    state.appointments = {}
    _create(
        state, "first_meeting", day, day + _d(state.policy.first_meeting_days), created, effects
    )


def _key(
    state: JourneyState, rule: str, job_id: str | None, seq: int | None, tag: str | None
) -> str:
    scope = job_id or "-"
    if rule == "outreach_attempt":
        scope = f"e{state.outreach_episode}"
    key = f"{state.consumer_id}/r{state.referral_no}/{rule}/{scope}/{seq or '-'}"
    return key if tag is None else f"{key}/{tag}"


def _create(
    state: JourneyState,
    rule: str,
    window_start: date,
    due: date,
    created: datetime,
    effects: Effects,
    *,
    job_id: str | None = None,
    seq: int | None = None,
    status: str | None = None,
    tag: str | None = None,
) -> DueContact:
    if status is None:
        # A rule whose due day had already ended when the system learned of it.
        status = NOT_APPLICABLE if due < calendar.local_date(created, state.timezone) else OPEN
    dc = DueContact(
        key=_key(state, rule, job_id, seq, tag),
        rule=rule,
        window_start=window_start,
        due=due,
        created_at=created,
        referral_no=state.referral_no,
        status=status,
        job_id=job_id,
        seq=seq,
        outreach_episode=state.outreach_episode if rule == "outreach_attempt" else None,
    )
    state.due_contacts.append(dc)
    effects.touch(dc)
    return dc


def _set_status(dc: DueContact, status: str, effects: Effects, on: date | None = None) -> None:
    dc.status = status
    if on is not None:
        dc.satisfied_on = on
    effects.touch(dc)


def _satisfy(
    state: JourneyState,
    rules: set[str],
    day: date,
    effects: Effects,
    job_id: str | None = None,
) -> list[DueContact]:
    """Mark done every due contact of these rules whose window holds `day`.

    A missed one counts too: late documentation of a contact that happened in
    its window corrects the record (outreach already begun goes on).
    """
    met = []
    for dc in state.due_contacts:
        if (
            dc.rule in rules
            and dc.status in (OPEN, MISSED)
            and dc.contains(day)
            and (job_id is None or dc.job_id == job_id)
        ):
            _set_status(dc, DONE, effects, on=day)
            met.append(dc)
    return met


def _start_job(
    state: JourneyState, event: JobStarted, day: date, created: datetime, effects: Effects
) -> None:
    p = state.policy
    s = event.start_date
    state.jobs[event.job_id] = Job(
        job_id=event.job_id,
        employer=event.employer,
        title=event.title,
        start_date=s,
        hours_per_week=event.hours_per_week,
        hourly_wage=event.hourly_wage,
        competitive=event.competitive,
        learned_on=day,
        learned_at=created,
    )
    job = event.job_id
    if s > day:
        _create(state, "benefits_planning", day, s - _d(1), created, effects, job_id=job)
        _create(
            state,
            "pre_start_contact",
            max(day, s - _d(p.pre_start_days)),
            s - _d(1),
            created,
            effects,
            job_id=job,
        )
    else:
        _create(
            state,
            "benefits_planning",
            day,
            day + _d(p.benefits_planning_after_start_days),
            created,
            effects,
            job_id=job,
        )
        _create(
            state,
            "pre_start_contact",
            s - _d(p.pre_start_days),
            s - _d(1),
            created,
            effects,
            job_id=job,
            status=NOT_APPLICABLE,
        )
    post = max(s, day)
    _create(
        state,
        "post_start_contact",
        post,
        post + _d(p.post_start_days),
        created,
        effects,
        job_id=job,
    )
    for k in range(1, p.weekly_follow_along_weeks + 1):
        _create(
            state,
            "weekly_follow_along",
            s + _d(7 * (k - 1) + 1),
            s + _d(7 * k),
            created,
            effects,
            job_id=job,
            seq=k,
        )
    anchor = _monthly_anchor(state, s)
    _create(
        state,
        "monthly_follow_along",
        anchor + _d(1),
        calendar.add_months(anchor, 1),
        created,
        effects,
        job_id=job,
        seq=1,
    )
    review_due = calendar.add_months(anchor, p.step_down_review_months)
    _create(
        state,
        "step_down_review",
        review_due - _d(p.step_down_review_window_days),
        review_due,
        created,
        effects,
        job_id=job,
        seq=1,
    )


def _monthly_anchor(state: JourneyState, start: date) -> date:
    return start + _d(state.policy.monthly_follow_along_anchor_days)


def _decide_step_down(
    state: JourneyState, event: StepDownDecision, day: date, created: datetime, effects: Effects
) -> None:
    job = state.jobs[event.job_id]
    met = _satisfy(state, {"step_down_review"}, day, effects, job_id=job.job_id)
    if event.decision == "transition":
        job.transitioned = True
        for dc in state.due_contacts:
            if (
                dc.job_id == job.job_id
                and dc.status == OPEN
                and dc.rule
                in (
                    "monthly_follow_along",
                    "step_down_review",
                )
            ):
                _set_status(dc, CANCELLED, effects)
        return
    for review in met:
        _next_review(state, review, created, effects)


def _next_review(
    state: JourneyState, review: DueContact, created: datetime, effects: Effects
) -> None:
    p = state.policy
    due = calendar.add_months(review.due, p.step_down_review_months)
    _create(
        state,
        "step_down_review",
        due - _d(p.step_down_review_window_days),
        due,
        created,
        effects,
        job_id=review.job_id,
        seq=(review.seq or 0) + 1,
    )


def _end_outreach(state: JourneyState, effects: Effects) -> None:
    if not state.in_outreach:
        return
    for dc in state.due_contacts:
        if dc.rule == "outreach_attempt" and dc.status == OPEN:
            _set_status(dc, CANCELLED, effects)
    state.in_outreach = False
    state.specialist_unreached_attempts = 0


def _start_outreach(
    state: JourneyState, miss_day: date, created: datetime, effects: Effects
) -> None:
    state.in_outreach = True
    state.outreach_episode += 1
    state.specialist_unreached_attempts = 0
    _create(
        state,
        "outreach_attempt",
        miss_day,
        miss_day + _d(state.policy.outreach_weekly_interval_days),
        created,
        effects,
        seq=1,
    )


# ---------------------------------------------------------------- time


@dataclass
class _Moment:
    at: datetime
    order: int
    dc: DueContact | None = None
    kind: str | None = None
    appointment: Appointment | None = None
    offset_index: int | None = None


def _moments(state: JourneyState) -> list[_Moment]:
    """Everything that will happen by itself, in order of time."""
    found: list[_Moment] = []
    for dc in state.due_contacts:
        if not dc.settled:
            found.append(_Moment(calendar.end_of_day(dc.due, state.timezone), 0, dc=dc))
        if dc.status not in (OPEN, MISSED):
            continue
        for kind, at in staff_reminder_times(
            dc.window_start, dc.due, state.specialist_timezone, state.policy
        ).items():
            if kind in dc.reminders_handled:
                continue
            if kind != "overdue" and dc.status != OPEN:
                continue
            found.append(_Moment(at, 1, dc=dc, kind=kind))
    for appointment in state.appointments.values():
        if appointment.cancelled:
            continue
        for index, hours in enumerate(state.policy.appointment_reminder_offsets_hours):
            if index in appointment.reminders_handled:
                continue
            send_at = appointment_reminder_time(
                appointment.start, hours, appointment.booked_at, state.timezone, state.policy
            )
            if send_at is not None:
                found.append(_Moment(send_at, 2, appointment=appointment, offset_index=index))
    found.sort(key=lambda m: (m.at, m.order))
    return found


def next_wake(state: JourneyState, now: datetime) -> datetime | None:
    """The next moment `advance` has work to do (possibly already past)."""
    if state.closed:
        return None
    wakes = [m.at for m in _moments(state)]
    # The phase changes on a job's start day.
    for job in state.jobs.values():
        start = calendar.start_of_day(job.start_date, state.timezone)
        if job.ended_on is None and start > now:
            wakes.append(start)
    return min(wakes) if wakes else None


def advance(state: JourneyState, now: datetime) -> Effects:
    """Everything that has come due by `now`, in order of time."""
    effects = Effects()
    if state.closed:
        return effects
    # Handling one moment can create the next (a successor, a new outreach task),
    # so look again until nothing is left.
    while True:
        due_now = [m for m in _moments(state) if m.at <= now]
        if not due_now:
            break
        moment = due_now[0]
        if moment.dc is not None and moment.kind is None:
            _settle(state, moment.dc, moment.at, effects)
        elif moment.dc is not None and moment.kind is not None:
            _remind(state, moment.dc, moment.kind, moment.at, effects)
        elif moment.appointment is not None and moment.offset_index is not None:
            _remind_appointment(state, moment.appointment, moment.offset_index, moment.at, effects)
    _forget_settled(state, now)
    return effects


def _settle(state: JourneyState, dc: DueContact, at: datetime, effects: Effects) -> None:
    """The consumer's local day `due` has ended."""
    dc.settled = True
    miss_day = dc.due + _d(1)
    if dc.status == OPEN:
        _set_status(dc, MISSED, effects)
        if dc.rule in CONTACT_RULES and not state.in_outreach:
            _start_outreach(state, miss_day, at, effects)
    p = state.policy
    if dc.rule == "monthly_follow_along" and dc.status != CANCELLED and dc.job_id is not None:
        job = state.jobs.get(dc.job_id)
        if job is not None and job.ended_on is None and not job.transitioned:
            anchor = _monthly_anchor(state, job.start_date)
            m = (dc.seq or 0) + 1
            # A job learned late catches up: what was due before it was learned
            # is not_applicable, not missed.
            _create(
                state,
                "monthly_follow_along",
                miss_day,
                calendar.add_months(anchor, m),
                max(at, job.learned_at),
                effects,
                job_id=dc.job_id,
                seq=m,
            )
    elif (
        dc.rule == "outreach_attempt"
        and state.in_outreach
        and dc.outreach_episode == state.outreach_episode
    ):
        n = (dc.seq or 0) + 1
        interval = (
            p.outreach_weekly_interval_days
            if n <= p.outreach_weekly_attempts
            else p.outreach_later_interval_days
        )
        _create(state, "outreach_attempt", miss_day, dc.due + _d(interval), at, effects, seq=n)
    elif dc.rule == "step_down_review" and dc.status == MISSED and dc.job_id is not None:
        job = state.jobs.get(dc.job_id)
        if job is not None and job.ended_on is None and not job.transitioned:
            _next_review(state, dc, max(at, job.learned_at), effects)


def _remind(state: JourneyState, dc: DueContact, kind: str, at: datetime, effects: Effects) -> None:
    dc.reminders_handled.append(kind)
    if at < dc.created_at:
        return  # its moment had passed when the due contact was created
    if (kind == "overdue") != (dc.status == MISSED) or dc.status not in (OPEN, MISSED):
        return
    roles = ["specialist"]
    if (
        dc.rule == "outreach_attempt"
        and state.has_treatment_team_member
        and dc.outreach_episode == state.outreach_episode
        and state.specialist_unreached_attempts
        >= state.policy.outreach_attempts_before_treatment_team
    ):
        roles.append("treatment_team_member")
    effects.reminders.append(
        StaffReminder(
            key=f"{dc.key}/{kind}",
            consumer_id=state.consumer_id,
            due_contact_key=dc.key,
            rule=dc.rule,
            kind=kind,
            window_start=dc.window_start,
            due=dc.due,
            send_at=at,
            recipient_roles=roles,
            job_id=dc.job_id,
            seq=dc.seq,
        )
    )


def _forget_settled(state: JourneyState, now: datetime) -> None:
    """Keep the workflow state small: the store has the full record."""
    horizon = calendar.local_date(now - KEEP_SETTLED, state.timezone)
    state.due_contacts = [
        dc
        for dc in state.due_contacts
        if not (dc.settled and dc.status != OPEN and dc.due < horizon)
    ]
    for appointment_id, appointment in list(state.appointments.items()):
        if appointment.start < now - KEEP_SETTLED:
            del state.appointments[appointment_id]


# ---------------------------------------------------------------- consumer texts


def _schedule_appointment(
    state: JourneyState, event: AppointmentScheduled, at: datetime, effects: Effects
) -> None:
    start = calendar.to_local(event.start, state.timezone)
    appointment = Appointment(
        appointment_id=event.appointment_id,
        start=start,
        duration_minutes=event.duration_minutes,
        place=event.place,
        booked_at=at,
    )
    state.appointments[event.appointment_id] = appointment
    for index, hours in enumerate(state.policy.appointment_reminder_offsets_hours):
        if appointment_reminder_time(start, hours, at, state.timezone, state.policy) is None:
            appointment.reminders_handled.append(index)
            effects.texts.append(
                _appointment_text(state, appointment, index, at, "skipped_too_late")
            )


def _remind_appointment(
    state: JourneyState, appointment: Appointment, index: int, at: datetime, effects: Effects
) -> None:
    appointment.reminders_handled.append(index)
    status = "sent" if state.sms_consent == "opted_in" else "skipped_no_consent"
    effects.texts.append(_appointment_text(state, appointment, index, at, status))


def _appointment_text(
    state: JourneyState, appointment: Appointment, index: int, send_at: datetime, status: str
) -> ConsumerText:
    return ConsumerText(
        key=f"{state.consumer_id}/r{state.referral_no}/appointment/{appointment.appointment_id}/{index}",
        consumer_id=state.consumer_id,
        kind="appointment_reminder",
        send_at=send_at,
        status=status,
        appointment_id=appointment.appointment_id,
        appointment_start=appointment.start,
        place=appointment.place,
    )


def _handle_reply(state: JourneyState, event: SmsReply, now: datetime, effects: Effects) -> None:
    reply = classify_reply(event.body)
    if reply.new_state is not None and reply.new_state != state.sms_consent:
        state.sms_consent = reply.new_state
        effects.consent_changes.append(
            ConsentChange(
                state=reply.new_state,
                source=reply.source,
                disclosure_version=state.disclosure_version,
            )
        )
    if reply.flag_for_staff:
        state.flagged_for_staff.append(event.event_id)
    elif reply.new_state == "opted_out" and state.policy.send_own_stop_reply:
        # Twilio answers STOP itself unless the agency turned that off.
        effects.texts.append(
            ConsumerText(
                key=f"{state.consumer_id}/opt_out_confirmation/{event.event_id}",
                consumer_id=state.consumer_id,
                kind="opt_out_confirmation",
                send_at=now,
                status="sent",
            )
        )
    if reply.help:
        effects.texts.append(
            ConsumerText(
                key=f"{state.consumer_id}/help_reply/{event.event_id}",
                consumer_id=state.consumer_id,
                kind="help_reply",
                send_at=now,
                status="sent",
            )
        )


def consent_as_stored(state: JourneyState, sms_consent: str) -> None:
    """The consent found in the store when a text went. Only an opt-out can be
    news: the provider refused a text because the consumer unsubscribed (Twilio
    21610), and the store has recorded it. No later text goes until they opt in."""
    if sms_consent == "opted_out":
        state.sms_consent = "opted_out"


# ---------------------------------------------------------------- views


@dataclass
class DueContactView:
    key: str
    rule: str
    job_id: str | None
    seq: int | None
    window_start: date
    due: date
    status: str
    satisfied_on: date | None


@dataclass
class JourneyView:
    consumer: str
    phase: str
    in_outreach: bool
    closed: bool
    referral_no: int
    specialist: str
    sms_consent: str
    policy_version: str
    due_contacts: list[DueContactView]
    # Event ids of text replies that asked to stop in the consumer's own words.
    flagged_for_staff: list[str] = field(default_factory=list)


def view(state: JourneyState, now: datetime) -> JourneyView:
    return JourneyView(
        consumer=state.consumer_id,
        phase=phase(state, today(state, now)),
        in_outreach=state.in_outreach,
        closed=state.closed,
        referral_no=state.referral_no,
        specialist=state.specialist_id,
        sms_consent=state.sms_consent,
        policy_version=state.policy.version,
        due_contacts=[
            DueContactView(
                dc.key,
                dc.rule,
                dc.job_id,
                dc.seq,
                dc.window_start,
                dc.due,
                dc.status,
                dc.satisfied_on,
            )
            for dc in state.due_contacts
            if dc.status in (OPEN, MISSED)
        ],
        flagged_for_staff=list(state.flagged_for_staff),
    )
