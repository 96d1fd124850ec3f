"""The exercise library: entries shipped with Homeward and clinic-private ones."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

CATEGORIES = ("stretch", "core", "mobility", "strength", "modality")


class Exercise(db.Model):
    __tablename__ = "exercises"
    __table_args__ = (
        CheckConstraint(
            "category IN ('stretch', 'core', 'mobility', 'strength', 'modality')",
            name="category",
        ),
        CheckConstraint(
            "default_sets >= 1 AND default_reps >= 1 AND default_hold_seconds >= 0",
            name="defaults",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null for the shipped library, which every clinic sees.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    # Stable key of a shipped entry, so re-seeding updates instead of duplicating.
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    body_region: Mapped[str] = mapped_column(String(100))
    instructions: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(String(500))
    default_sets: Mapped[int]
    default_reps: Mapped[int]
    default_hold_seconds: Mapped[int]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
