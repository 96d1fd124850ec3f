"""Single-use invitation links for new patients; only a hash of each token is kept."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update

from backend.extensions import db
from backend.models import Invitation, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(patient_id: int, created_by: int | None, now: datetime, valid_days: int):
    """A new token for the patient; earlier unused ones stop working.

    Returns (token, expires_at). The caller commits.
    """
    db.session.execute(
        update(Invitation)
        .where(Invitation.patient_id == patient_id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=valid_days)
    db.session.add(
        Invitation(
            patient_id=patient_id,
            token_hash=_digest(token),
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


def redeem(token: str, now: datetime) -> User | None:
    """Mark the invitation used and return its patient, or None if not valid.

    One conditional UPDATE, so two tabs racing with the same link cannot both
    win. The caller commits.
    """
    patient_id = db.session.execute(
        update(Invitation)
        .where(
            Invitation.token_hash == _digest(token),
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .returning(Invitation.patient_id)
    ).scalar_one_or_none()
    if patient_id is None:
        return None
    patient = db.session.get(User, patient_id)
    return patient if patient is not None and patient.active else None
