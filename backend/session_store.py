"""Flask's session, kept on the server once someone signs in.

- Signed in: the cookie (`__Host-homeward_session` over HTTPS or in
  production, else `homeward_session`) carries only a random token; the
  session is its `user_sessions` row (services/sessions.py), looked up with
  its user in one query. Flask-Login finds the user in that row, and
  Flask-WTF the row's CSRF token.
- Before sign-in a visitor has nothing to keep but a CSRF token for the
  sign-in form: Flask's own signed cookie holds it (`homeward_visit`).

Views start, complete (after a second step) and end sessions through
`begin`, `complete` and `finish`; this interface only reads the row at the
start of a request and sets or clears the cookie at the end.
"""

from flask import Flask, Request, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from backend.extensions import db
from backend.models import User, UserSession
from backend.services import sessions
from backend.services.dates import now_utc


def secure_cookies(app: Flask) -> bool:
    """Secure, `__Host-` cookies in production and on every HTTPS request."""
    return app.config["ENV_NAME"] == "production" or request.is_secure


def session_cookie_name(app: Flask) -> str:
    return "__Host-homeward_session" if secure_cookies(app) else "homeward_session"


def limits_for(user: User) -> sessions.Limits:
    """The idle and absolute limits of this user's sessions (by role)."""
    kind = "staff" if user.is_staff else "patient"
    idle, absolute = current_app.config["SESSION_LIMITS"][kind]
    return sessions.Limits(idle, absolute)


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
        row = sessions.find(token, now, limits_for)
        if row is not None:
            if sessions.touch(row, now):
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
        limits = sessions.Limits(limits.idle, sessions.HALF_SIGNED_IN)
    row, token = sessions.start(
        user,
        limits,
        now_utc(),
        device=sessions.device_of(request.headers.get("User-Agent")),
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
