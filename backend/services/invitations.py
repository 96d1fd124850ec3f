"""Single-use links to set a password: invitations (new patients and staff)
and password resets. Links are found by a hash of their token; a patient's
live invitation also keeps its token sealed (encrypted with the field keys)
so that every printed handout carries that same link. Issuing one for a
person with the clinic's validity, and mailing it, is services/accounts.py's."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

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
    *,
    seal: bool = False,
    keep_others: bool = False,
) -> tuple[str, datetime]:
    """A new token for the user; their earlier unused links stop working
    unless `keep_others`. `seal` keeps the token encrypted too, so that it
    can be printed again (invitations only: a reset token is only hashed).

    Returns (token, expires_at). The caller commits.
    """
    if seal and purpose != INVITE:
        raise ValueError("only an invitation's token is sealed")
    if not keep_others:
        db.session.execute(
            update(Invitation)
            .where(Invitation.user_id == user_id, Invitation.used_at.is_(None))
            .values(used_at=now, token_sealed=None)
        )
    token = secrets.token_urlsafe(32)
    expires_at = now + valid_for
    db.session.add(
        Invitation(
            user_id=user_id,
            purpose=purpose,
            token_hash=_digest(token),
            token_sealed=token if seal else None,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


def for_handout(
    user_id: int, created_by: int, now: datetime, valid_for: timedelta
) -> tuple[str, datetime]:
    """The link a printed handout carries: the user's newest live sealed
    invitation (the emailed one, an earlier paper's), else a new sealed one
    that leaves any other links working. Printing again adds no link.

    Returns (token, expires_at). The caller commits.
    """
    # two prints at once: the second waits, then finds the first one's link
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    live = db.session.scalar(
        select(Invitation)
        .where(
            Invitation.user_id == user_id,
            Invitation.purpose == INVITE,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
            Invitation.token_sealed.is_not(None),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(1)
    )
    if live is not None:
        return live.token_sealed, live.expires_at
    return issue(user_id, created_by, now, valid_for, seal=True, keep_others=True)


def redeem(token: str, now: datetime, purpose: str = INVITE) -> User | None:
    """Mark the link used and return its (active) user, or None if not valid.

    One conditional UPDATE, so two tabs racing with the same link cannot both
    win. The user's other unused links of the same purpose are marked used
    too, so no older link stays usable once one has been. A used link's
    sealed token is dropped. The caller commits.
    """
    user_id = db.session.execute(
        update(Invitation)
        .where(
            Invitation.token_hash == _digest(token),
            Invitation.purpose == purpose,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now, token_sealed=None)
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
        .values(used_at=now, token_sealed=None)
    )
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None
