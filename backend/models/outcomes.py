"""Outcome measures: Oswestry Disability Index questionnaires."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc


class OdiResponse(db.Model):
    __tablename__ = "odi_responses"
    __table_args__ = (Index("ix_odi_responses_patient_day", "patient_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    taken_on: Mapped[date]
    # ten answers, each 0..5 or null for a skipped section
    answers: Mapped[list] = mapped_column(JSON)
    answered: Mapped[int]
    score_pct: Mapped[float]
    band: Mapped[str]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
