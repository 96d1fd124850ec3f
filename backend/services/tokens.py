"""API tokens for clinic scripts: made once, stored as a SHA-256, revocable."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

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


def find(secret: str) -> ApiToken | None:
    """The live (unrevoked) token with this secret, its maker loaded, or None."""
    if not secret.startswith(PREFIX):
        return None
    return db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.creator))
        .where(ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None))
    )


def note_use(token: ApiToken, now: datetime) -> None:
    token.last_used_at = now
    db.session.commit()
