"""API tokens for clinic scripts, and the audit trail of who did what."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, now_utc
from backend.models.users import User


class ApiToken(db.Model):
    """A bearer token for the endpoints of its scope; only its SHA-256 is stored.

    It acts as the admin who made it, and stops working when it expires or is
    revoked; deactivating that admin revokes it (reactivation revives nothing).
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
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # what it may reach: one of backend.access.TOKEN_SCOPES
    scope: Mapped[str] = mapped_column(String(32), default="reports:read")

    creator: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """One write, sign-in, export, refused access or staff read of a patient's
    record. Append-only in the database itself: triggers refuse every UPDATE
    and DELETE (see `APPEND_ONLY`, installed by migration 0005), and the app's
    database role may only INSERT and SELECT (backend/db_roles.py). Each row
    carries the hash of the one before it (backend/services/audit_chain.py), so
    a row changed by whoever owns the table shows at `flask audit verify`."""

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
    # an event recorded at most once (a staff member's reads of one patient's
    # record on one day): the key says which
    once_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # the chain: the previous row's hash, and SHA-256 of that and this row's content
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


# Triggers that make audit_events append-only, per dialect: (create, drop).
# Migration 0005 installs them. On SQLite, a later migration that rebuilds the
# table (Alembic's batch mode copies it) must create them again.
APPEND_ONLY = {
    "postgresql": (
        [
            """CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
            END $$ LANGUAGE plpgsql""",
            """CREATE TRIGGER audit_events_append_only
            BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
            """CREATE TRIGGER audit_events_no_truncate
            BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
        ],
        [
            "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
            "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
            "DROP FUNCTION IF EXISTS audit_events_append_only()",
        ],
    ),
    "sqlite": (
        [
            """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
            """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
        ],
        [
            "DROP TRIGGER IF EXISTS audit_events_no_update",
            "DROP TRIGGER IF EXISTS audit_events_no_delete",
        ],
    ),
}
