"""Signed-in sessions, in one place: the rules (ASVS V7; HIPAA automatic
logoff) and Flask's session interface that keeps them on the server. The
`UserSession` row is models/sessions.py's, as every model is in models/.

- A sign-in makes a `UserSession` row and gives the browser a random token;
  only the token's SHA-256 is stored. The cookie (`__Host-homeward_session`
  over HTTPS or in production, else `homeward_session`) carries only that
  token; the row is looked up with its user in one query. Flask-Login finds
  the user in that row, and Flask-WTF the row's CSRF token.
- A session ends when its row is deleted: at sign-out, from the devices
  list, or for every session of a user whose account is deactivated, whose
  password or second factor changes, or who signs out everywhere. It also
  runs out after a time without use (idle) and a time after sign-in
  (absolute), both by role (`SESSION_LIMITS`).
- Before sign-in a visitor has nothing to keep but a CSRF token for the
  sign-in form: Flask's own signed cookie holds it (`homeward_visit`).

Views start, complete (after a second step) and end sessions through
`begin`, `complete` and `finish`; the interface (`ServerSideSessions`) only
reads the row at the start of a request and sets or clears the cookie at the
end. `start`, `find`, `touch`, `of_user` and `end_all` are the rows' rules,
with no request in them.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, Request, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value
from ua_parser import parse
from werkzeug.datastructures import CallbackDict

from backend.extensions import db
from backend.models import PatientProfile, User, UserSession
from backend.services.dates import now_utc

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


def secure_cookies(app: Flask) -> bool:
    """Secure, `__Host-` cookies in production and on every HTTPS request."""
    return app.config["ENV_NAME"] == "production" or request.is_secure


def session_cookie_name(app: Flask) -> str:
    return "__Host-homeward_session" if secure_cookies(app) else "homeward_session"


def limits_for(user: User) -> Limits:
    """The idle and absolute limits of this user's sessions (by role)."""
    kind = "staff" if user.is_staff else "patient"
    idle, absolute = current_app.config["SESSION_LIMITS"][kind]
    return Limits(idle, absolute)


class SignedInSession(CallbackDict, SessionMixin):
    """The Flask session of a signed-in browser: its row's user (for
    Flask-Login, once any second step is done) and CSRF token."""

    permanent = True

    def __init__(self, row: UserSession):
        data = {"csrf_token": row.csrf_token}
        if row.second_factor is None:
            data |= {"_user_id": str(row.user_id), "_fresh": True}
        super().__init__(data)
        self.row = row


class ServerSideSessions(SecureCookieSessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        """The visitor's signed cookie (before sign-in)."""
        return "__Host-homeward_visit" if secure_cookies(app) else "homeward_visit"

    def get_cookie_secure(self, app: Flask) -> bool:
        return secure_cookies(app)

    def open_session(self, app: Flask, request: Request):
        token = request.cookies.get(session_cookie_name(app))
        if token:
            try:
                return self._signed_in(token)
            except SQLAlchemyError as error:
                from backend import database_unreachable

                if not database_unreachable(error):
                    raise
                # raised again by the first before_request hook, so that the
                # 503's handler answers it (and logs one line); raised from
                # here, Flask would log a traceback, then fail once more on
                # the session it never got while answering
                g.session_unreadable = error
                return self.make_null_session(app)
        return super().open_session(app, request)

    def _signed_in(self, token: str):
        now = now_utc()
        row = find(token, now, limits_for)
        if row is not None:
            if touch(row, now):
                db.session.commit()
            return SignedInSession(row)
        db.session.commit()  # the expired row is gone
        g.session_cookie_stale = True
        return super().open_session(current_app, request)

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        name = session_cookie_name(app)
        started = g.pop("session_started", None)
        if started is not None:
            row, token = started
            response.set_cookie(
                name,
                token,
                expires=row.expires_at,
                httponly=True,
                secure=secure_cookies(app),
                samesite="Lax",
                path="/",
            )
            if request.cookies.get(self.get_cookie_name(app)):
                response.delete_cookie(
                    self.get_cookie_name(app),
                    path="/",
                    secure=secure_cookies(app),
                    samesite="Lax",
                    httponly=True,
                )
            return
        if g.pop("session_finished", False) or g.pop("session_cookie_stale", False):
            response.delete_cookie(
                name,
                path="/",
                secure=secure_cookies(app),
                samesite="Lax",
                httponly=True,
            )
        if isinstance(session, SignedInSession):
            return
        super().save_session(app, session, response)


def begin(user: User, csrf_token: str, second_factor: str | None = None) -> UserSession:
    """Start a signed-in session for this request's browser (its cookie is set
    with the answer); the caller commits. One waiting for a second step lasts
    a few minutes, and gets its full limits once the step is done."""
    limits = limits_for(user)
    if second_factor is not None:
        limits = Limits(limits.idle, HALF_SIGNED_IN)
    row, token = start(
        user,
        limits,
        now_utc(),
        device=device_of(request.headers.get("User-Agent")),
        address=request.remote_addr,
        csrf_token=csrf_token,
        second_factor=second_factor,
    )
    g.session_started = (row, token)
    return row


def complete(row: UserSession) -> None:
    """The second step is done: the session gets its full limits, and its
    cookie, which expired with the few minutes of the half-signed session, is
    set again to last as long (the same token). The caller commits."""
    row.second_factor = None
    row.expires_at = now_utc() + limits_for(row.user).absolute
    g.session_started = (row, request.cookies[session_cookie_name(current_app)])


def finish() -> None:
    """Clear this browser's session cookie with the answer (its row is gone)."""
    g.session_finished = True
