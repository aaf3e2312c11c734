"""The tables as `Store.create_schema()` made them before there were migrations.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from store.models, which will change: a
# revision creates what the models were when it was written.
Text = sa.String().with_variant(sa.String(collation="C"), "postgresql")
Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "supervisors",
        sa.Column("id", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("email", Text, nullable=False),
        sa.Column("timezone", Text, nullable=False),
        sa.Column("phone", Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisors")),
    )
    op.create_table(
        "specialists",
        sa.Column("id", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("email", Text, nullable=False),
        sa.Column("timezone", Text, nullable=False),
        sa.Column("phone", Text, nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("supervisor_id", Text, nullable=True),
        sa.Column("fte", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["supervisors.id"],
            name=op.f("fk_specialists_supervisor_id_supervisors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specialists")),
    )
    op.create_index(op.f("ix_specialists_supervisor_id"), "specialists", ["supervisor_id"])
    op.create_table(
        "consumers",
        sa.Column("id", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("specialist_id", Text, nullable=False),
        sa.Column("timezone", Text, nullable=False),
        sa.Column("phone", Text, nullable=True),
        sa.Column("email", Text, nullable=True),
        sa.Column("sms_consent", Text, nullable=False),
        sa.Column("language", Text, nullable=False),
        sa.Column("team_member_id", Text, nullable=True),
        sa.Column("team_member_name", Text, nullable=True),
        sa.Column("team_member_role", Text, nullable=True),
        sa.Column("team_member_email", Text, nullable=True),
        sa.Column("team_member_phone", Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["specialist_id"],
            ["specialists.id"],
            name=op.f("fk_consumers_specialist_id_specialists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumers")),
    )
    op.create_index(op.f("ix_consumers_specialist_id"), "consumers", ["specialist_id"])
    op.create_index(op.f("ix_consumers_phone"), "consumers", ["phone"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", Text, nullable=False),
        sa.Column("type", Text, nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.Column("consumer_id", Text, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recorded_by", Text, nullable=True),
        sa.Column("recorded_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_events_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
    )
    op.create_index(op.f("ix_events_consumer_id_at_id"), "events", ["consumer_id", "at", "id"])
    op.create_index(op.f("ix_events_consumer_id_type"), "events", ["consumer_id", "type"])
    op.create_index(op.f("ix_events_at_id"), "events", ["at", "id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consumer_id", Text, nullable=False),
        sa.Column("job_id", Text, nullable=False),
        sa.Column("employer", Text, nullable=False),
        sa.Column("title", Text, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("hours_per_week", sa.Double(), nullable=False),
        sa.Column("hourly_wage", sa.Double(), nullable=False),
        sa.Column("competitive", sa.Boolean(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_reason", Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_jobs_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("consumer_id", "job_id", name=op.f("uq_jobs_consumer_id_job_id")),
    )
    op.create_table(
        "due_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", Text, nullable=False),
        sa.Column("consumer_id", Text, nullable=False),
        sa.Column("rule", Text, nullable=False),
        sa.Column("job_id", Text, nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", Text, nullable=False),
        sa.Column("satisfied_on", sa.Date(), nullable=True),
        sa.Column("referral_no", sa.Integer(), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_due_contacts_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_contacts")),
        sa.UniqueConstraint("key", name=op.f("uq_due_contacts_key")),
    )
    op.create_index(op.f("ix_due_contacts_consumer_id_due"), "due_contacts", ["consumer_id", "due"])
    op.create_index(op.f("ix_due_contacts_status_due"), "due_contacts", ["status", "due"])
    op.create_table(
        "due_contact_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", Text, nullable=False),
        sa.Column("status", Text, nullable=False),
        sa.Column("satisfied_on", sa.Date(), nullable=True),
        sa.Column("changed_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["key"], ["due_contacts.key"], name=op.f("fk_due_contact_changes_key_due_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_contact_changes")),
    )
    op.create_index(op.f("ix_due_contact_changes_key_id"), "due_contact_changes", ["key", "id"])
    op.create_table(
        "outreach_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", Text, nullable=False),
        sa.Column("consumer_id", Text, nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.Column("by", Text, nullable=False),
        sa.Column("role", Text, nullable=False),
        sa.Column("method", Text, nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_outreach_log_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outreach_log_event_id")),
    )
    op.create_index(
        op.f("ix_outreach_log_consumer_id_at_id"), "outreach_log", ["consumer_id", "at", "id"]
    )
    op.create_index(op.f("ix_outreach_log_at_id"), "outreach_log", ["at", "id"])
    op.create_table(
        "employer_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", Text, nullable=False),
        sa.Column("specialist_id", Text, nullable=False),
        sa.Column("employer", Text, nullable=False),
        sa.Column("face_to_face", sa.Boolean(), nullable=False),
        sa.Column("consumer_id", Text, nullable=True),
        sa.Column("at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["specialist_id"],
            ["specialists.id"],
            name=op.f("fk_employer_contacts_specialist_id_specialists"),
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumers.id"],
            name=op.f("fk_employer_contacts_consumer_id_consumers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employer_contacts")),
        sa.UniqueConstraint("event_id", name=op.f("uq_employer_contacts_event_id")),
    )
    op.create_index(
        op.f("ix_employer_contacts_specialist_id_at_id"),
        "employer_contacts",
        ["specialist_id", "at", "id"],
    )
    op.create_index(op.f("ix_employer_contacts_at_id"), "employer_contacts", ["at", "id"])
    op.create_index(op.f("ix_employer_contacts_consumer_id"), "employer_contacts", ["consumer_id"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consumer_id", Text, nullable=False),
        sa.Column("appointment_id", Text, nullable=False),
        sa.Column("start", Instant, nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", Text, nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_appointments_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint(
            "consumer_id",
            "appointment_id",
            name=op.f("uq_appointments_consumer_id_appointment_id"),
        ),
    )
    op.create_index(op.f("ix_appointments_start"), "appointments", ["start"])
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", Text, nullable=False),
        sa.Column("consumer_id", Text, nullable=False),
        sa.Column("state", Text, nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.Column("source", Text, nullable=False),
        sa.Column("disclosure_version", Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumers.id"],
            name=op.f("fk_consent_changes_consumer_id_consumers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_changes")),
        sa.UniqueConstraint("key", name=op.f("uq_consent_changes_key")),
    )
    op.create_index(
        op.f("ix_consent_changes_consumer_id_at_id"), "consent_changes", ["consumer_id", "at", "id"]
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", Text, nullable=False),
        sa.Column("channel", Text, nullable=False),
        sa.Column("recipient_role", Text, nullable=False),
        sa.Column("recipient_id", Text, nullable=False),
        sa.Column("recipient_timezone", Text, nullable=False),
        sa.Column("consumer_id", Text, nullable=True),
        sa.Column("rule", Text, nullable=True),
        sa.Column("kind", Text, nullable=False),
        sa.Column("send_at", Instant, nullable=False),
        sa.Column("status", Text, nullable=False),
        sa.Column("body", Text, nullable=False),
        sa.Column("subject", Text, nullable=True),
        sa.Column("provider_id", Text, nullable=True),
        sa.Column("error", Text, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("updated_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_notifications_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
    )
    op.create_index(
        op.f("ix_notifications_consumer_id_send_at"), "notifications", ["consumer_id", "send_at"]
    )
    op.create_index(
        op.f("ix_notifications_send_at_idempotency_key"),
        "notifications",
        ["send_at", "idempotency_key"],
    )
    op.create_index(op.f("ix_notifications_provider_id"), "notifications", ["provider_id"])
    op.create_table(
        "staff_users",
        sa.Column("id", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("role", Text, nullable=False),
        sa.Column("person_id", Text, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", Text, nullable=False),
        sa.Column("user_id", Text, nullable=False),
        sa.Column("token_hash", Text, nullable=False),
        sa.Column("label", Text, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("expires_at", Instant, nullable=False),
        sa.Column("revoked_at", Instant, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_api_tokens_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "feed_tokens",
        sa.Column("id", Text, nullable=False),
        sa.Column("user_id", Text, nullable=False),
        sa.Column("scope_kind", Text, nullable=False),
        sa.Column("scope_id", Text, nullable=False),
        sa.Column("token_hash", Text, nullable=False),
        sa.Column("label", Text, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("revoked_at", Instant, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_feed_tokens_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    )
    op.create_index(op.f("ix_feed_tokens_user_id"), "feed_tokens", ["user_id"])
    op.create_table(
        "staff_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.Column("user_id", Text, nullable=False),
        sa.Column("action", Text, nullable=False),
        sa.Column("kind", Text, nullable=False),
        sa.Column("record_id", Text, nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_changes")),
    )
    op.create_index(op.f("ix_staff_changes_kind_record_id"), "staff_changes", ["kind", "record_id"])
    op.create_table(
        "feed_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_key", Text, nullable=False),
        sa.Column("uid", Text, nullable=False),
        sa.Column("fingerprint", Text, nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("changed_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_entries")),
        sa.UniqueConstraint("feed_key", "uid", name=op.f("uq_feed_entries_feed_key_uid")),
    )


def downgrade() -> None:
    # Their indexes go with them; referring tables before the ones they refer to.
    for table in (
        "feed_entries",
        "staff_changes",
        "feed_tokens",
        "api_tokens",
        "staff_users",
        "notifications",
        "consent_changes",
        "appointments",
        "employer_contacts",
        "outreach_log",
        "due_contact_changes",
        "due_contacts",
        "jobs",
        "events",
        "consumers",
        "specialists",
        "supervisors",
    ):
        op.drop_table(table)
