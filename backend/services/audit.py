"""The audit trail: append-only rows of who did what to which record, when, where."""

from backend.extensions import db
from backend.models import AuditEvent


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
    """Add one audit row to the session's transaction; the caller commits."""
    db.session.add(
        AuditEvent(
            action=action,
            status=status,
            clinic_id=clinic_id,
            actor_id=actor_id,
            actor_email=actor_email,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            ip=ip,
            detail=detail,
        )
    )
