"""What passes between a patient and their care team besides the daily logs:
messages (one thread per patient), flare-up reports and Patient-Specific
Functional Scale questionnaires.

Messages and flare-ups are keyed by a UUID the client generates, like the
logs (services/logs.py stores them idempotently); a PSFS gets a server id,
like an Oswestry questionnaire.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

# What a patient may name on a flare-up report (the wire's order, kept when stored)
TRIGGERS = ("lifting", "impact", "sitting", "dehydration", "stress", "other")
HELPED = ("heat", "cold", "rest", "stretching", "medication", "nothing")


class Message(db.Model):
    """One message in a patient's thread, written by the patient or by their
    therapist. `read_at` is set when the other side reads it: the therapist
    reads the patient's messages, the patient reads the staff's."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread", "patient_id", "sent_at"),
        # unread messages per thread: the badge on every patient of the list
        Index(
            "ix_messages_unread",
            "patient_id",
            "author_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What a replay must match: the same person sending the same words.
    CONTENT_FIELDS = ("author_id", "body")


class FlareUp(db.Model):
    """A flare-up the patient reports: when it started, how bad it is, what
    set it off and what helped (lists of TRIGGERS and HELPED)."""

    __tablename__ = "flare_ups"
    __table_args__ = (
        Index("ix_flare_ups_patient_day", "patient_id", "started_on"),
        CheckConstraint("severity BETWEEN 0 AND 10", name="severity"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_on: Mapped[date]
    severity: Mapped[int]
    triggers: Mapped[list] = mapped_column(JSON)
    helped: Mapped[list] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    CONTENT_FIELDS = ("started_on", "severity", "triggers", "helped", "note")


class PsfsResponse(db.Model):
    """A Patient-Specific Functional Scale: up to three activities the patient
    finds hard, each scored 0..10, and their mean (services/questionnaires.py)."""

    __tablename__ = "psfs_responses"
    __table_args__ = (Index("ix_psfs_responses_patient_day", "patient_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    taken_on: Mapped[date]
    # [{"name": "Lifting my grandchild", "score": 4}, ...]: one to three
    activities: Mapped[list] = mapped_column(JSON)
    mean: Mapped[float]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
