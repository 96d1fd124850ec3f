"""Clinics, the people in them (staff and patients) and patient invitations."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

ROLES = ("patient", "therapist", "admin")
STAFF_ROLES = ("therapist", "admin")


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class User(UserMixin, db.Model):
    """Anyone who signs in: a patient, a therapist or a clinic admin.

    A patient's profile is loaded with the user (one LEFT JOIN), since nearly
    every request about a patient needs their timezone.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('patient', 'therapist', 'admin')", name="role"),
        Index("ix_users_clinic_role", "clinic_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Null until a patient accepts their invitation.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    clinic: Mapped[Clinic] = relationship()
    profile: Mapped["PatientProfile | None"] = relationship(
        back_populates="user",
        foreign_keys="PatientProfile.user_id",
        uselist=False,
        lazy="joined",
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class PatientProfile(db.Model):
    """What only patients have: their therapist, their timezone, their condition."""

    __tablename__ = "patient_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    condition: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(back_populates="profile", foreign_keys=[user_id])
    therapist: Mapped[User | None] = relationship(foreign_keys=[therapist_id])


class Invitation(db.Model):
    """A single-use link that lets a new patient set their password.

    Only the SHA-256 of the token is stored; the token itself is shown once.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
