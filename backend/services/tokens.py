"""API tokens for clinic scripts: made once, stored as a SHA-256, expiring,
revocable, each reaching the endpoints of one scope."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from backend.extensions import db
from backend.models import ApiToken, User

PREFIX = "hw_"
SCOPES = ("reports:read",)  # what each reaches: backend.access.TOKEN_SCOPES
MAX_DAYS = 90  # the longest a token lives, and how long unless its maker says less


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    admin: User, name: str, scope: str, days: int, now: datetime
) -> tuple[ApiToken, str]:
    """A new token living `days` days from `now`, and its secret (shown once).
    The caller commits."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        clinic_id=admin.clinic_id,
        created_by=admin.id,
        name=name,
        token_hash=_digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
        scope=scope,
    )
    db.session.add(token)
    return token, secret


def find(secret: str, now: datetime) -> ApiToken | None:
    """The live (unrevoked, unexpired) token with this secret, its maker
    loaded, or None."""
    if not secret.startswith(PREFIX):
        return None
    return db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.creator))
        .where(
            ApiToken.token_hash == _digest(secret),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    )


def revoke_all_of(user: User, now: datetime) -> None:
    """Revoke every live token `user` made (they were deactivated): stored,
    so reactivating them brings none back. The caller commits."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.created_by == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def note_use(token: ApiToken, now: datetime) -> None:
    token.last_used_at = now
    db.session.commit()
