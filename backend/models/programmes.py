"""Versioned home programmes: a new version ends the last; nothing is overwritten."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc
from backend.models.exercises import Exercise


class ProgrammeVersion(db.Model):
    __tablename__ = "programme_versions"
    __table_args__ = (
        UniqueConstraint("patient_id", "version", name="uq_programme_versions_patient"),
        Index("ix_programme_versions_patient_starts", "patient_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    version: Mapped[int]
    starts_on: Mapped[date]
    # The day before the next version starts; null while it is the latest.
    ends_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    items: Mapped[list["ProgrammeItem"]] = relationship(
        order_by="ProgrammeItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class ProgrammeItem(db.Model):
    """One prescribed exercise and its dose.

    Weekdays are a bit mask (bit 0 = Monday) so SQL can test them directly.
    """

    __tablename__ = "programme_items"
    __table_args__ = (
        CheckConstraint("sets >= 1 AND reps >= 1 AND hold_seconds >= 0", name="dose"),
        CheckConstraint("times_per_day BETWEEN 1 AND 6", name="times_per_day"),
        CheckConstraint("weekday_mask BETWEEN 1 AND 127", name="weekday_mask"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id"))
    sets: Mapped[int]
    reps: Mapped[int]
    hold_seconds: Mapped[int]
    times_per_day: Mapped[int]
    weekday_mask: Mapped[int]
    notes: Mapped[str] = mapped_column(Text, default="")

    exercise: Mapped[Exercise] = relationship(lazy="joined")

    @property
    def days_of_week(self) -> list[int]:
        return [day for day in range(7) if self.weekday_mask >> day & 1]

    def is_due_on(self, day: date) -> bool:
        return bool(self.weekday_mask >> day.weekday() & 1)


def weekday_mask(days: list[int]) -> int:
    mask = 0
    for day in days:
        mask |= 1 << day
    return mask
