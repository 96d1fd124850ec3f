"""Report exports too big to answer at once: queued by a request, run by the
worker (`flask worker`), written to a file under EXPORT_DIR."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

EXPORT_KINDS = ("csv", "json")
EXPORT_STATES = ("queued", "running", "done", "failed")


class ExportJob(db.Model):
    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('csv', 'json')", name="kind"),
        CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name="state"
        ),
        # the worker's claim reads the oldest queued job
        Index("ix_export_jobs_state", "state", "id"),
        Index("ix_export_jobs_clinic", "clinic_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(4))
    # {"from", "to", "therapist_id", "contract"}: the report's query
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(8), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    rows: Mapped[int] = mapped_column(default=0)
    # the file's name inside EXPORT_DIR, once written
    file_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the running worker renews it while writing; once past, the job is taken again
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)  # runs started
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
