"""Tables the assistant owns (all prefixed `clonus_`); Rasa's `events` table is described in bot.db.tracker."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

# Names for constraints and indexes, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))

LEVELS = (
    "self_care",
    "routine",
    "urgent",
    "emergency",
)  # ascending severity, as bot.triage.LEVELS
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
APPOINTMENT_STATUSES = ("new", "contacted", "booked", "cancelled")
ROLES = ("staff", "admin")


UTC = timezone.utc  # noqa: UP017  (datetime.UTC is Python 3.11+; the assistant runs on 3.10)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime, stored in UTC on every database.

    SQLite has no time zone type, so the value is stored naive-in-UTC there and made aware again on
    the way out; naive datetimes are refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(values: tuple) -> str:
    return ", ".join(f"'{v}'" for v in values)


class AppointmentRequest(Base):
    __tablename__ = "clonus_appointment_request"
    __table_args__ = (
        sa.CheckConstraint(f"status IN ({_in(APPOINTMENT_STATUSES)})", name="status"),
        sa.Index("ix_clonus_appointment_request_status_created", "status", "created_at"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    patient_name = sa.Column(sa.String(200), nullable=False)
    phone_e164 = sa.Column(sa.String(20), nullable=False)
    preferred_time = sa.Column(UTCDateTime(), nullable=True)
    reason = sa.Column(sa.Text, nullable=True)
    triage_level = sa.Column(sa.String(16), nullable=True)  # level when the request was made
    status = sa.Column(sa.String(16), nullable=False, default="new", server_default="new")
    # SHA-256 hex of (conversation, the stored turn the booking follows, the booking's content):
    # a turn resent after the Rasa server refused to store it finds the request it made (0009).
    idempotency_key = sa.Column(sa.String(64), nullable=True, unique=True)
    # Timestamp of the user message of the turn that made (or, resent, found) it: shown to staff
    # only when that message is in Rasa's `events` (bot.db.in_transcript; NULL: always) (0010).
    turn_timestamp = sa.Column(sa.Float(), nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


class TriageAssessment(Base):
    __tablename__ = "clonus_triage_assessment"
    __table_args__ = (sa.Index("ix_clonus_triage_assessment_conv_created", "conversation_id", "created_at"),)

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False)
    level = sa.Column(sa.String(16), nullable=False)
    rule_ids = sa.Column(sa.JSON, nullable=False, default=list)
    reasons = sa.Column(sa.JSON, nullable=False, default=list)
    medications = sa.Column(sa.JSON, nullable=False, default=list)
    # SHA-256 hex of (conversation, the stored turn it follows, the action): a resent turn
    # replaces the row its refused attempt wrote (0009).
    idempotency_key = sa.Column(sa.String(64), nullable=True, unique=True)
    # Timestamp of the user message of the turn that wrote it: shown to staff only when that
    # message is in Rasa's `events` (bot.db.in_transcript; NULL: always) (0010).
    turn_timestamp = sa.Column(sa.Float(), nullable=True)
    # The decision record (bot.decision, the `triage_decision` event) this row projects, and who
    # made it (action | failsafe); NULL on rows written before records existed (0014). The console
    # shows the record, never a row that has one.
    decision_id = sa.Column(sa.String(64), nullable=True, unique=True)
    source = sa.Column(sa.String(16), nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)


class StaffUser(Base):
    __tablename__ = "clonus_staff_user"
    __table_args__ = (sa.CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),)

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(150), nullable=False, unique=True)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False, default="staff", server_default="staff")
    is_active = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)


class LoginBackoff(Base):
    """Consecutive failed sign-ins of one (account, client) key, and when the next attempt is
    allowed (console.throttle). The key is a SHA-256 of the account name and the client: the
    browser's signed device cookie when it has one for this account, otherwise its IP address."""

    __tablename__ = "clonus_login_backoff"

    key_hash = sa.Column(sa.String(64), primary_key=True)
    username = sa.Column(sa.String(150), nullable=False, index=True)
    failures = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    next_allowed_at = sa.Column(UTCDateTime(), nullable=True)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)


class ConversationReview(Base):
    __tablename__ = "clonus_conversation_review"

    conversation_id = sa.Column(sa.String(255), primary_key=True)  # unique by being the key
    reviewed = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    reviewed_by = sa.Column(sa.String(150), nullable=True)
    reviewed_at = sa.Column(UTCDateTime(), nullable=True)


class ReviewNote(Base):
    __tablename__ = "clonus_review_note"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    author = sa.Column(sa.String(150), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)


