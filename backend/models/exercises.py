"""The exercise library: entries shipped with Homeward and clinic-private ones."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
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
    # {"es": {"name", "instructions", "alt"}}, any of them (services/library.py)
    translations: Mapped[dict | None] = mapped_column(JSON)
    default_sets: Mapped[int]
    default_reps: Mapped[int]
    default_hold_seconds: Mapped[int]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    @classmethod
    def usable_in(cls, clinic_id):
        """The one rule of which entries a clinic's people see, prescribe and
        log: the shipped library and the clinic's own (`clinic_id` may be a
        bound parameter). backend/access.py and services/logs.py both use it."""
        return cls.clinic_id.is_(None) | (cls.clinic_id == clinic_id)


class ExerciseMedia(db.Model):
    """A clinic's own picture or video of an exercise (its own or a shipped one).

    Only that clinic's users see it. Files are stored under content-addressed
    names (the SHA-256 of their bytes, see services/media.py): `file` is the
    picture at its larger size or the video, `thumb` the picture's small size.
    """

    __tablename__ = "exercise_media"
    __table_args__ = (
        CheckConstraint("kind IN ('image', 'video')", name="kind"),
        CheckConstraint("bytes > 0", name="bytes"),
        Index("ix_exercise_media_clinic_exercise", "clinic_id", "exercise_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    exercise_id: Mapped[int] = mapped_column(
        ForeignKey("exercises.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(40))
    file: Mapped[str] = mapped_column(String(80))
    thumb: Mapped[str | None] = mapped_column(String(80))
    bytes: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
