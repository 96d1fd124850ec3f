"""Versioned home programmes: a new version ends the last; nothing is overwritten.

The two rules every count of sessions due rests on live here, once each, as
hybrid methods that work on a loaded object and inside a query alike:
- `ProgrammeVersion.in_force_on(day)`: the version that applies on a day;
- `ProgrammeItem.due_on(day)`: whether an item is due on that day's weekday.
Their Python halves are plain functions (`days_in_force`, `due_on_weekday`), so
that code reading plain rows instead of objects (the reports) applies the same.
"""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    and_,
    case,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, engine_function, now_utc
from backend.models.exercises import Exercise


def days_in_force(
    starts_on: date, ends_on: date | None, first: date, last: date
) -> tuple[date, date]:
    """The days from `first` to `last` on which a version running from
    `starts_on` to `ends_on` (None: still running) is in force, as (first,
    last); empty when first > last. Versions never overlap; one that a later
    version replaced on its own start day ends the day before it starts and is
    in force on no day."""
    return max(first, starts_on), min(last, ends_on or last)


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

    def days_in_force(self, first: date, last: date) -> tuple[date, date]:
        return days_in_force(self.starts_on, self.ends_on, first, last)

    @hybrid_method
    def in_force_between(self, first: date, last: date) -> bool:
        """In force on at least one day from `first` to `last`, both included."""
        start, end = self.days_in_force(first, last)
        return start <= end

    @in_force_between.inplace.expression
    @classmethod
    def _in_force_between(cls, first, last):
        return and_(
            cls.starts_on <= last, or_(cls.ends_on.is_(None), cls.ends_on >= first)
        )

    @hybrid_method
    def in_force_on(self, day: date) -> bool:
        """The programme that applies to the patient on `day`."""
        return self.in_force_between(day, day)


def weekday_bit(weekday: int) -> int:
    """A weekday's bit in a programme item's weekday mask (Monday = 0 = bit 0)."""
    return 1 << weekday


def weekday_mask(days: list[int]) -> int:
    """The mask of weekdays given as numbers, Monday = 0 (the API's form)."""
    return sum(weekday_bit(day) for day in set(days))


def due_on_weekday(weekday_mask: int, weekday: int) -> bool:
    """Whether an item with this weekday mask is due on `weekday` (Monday = 0)."""
    return bool(weekday_mask & weekday_bit(weekday))


def sessions_done(ticks, due):
    """The contract's done for one item on one day: min(due, live ticks).
    Ticks beyond what is due do not count. Plain numbers give a number; SQL
    expressions give the SQL (services/adherence.py counts stored days with
    it; the routine and the week screen, one patient's few items, in Python)."""
    if isinstance(ticks, int) and isinstance(due, int):
        return min(ticks, due)
    return case((ticks < due, ticks), else_=due)


def days_of_week(weekday_mask: int) -> list[int]:
    """The weekdays an item with this mask is due on, Monday = 0 (the API's form)."""
    return [weekday for weekday in range(7) if due_on_weekday(weekday_mask, weekday)]


# `weekday_bit` of a date column, in SQL
weekday_bit_of = engine_function(
    "weekday_bit_of",
    Integer(),
    sqlite="(1 << ((CAST(strftime('%w', {}) AS INTEGER) + 6) % 7))",
    postgresql="(1 << (CAST(EXTRACT(ISODOW FROM {}) AS INTEGER) - 1))",
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

    @hybrid_method
    def due_on(self, day: date) -> bool:
        """Due on `day`'s weekday (whichever version it belongs to)."""
        return due_on_weekday(self.weekday_mask, day.weekday())

    @due_on.inplace.expression
    @classmethod
    def _due_on(cls, day):
        """In SQL, `day` is a date or a date column."""
        if isinstance(day, date):
            return cls.weekday_mask.op("&")(weekday_bit(day.weekday())) != 0
        return cls.weekday_mask.op("&")(weekday_bit_of(day)) != 0

    @property
    def days_a_week(self) -> int:
        return self.weekday_mask.bit_count()  # one bit per weekday it is due on

    @property
    def days_of_week(self) -> list[int]:
        """The weekdays it is due on, Monday = 0 (the API's form)."""
        return days_of_week(self.weekday_mask)
