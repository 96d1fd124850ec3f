"""API tokens for clinic scripts: made once, stored as a SHA-256, revocable."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from backend.extensions import db
from backend.models import ApiToken, User

PREFIX = "hw_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(admin: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once). The caller commits."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        clinic_id=admin.clinic_id,
        created_by=admin.id,
        name=name,
        token_hash=_digest(secret),
    )
    db.session.add(token)
    return token, secret


def authenticate(secret: str, now: datetime) -> User | None:
    """The admin a live token acts for, or None; notes when it was last used."""
    if not secret.startswith(PREFIX):
        return None
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.created_by)
        .where(ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.User.active or row.User.role != "admin":
        return None
    row.ApiToken.last_used_at = now
    db.session.commit()
    return row.User
