"""Due contacts: what each rule asks for, and what satisfies it (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

OPEN = "open"
DONE = "done"
MISSED = "missed"
CANCELLED = "cancelled"
NOT_APPLICABLE = "not_applicable"

RULE_WORDS: dict[str, str] = {
    "first_meeting": "First meeting",
    "first_employer_contact": "First employer contact",
    "vocational_profile": "Vocational profile",
    "benefits_planning": "Benefits planning",
    "pre_start_contact": "Contact before job start",
    "post_start_contact": "Contact after job start",
    "weekly_follow_along": "Weekly follow-along",
    "monthly_follow_along": "Monthly follow-along",
    "step_down_review": "Step-down review",
    "job_loss_contact": "Contact after job loss",
    "vocational_profile_update": "Vocational profile update",
    "outreach_attempt": "Outreach attempt",
}

# A miss of one of these starts outreach (SPEC §5, outreach_attempt row).
CONTACT_RULES = frozenset(
    {
        "first_meeting",
        "pre_start_contact",
        "post_start_contact",
        "weekly_follow_along",
        "monthly_follow_along",
        "job_loss_contact",
    }
)

FACE_TO_FACE_RULES = frozenset(
    {"pre_start_contact", "post_start_contact", "weekly_follow_along", "monthly_follow_along"}
)


@dataclass
class DueContact:
    key: str
    rule: str
    window_start: date
    due: date
    created_at: datetime
    referral_no: int
    status: str = OPEN
    job_id: str | None = None
    seq: int | None = None
    satisfied_on: date | None = None
    outreach_episode: int | None = None
    # The end of its due day has been handled (miss, successor).
    settled: bool = False
    # Reminder kinds already sent or passed over, so none goes twice.
    reminders_handled: list[str] = field(default_factory=list)

    def contains(self, day: date) -> bool:
        return self.window_start <= day <= self.due


def rule_in_words(rule: str) -> str:
    return RULE_WORDS.get(rule, rule.replace("_", " ").capitalize())
