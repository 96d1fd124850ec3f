"""The audit trail: append-only rows of who did what to which record, when, where."""

from sqlalchemy import insert

from backend.extensions import db
from backend.models import AuditEvent
from backend.services.dates import now_utc

_INSERT = insert(AuditEvent.__table__)  # built once: every write adds a row


def record(
    action: str,
    status: int,
    *,
    clinic_id: int | None,
    actor_id: int | None,
    actor_email: str | None,
    target_type: str | None = None,
    target_id=None,
    ip: str | None = None,
    detail: dict | None = None,
) -> None:
    """Add one audit row in the session's transaction; the caller commits."""
    db.session.execute(
        _INSERT,
        {
            "at": now_utc(),
            "action": action,
            "status": status,
            "clinic_id": clinic_id,
            "actor_id": actor_id,
            "actor_email": actor_email,
            "target_type": target_type,
            "target_id": str(target_id) if target_id is not None else None,
            "ip": ip,
            "detail": detail,
        },
    )