class AuditLog(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the initial migration)."""

    __tablename__ = "clonus_audit_log"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor = sa.Column(sa.String(150), nullable=False, index=True)
    action = sa.Column(sa.String(64), nullable=False, index=True)
    target = sa.Column(sa.String(255), nullable=True)
    detail = sa.Column(sa.JSON, nullable=True)


class SmsOptOut(Base):
    __tablename__ = "clonus_sms_opt_out"

    phone_e164 = sa.Column(sa.String(20), primary_key=True)
    opted_out = sa.Column(sa.Boolean, nullable=False)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


class SmsMessageSeen(Base):
    """A Twilio MessageSid that was already processed (webhook retries are answered once)."""

    __tablename__ = "clonus_sms_message_seen"

    message_sid = sa.Column(sa.String(64), primary_key=True)
    received_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)


class SmsMorePage(Base):
    """A page of a long SMS reply not sent yet: the person gets it by replying MORE (on any server,
    after a restart), once; it expires at `expires_at` (rasa_ext.channels.twilio_sms.MORE_KEEP)."""

    __tablename__ = "clonus_sms_more_page"

    conversation_id = sa.Column(sa.String(64), primary_key=True)  # the sender id: the E.164 number
    seq = sa.Column(sa.Integer, primary_key=True)  # 1 is sent first
    text = sa.Column(sa.Text, nullable=False)
    expires_at = sa.Column(UTCDateTime(), nullable=False, index=True)


class ConversationSummary(Base):
    """One row per conversation, derived from Rasa's `events` and from triage assessments.

    The console filters and sorts this table instead of aggregating `events` on every request
    (bot.db.conversations keeps it up to date); it can be rebuilt from the sources at any time.
    """

    __tablename__ = "clonus_conversation"
    __table_args__ = (
        sa.Index("ix_clonus_conversation_level_last_id", "level_rank", "last_at", "conversation_id"),
        sa.Index("ix_clonus_conversation_first_level", "first_at", "triage_level"),
    )

    conversation_id = sa.Column(sa.String(255), primary_key=True)
    # opaque id for URLs and logs (conversation ids are phone numbers on SMS channels)
    ref = sa.Column(sa.String(32), nullable=True, unique=True, index=True)
    first_at = sa.Column(UTCDateTime(), nullable=True)
    last_at = sa.Column(UTCDateTime(), nullable=True, index=True)
    channel = sa.Column(sa.String(64), nullable=True, index=True)
    triage_level = sa.Column(sa.String(16), nullable=True)
    level_rank = sa.Column(sa.Integer, nullable=False, default=-1, server_default="-1")
    # ",SS-HUNTER,COMBO-MAOI," so that one rule id is matched exactly with LIKE '%,ID,%'
    rule_ids = sa.Column(sa.Text, nullable=False, default="", server_default="")
    message_count = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")


class ConversationText(Base):
    """Lowercased user and assistant text of a conversation, for the console's text search (kept
    apart from the summary so that sorting summaries never reads the text)."""

    __tablename__ = "clonus_conversation_text"

    conversation_id = sa.Column(sa.String(255), primary_key=True)
    text = sa.Column(sa.Text, nullable=False, default="", server_default="")
    # the summary's level_rank, written with it: PostgreSQL indexes the text of each level the list
    # puts first (migration 0015), so that a search finds those conversations without reading the others
    level_rank = sa.Column(sa.Integer, nullable=False, default=-1, server_default="-1")


class StaffSession(Base):
    """A signed-in console session; the cookie holds the token, the database its SHA-256."""

    __tablename__ = "clonus_staff_session"

    token_hash = sa.Column(sa.String(64), primary_key=True)
    user_id = sa.Column(
        sa.Integer,
        sa.ForeignKey("clonus_staff_user.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    revoked_at = sa.Column(UTCDateTime(), nullable=True)


class SyncState(Base):
    """High-water marks of incremental readers (e.g. the last `events.id` summarised)."""

    __tablename__ = "clonus_sync_state"

    name = sa.Column(sa.String(64), primary_key=True)
    value = sa.Column(sa.BigInteger, nullable=False, default=0)


class Alert(Base):
    """A new emergency or urgent triage decision, for the console's live banner (console.consumer
    writes it, staff acknowledge it). One row per decision: `source_key` names it (the
    `triage_level` slot event's timestamp, or an assessment row's id) and is unique per
    conversation, so that a decision seen twice (broker and catch-up) is one alert."""

    __tablename__ = "clonus_alert"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "source_key", name="uq_clonus_alert_conversation_source"),
        sa.CheckConstraint("level IN ('urgent', 'emergency')", name="level"),
        sa.Index("ix_clonus_alert_open", "acknowledged_at", "id"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False)
    level = sa.Column(sa.String(16), nullable=False)
    rule_ids = sa.Column(sa.Text, nullable=False, default="", server_default="")
    source_key = sa.Column(sa.String(80), nullable=False)
    at = sa.Column(UTCDateTime(), nullable=False)  # when the decision was made
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    acknowledged_at = sa.Column(UTCDateTime(), nullable=True)
    acknowledged_by = sa.Column(sa.String(150), nullable=True)
