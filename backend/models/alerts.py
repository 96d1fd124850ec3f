"""Alerts a therapist acts on: raised by a rule once per episode (while its
condition holds), then new → acknowledged → resolved, with who and when."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

STATES = ("new", "acknowledged", "resolved")
SEVERITIES = ("critical", "warning")


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("state IN ('new', 'acknowledged', 'resolved')", name="state"),
        CheckConstraint("severity IN ('critical', 'warning')", name="severity"),
        # one episode of a rule at a time per patient, even with two writers
        Index(
            "uq_alerts_open_episode",
            "patient_id",
            "rule",
            unique=True,
            sqlite_where=text("episode_open"),
            postgresql_where=text("episode_open"),
        ),
        Index("ix_alerts_clinic_state", "clinic_id", "state"),
        Index("ix_alerts_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # what set it off
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # the condition still holds: the rule raises nothing new until it clears
    episode_open: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(String(12), default="new")
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    patient = relationship("User", foreign_keys=[patient_id], lazy="joined")
    acknowledger = relationship("User", foreign_keys=[acknowledged_by])
    resolver = relationship("User", foreign_keys=[resolved_by])
