"""Signed-in sessions, kept on the server: the browser's cookie holds only a
random token, and only its SHA-256 is stored here."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc
from backend.models.users import User

SECOND_FACTOR_STEPS = ("totp", "enrol")


class UserSession(db.Model):
    """One signed-in browser or phone. Deleting the row signs it out for good.

    `second_factor` is set while the session waits for the second step of a
    sign-in ("totp": a code; "enrol": setting one up); such a session may do
    nothing else.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # the absolute limit; the idle limit counts from last_seen_at
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    device: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(64))
    csrf_token: Mapped[str] = mapped_column(String(64))
    second_factor: Mapped[str | None] = mapped_column(String(8))
    # wrong codes given to this half-signed session (it ends at a few)
    wrong_codes: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
