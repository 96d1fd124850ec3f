"""Signed-in sessions kept on the server (ASVS V7; HIPAA automatic logoff).

A sign-in makes a `UserSession` row and gives the browser a random token;
only the token's SHA-256 is stored. A session ends when its row is deleted:
at sign-out, from the devices list, or for every session of a user whose
account is deactivated, whose password or second factor changes, or who
signs out everywhere. It also runs out after a time without use (idle) and a
time after sign-in (absolute), both by role.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value
from ua_parser import parse

from backend.extensions import db
from backend.models import PatientProfile, User, UserSession

# last_seen_at is written at most this often: a session used every second
# would otherwise write on every read
TOUCH_EVERY = timedelta(minutes=1)
# how long a sign-in may wait for its second step
HALF_SIGNED_IN = timedelta(minutes=10)


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    absolute: timedelta


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_of(user_agent: str | None) -> str:
    """ "Chrome Mobile on Android", from a User-Agent header, for the devices list."""
    if not user_agent:
        return "Unknown device"
    found = parse(user_agent[:500])
    browser = found.user_agent.family if found.user_agent else "Unknown browser"
    system = found.os.family if found.os else None
    return (f"{browser} on {system}" if system and system != "Other" else browser)[:120]


def start(
    user: User,
    limits: Limits,
    now: datetime,
    *,
    device: str,
    address: str | None,
    csrf_token: str,
    second_factor: str | None = None,
) -> tuple[UserSession, str]:
    """A new session for `user` and the token for its cookie (shown once).
    The caller commits."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=digest(token),
        user=user,
        created_at=now,
        last_seen_at=now,
        expires_at=now + limits.absolute,
        device=device,
        address=address,
        csrf_token=csrf_token,
        second_factor=second_factor,
    )
    db.session.add(row)
    return row, token


# Every request of a signed-in user runs this: the session, its user and a
# patient's profile as three plain entities of one row (cheaper than nested
# eager loaders), linked below.
_BY_TOKEN = (
    select(UserSession, User, PatientProfile)
    .join(User, User.id == UserSession.user_id)
    .outerjoin(PatientProfile, PatientProfile.user_id == User.id)
    .where(UserSession.token_hash == bindparam("hash"))
    .options(lazyload(UserSession.user), lazyload(User.profile))
)


def find(token: str, now: datetime, limits_for) -> UserSession | None:
    """The live session with this token (its user and profile loaded with
    it), or None.

    A session of a deactivated user, or past its absolute or idle limit
    (`limits_for(user)`), is deleted on the spot; the caller commits.
    """
    found = db.session.execute(_BY_TOKEN, {"hash": digest(token)}).one_or_none()
    if found is None:
        return None
    row, user, profile = found
    set_committed_value(row, "user", user)  # loaded: no lazy load on access
    set_committed_value(user, "profile", profile)
    limits = limits_for(row.user)
    if (
        not row.user.active
        or now >= row.expires_at
        or now - row.last_seen_at >= limits.idle
    ):
        db.session.delete(row)
        return None
    return row


def touch(row: UserSession, now: datetime) -> bool:
    """Note the session in use; True when that needs writing."""
    if now - row.last_seen_at < TOUCH_EVERY:
        return False
    row.last_seen_at = now
    return True


def of_user(user_id: int) -> list[UserSession]:
    """A user's sessions, the most recently used first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_all(user_id: int, keep: int | None = None) -> int:
    """Delete every session of a user (but `keep`); returns how many. The
    caller commits."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    return db.session.execute(statement).rowcount
