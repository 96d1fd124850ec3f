"""Reminders: a patient's choice (times, days, channel), each device's Web Push
subscription, and every reminder or nudge sent, one row per patient × slot ×
day so that no rerun or second worker sends twice."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

CHANNELS = ("push", "email", "off")
OUTCOMES = (
    "pending",
    "sending",
    "retry",
    "sent",
    "failed",
    "no-device",
    "skipped",
    "missed",
)


class ReminderSettings(db.Model):
    """What the patient chose; no row is the same as "off"."""

    __tablename__ = "reminder_settings"
    __table_args__ = (
        CheckConstraint("channel IN ('push', 'email', 'off')", name="channel"),
        Index("ix_reminder_settings_channel", "channel"),
    )

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(8), default="off")
    times: Mapped[list] = mapped_column(JSON, default=list)  # ["08:00", "18:30"]
    days_of_week: Mapped[list] = mapped_column(JSON, default=list)  # 0 = Monday
    paused_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )


class PushSubscription(db.Model):
    """One browser's push subscription, tied to the signed-in session of that
    device: signing out (or any end of the session) deletes it."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class ReminderSend(db.Model):
    """One reminder (a slot of a day) or nudge (one a day), claimed by the
    unique key before anything is sent, then its outcome."""

    __tablename__ = "reminder_sends"
    __table_args__ = (
        CheckConstraint("kind IN ('reminder', 'nudge')", name="kind"),
        CheckConstraint(
            "outcome IN ('pending', 'sending', 'retry', 'sent', 'failed', "
            "'no-device', 'skipped', 'missed')",
            name="outcome",
        ),
        db.UniqueConstraint(
            "patient_id", "kind", "local_date", "slot", name="uq_reminder_sends_once"
        ),
        Index("ix_reminder_sends_open", "outcome", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    local_date: Mapped[date] = mapped_column(Date)  # the patient's day
    slot: Mapped[str] = mapped_column(String(5))  # "HH:MM"; "" for a nudge
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # when a retry is due; while "sending", the lease of the worker sending it
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # a nudge's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
