"""The audit trail: append-only rows of who did what to which record, when, where."""

from sqlalchemy import bindparam, insert

from backend.models import AuditEvent
from backend.prepared import Prepared
from backend.services.dates import now_utc

# built once and prepared (backend/prepared.py): every write adds a row
_COLUMNS = [column for column in AuditEvent.__table__.c if column.key != "id"]
INSERT = Prepared(
    insert(AuditEvent.__table__).values(
        {column.key: bindparam(column.key, type_=column.type) for column in _COLUMNS}
    )
)


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
    """Insert one audit row in the session's transaction; the caller commits."""
    INSERT.write(
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
