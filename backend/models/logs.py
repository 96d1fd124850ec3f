"""What the patient records: exercise ticks and pain check-ins.

Both are keyed by a UUID the client generates, so an offline phone can retry
safely. An undone tick is kept with `deleted_at` set, so a late replay of the
original tick cannot bring it back.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc


class ExerciseLog(db.Model):
    __tablename__ = "exercise_logs"
    __table_args__ = (
        # live ticks only, and covering (deleted_at included for SQLite's sake):
        # adherence counts each item's ticks by a range scan of this index
        Index(
            "ix_exercise_logs_live",
            "patient_id",
            "exercise_id",
            "performed_on",
            "deleted_at",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # one patient's ticks of one day or a few, in the order they were made
        # (the routine, lists, sync), and their last day (the patient list)
        Index(
            "ix_exercise_logs_patient_day", "patient_id", "performed_on", "created_at"
        ),
        CheckConstraint("pain_during BETWEEN 0 AND 10", name="pain_during"),
        CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty"),
        CheckConstraint("sets_done >= 0 AND reps_done >= 0", name="done"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id"))
    performed_on: Mapped[date]
    sets_done: Mapped[int | None]
    reps_done: Mapped[int | None]
    pain_during: Mapped[int | None]
    difficulty: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The fields a client sends; a replay must match them all.
    CONTENT_FIELDS = (
        "exercise_id",
        "performed_on",
        "sets_done",
        "reps_done",
        "pain_during",
        "difficulty",
        "note",
    )


class PainLog(db.Model):
    __tablename__ = "pain_logs"
    __table_args__ = (
        # covering for the pain statistics
        Index("ix_pain_logs_patient_day", "patient_id", "logged_on", "score", "spasms"),
        CheckConstraint("score BETWEEN 0 AND 10", name="score"),
        CheckConstraint("spasms >= 0", name="spasms"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    logged_on: Mapped[date]
    score: Mapped[int]
    location: Mapped[str | None] = mapped_column(String(200))
    spasms: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    CONTENT_FIELDS = ("logged_on", "score", "location", "spasms", "note")


class AdherenceDay(db.Model):
    """Sessions done per patient and day, kept current on every write.

    Derived data (see services/adherence.py): a report sums these few
    rows instead of counting every tick. Days with nothing done have no row.
    """

    __tablename__ = "adherence_days"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    done: Mapped[int]
