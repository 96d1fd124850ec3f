"""Single-use links to set a password: invitations (new patients and staff)
and password resets. Only a hash of each token is kept."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update

from backend.extensions import db
from backend.models import Invitation, User

INVITE, RESET = "invite", "reset"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    user_id: int,
    created_by: int | None,
    now: datetime,
    valid_for: timedelta,
    purpose: str = INVITE,
) -> tuple[str, datetime]:
    """A new token for the user; their earlier unused links stop working, so
    a user has at most one live link (a reprinted handout's replaces the
    earlier paper's and the emailed one).

    Returns (token, expires_at). The caller commits.
    """
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user_id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + valid_for
    db.session.add(
        Invitation(
            user_id=user_id,
            purpose=purpose,
            token_hash=_digest(token),
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


def redeem(token: str, now: datetime, purpose: str = INVITE) -> User | None:
    """Mark the link used and return its (active) user, or None if not valid.

    One conditional UPDATE, so two tabs racing with the same link cannot both
    win. The user's other unused links of the same purpose are marked used
    too, so no older link stays usable once one has been. The caller commits.
    """
    user_id = db.session.execute(
        update(Invitation)
        .where(
            Invitation.token_hash == _digest(token),
            Invitation.purpose == purpose,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .returning(Invitation.user_id)
    ).scalar_one_or_none()
    if user_id is None:
        return None
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.user_id == user_id,
            Invitation.purpose == purpose,
            Invitation.used_at.is_(None),
        )
        .values(used_at=now)
    )
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None
