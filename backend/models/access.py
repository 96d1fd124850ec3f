"""API tokens for clinic scripts, and the audit trail of who did what."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc
from backend.models.users import User


class ApiToken(db.Model):
    """A bearer token for the report endpoints; only its SHA-256 is stored.

    It acts as the admin who made it, and stops working when revoked or when
    that admin is deactivated.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    creator: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """One write, sign-in or export. Append-only: the app never updates or deletes."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_clinic_at", "clinic_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # null for a failed sign-in with an unknown email
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int]
    detail: Mapped[dict | None] = mapped_column(JSON)
