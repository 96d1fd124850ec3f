"""The outboxes: every email and every Web Push notice Homeward sends is a
row here first (OutboxPush: the same for push, at the end).

A request only inserts a row in its own transaction; the worker sends it
(backend/mail.py: `send_queued`), claims it with a conditional UPDATE so that
two workers never send the same row, and retries with back-off until the
row's `give_up_at`, when it is marked failed and shown to the clinic's admin.
The message itself is kept only until it is sent (it may hold a single-use
link), then cleared.

A row may also be a request to be prepared by the worker (`message` empty, a
`purpose` such as a password reset): the request then costs one INSERT
whoever the address belongs to, so its timing tells nothing.
"""

from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    and_,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc

# queued → sending → sent; or → failed (gave up), or → dropped (nothing to
# send: a reset asked for an address nobody has)
STATES = ("queued", "sending", "sent", "failed", "dropped")


class Queued:
    """What a row of an outbox carries to be sent once, by one of several
    workers, with retries: its attempts, when it may go next (while
    "sending", when its claim's lease runs out), when to give up, the last
    error, and the rule for claiming it."""

    attempts: Mapped[int] = mapped_column(default=0)
    # queued: not before this; sending: the claim's lease runs out then
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def may_go(cls, now: datetime):
        """Queued rows whose time has come, and claims whose lease ran out
        (their worker died mid-send)."""
        return and_(cls.status.in_(("queued", "sending")), cls.next_attempt_at <= now)

    @classmethod
    def claim(cls, row_id: int, now: datetime, lease: timedelta):
        """Take one row for `lease` and commit: one worker wins the UPDATE;
        None for the others."""
        taken = db.session.execute(
            update(cls)
            .where(cls.id == row_id, cls.may_go(now))
            .values(
                status="sending",
                attempts=cls.attempts + 1,
                next_attempt_at=now + lease,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if not taken:
            return None
        return db.session.get(cls, row_id, populate_existing=True)


class OutboxMail(Queued, db.Model):
    __tablename__ = "outbox_mail"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'dropped')",
            name="status",
        ),
        # what the worker looks for: open rows by when they may go
        Index("ix_outbox_mail_open", "status", "next_attempt_at"),
        Index("ix_outbox_mail_clinic", "clinic_id", "created_at"),
        # at most one unsent row per coalescing key (a thread's notices)
        Index(
            "uq_outbox_mail_coalesce",
            "coalesce_key",
            unique=True,
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
        Index("ix_outbox_mail_coalesce_recent", "coalesce_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # what it is: "security" (resets, notices of a changed password or
    # factor), "invitation", "alert", "message", "export", "reminder"
    kind: Mapped[str] = mapped_column(String(16))
    # prepared by the worker when set (see backend/mail.py: PREPARERS)
    purpose: Mapped[str | None] = mapped_column(String(32))
    clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE")
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # RFC 5322 bytes
    coalesce_key: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(8), default="queued")


class OutboxPush(Queued, db.Model):
    """A Web Push notice to send: a request only inserts the row; the worker
    (backend/push.py `send_queued`) claims it with a conditional UPDATE, sends
    it to each of the user's devices, and retries a push service that fails
    until `give_up_at`. At most one queued notice per user and tag waits: a
    burst of messages is one notice.

    queued → sending → sent; or → failed (gave up), or → no-device (no
    device took it: the worker's fallback, if the row names one, was asked).
    """

    __tablename__ = "outbox_push"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'no-device')",
            name="status",
        ),
        Index("ix_outbox_push_open", "status", "next_attempt_at"),
        Index(
            "uq_outbox_push_coalesce",
            "user_id",
            "tag",
            unique=True,
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # what the service worker shows, in the user's language (frontend/sw.js)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(200))
    tag: Mapped[str] = mapped_column(String(40))
    ttl: Mapped[int]  # seconds a push service may hold it for a phone that is off
    # asked of the worker's fallback when no device takes it (e.g. "message":
    # an email instead, if the patient chose email)
    fallback: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="queued")
