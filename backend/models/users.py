"""Clinics, the people in them (staff and patients), their second factor and
the single-use links that let them set a password."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import EncryptedString, UTCDateTime, now_utc

ROLES = ("patient", "therapist", "admin")
STAFF_ROLES = ("therapist", "admin")


class Clinic(db.Model):
    __tablename__ = "clinics"
    __table_args__ = (CheckConstraint("paper_size IN ('A4', 'Letter')", name="paper"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # therapists sign in with a second factor unless the clinic turns it off
    require_therapist_mfa: Mapped[bool] = mapped_column(
        default=True, server_default=true()
    )
    # the printed handout's paper: "A4" or "Letter"
    paper_size: Mapped[str] = mapped_column(
        String(8), default="A4", server_default="A4"
    )
    # the clinic's changes to the alert rules' defaults (services/alerts.py RULES)
    alert_settings: Mapped[dict | None] = mapped_column(JSON)
    # what its people read when neither they nor their browser chose (i18n.py)
    default_language: Mapped[str] = mapped_column(
        String(8), default="en", server_default="en"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class User(UserMixin, db.Model):
    """Anyone who signs in: a patient, a therapist or a clinic admin.

    A patient's profile is loaded with the user (one LEFT JOIN), since nearly
    every request about a patient needs their timezone.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('patient', 'therapist', 'admin')", name="role"),
        # the patient list's pages by name (keyset on name, id)
        Index("ix_users_clinic_role_name", "clinic_id", "role", "name", "id"),
        # an email is one account per clinic: a person treated at two clinics
        # has two accounts, and no clinic learns of the other (README, Security)
        UniqueConstraint("clinic_id", "email", name="uq_users_clinic_id_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Null until a patient accepts their invitation.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the last completed sign-in: which of one email's accounts a password
    # opens when it opens several (services/accounts.py opened_by)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP (RFC 6238) second factor: the shared secret (base32, encrypted at
    # rest), when its enrolment was confirmed, and the last time step accepted
    # (no replays); a new secret waits in totp_pending_secret until confirmed
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString)
    totp_pending_secret: Mapped[str | None] = mapped_column(EncryptedString)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # "en" or "es"; None: follow the device (backend/i18n.py)
    language: Mapped[str | None] = mapped_column(String(8))

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

    @property
    def second_factor(self) -> bool:
        """Whether they have set up a second sign-in step."""
        return self.totp_enrolled_at is not None

    def identity(self) -> dict:
        """The contract's User (id, email, name, role, clinic_id): what every
        view of a person (a message's author, a staff member, a patient)
        starts from."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "clinic_id": self.clinic_id,
        }


class PatientProfile(db.Model):
    """What only patients have: their therapist, their timezone, their condition."""

    __tablename__ = "patient_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    condition: Mapped[str | None] = mapped_column(Text)
    # the programme version whose "Your programme changed" note the patient
    # dismissed (None: none yet)
    programme_seen_version: Mapped[int | None]

    user: Mapped[User] = relationship(back_populates="profile", foreign_keys=[user_id])
    therapist: Mapped[User | None] = relationship(foreign_keys=[therapist_id])


class Invitation(db.Model):
    """A single-use link that lets someone set their password: an invitation
    (a new patient or staff member) or a password reset.

    Links are found by the SHA-256 of the token. A patient's invitation also
    keeps its token sealed (encrypted with FIELD_ENCRYPTION_KEYS) while it is
    live, so a reprinted handout can carry the same link; a reset never does.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(
        String(8), default="invite", server_default="invite"
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[str | None] = mapped_column(EncryptedString)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """One of a user's single-use codes for when their phone is lost (an
    argon2 hash, salted and slow, as passwords are)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
