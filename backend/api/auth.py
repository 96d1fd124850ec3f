"""Accounts: sign-in in one or two steps, sign-out, signed-in devices, the
second factor, passwords (change, forgotten, strength) and invitations.

Sign-in throttling (ASVS V6.1.1, V6.3.1) protects without locking the owner
out: failures are counted per account and address (5 in 15 minutes, then
429), per address (20, for password spraying), and per account alone, where
they slow sign-in down instead of blocking it (from 10 failures on, each
address may try that account once a minute). The
counters live in the limiter's storage (Redis in production, so every worker
and server shares them).
"""

import math
import time

from flask import current_app, g, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import login_user, logout_user
from flask_smorest import Blueprint, abort
from flask_wtf.csrf import generate_csrf
from limits import RateLimitItemPerMinute
from sqlalchemy import select

from backend import i18n, mail, session_store
from backend.api.common import documents, invalid
from backend.auth import actor, needs_second_factor
from backend.extensions import db, limiter
from backend.links import public_url
from backend.models import User, UserSession
from backend.schemas.users import (
    AcceptInviteSchema,
    CodeSchema,
    CsrfSchema,
    DeviceSessionSchema,
    EnrolledSchema,
    EnrolmentSchema,
    LanguageChoiceSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    SessionSchema,
    SignInSchema,
)
from backend.services import invitations, second_factor, sessions
from backend.services.dates import now_utc
from backend.services.passwords import weakness

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts")

SLOW_DOWN_AFTER = 10  # failures on one account in 15 minutes
ACCOUNT_FAILURES = RateLimitItemPerMinute(10_000, 15)  # a counter, never a block
PACE = RateLimitItemPerMinute(1)  # then: one attempt per address and minute


def _email_in_body() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return str(email).strip().lower()[:254] if email else "-"


def _account_and_address() -> str:
    return f"account:{_email_in_body()}:{request.remote_addr}"


def _per_address() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _per_account_and_address() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _per_second_factor() -> str:
    return current_app.config["SECOND_FACTOR_LIMIT"]


def _per_reset() -> str:
    return current_app.config["PASSWORD_RESET_LIMIT"]


def _failed(response) -> bool:
    return response.status_code in (400, 401)


def _counter_keys(*parts) -> tuple:
    return (current_app.config["RATELIMIT_KEY_PREFIX"] or "homeward", *parts)


def _slowed_down(email: str) -> int | None:
    """Seconds this address must still wait before trying `email` again, once
    the account has had many failures; None when it may try now."""
    limits = limiter.limiter
    _reset, left = limits.get_window_stats(
        ACCOUNT_FAILURES, *_counter_keys("sign-in-failures", email)
    )
    if ACCOUNT_FAILURES.amount - left < SLOW_DOWN_AFTER:
        return None
    keys = _counter_keys("sign-in-pace", email, request.remote_addr)
    if limits.hit(PACE, *keys):
        return None
    reset, _left = limits.get_window_stats(PACE, *keys)
    return max(1, math.ceil(reset - time.time()))


def _count_failure(email: str) -> None:
    limiter.limiter.hit(ACCOUNT_FAILURES, *_counter_keys("sign-in-failures", email))


def fresh_csrf_token() -> str:
    """A new CSRF token, bound to the session being started."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)
    return generate_csrf()


def _start(user: User, step: str | None = None) -> dict:
    """Sign `user` in on this browser: a new server-side session (its cookie
    goes out with the answer), complete or waiting for `step`."""
    session.clear()
    csrf = fresh_csrf_token()
    session_store.begin(user, session["csrf_token"], step)
    db.session.commit()
    if step is not None:
        return {"second_factor": step, "csrf_token": csrf}
    return _signed_in(user)


def _signed_in(user: User) -> dict:
    """The answer of a completed sign-in: what `GET /me` answers (the CSRF
    token just made, the language they read), so the app asks nothing more."""
    login_user(user)
    return _me(user)


def _sign_in(user: User) -> dict:
    if not needs_second_factor(user):
        return _start(user)
    return _start(user, "totp" if second_factor.enrolled(user) else "enrol")


def _pending(step: str | None = None) -> tuple[UserSession, User]:
    """The half-signed-in session waiting for a second step (`step`, if
    given), else 401."""
    row = getattr(session, "row", None)
    if row is None or row.second_factor is None:
        abort(401, message=_("Sign in with your email and password first."))
    if step is not None and row.second_factor != step:
        abort(409, message=_("This sign-in is waiting for another step."))
    return row, row.user


def _complete(row: UserSession) -> dict:
    """The second step is done: the session gets full rights."""
    user = row.user
    session_store.complete(row)
    db.session.commit()
    return _signed_in(user)


@blp.route("/csrf", methods=["GET"])
@blp.response(200, CsrfSchema)
def csrf_token():
    """A CSRF token for the current (possibly anonymous) session."""
    return {"csrf_token": generate_csrf()}


@blp.route("/login", methods=["POST"])
@limiter.limit(_per_address, deduct_when=_failed)
@limiter.limit(
    _per_account_and_address,
    key_func=_account_and_address,
    deduct_when=_failed,
)
@blp.arguments(LoginSchema())
@blp.response(200, SignInSchema)
@documents(blp, 400, 401, 429)
def login(credentials):
    """Sign in with email and password; wrong email or password is the same 401.
    Staff (and patients who chose it) then give a code: `second_factor`."""
    email = credentials["email"].strip().lower()
    g.audit_login_email = email
    wait = _slowed_down(email)
    if wait is not None:
        g.audit_action = "auth.login_slowed"
        abort(
            429,
            message=_(
                "Too many attempts on this account. Try again in %(seconds)s s.",
                seconds=wait,
            ),
            headers={"Retry-After": str(wait)},
        )
    user = db.session.scalar(select(User).where(User.email == email))
    passwords = current_app.extensions["homeward_passwords"]
    ok = passwords.verify(user.password_hash if user else None, credentials["password"])
    if not ok or user is None or not user.active:
        _count_failure(email)
        abort(401, message=_("Wrong email or password."))
    return _sign_in(user)


@blp.route("/totp", methods=["POST"])
@limiter.limit(_per_second_factor, deduct_when=_failed)
@blp.arguments(CodeSchema())
@blp.response(200, SessionSchema)
@documents(blp, 401, 409, 429)
def totp(body):
    """The second step of a sign-in: a code from the authenticator app, or one
    of the recovery codes (each works once)."""
    row, user = _pending("totp")
    g.audit_login_email = user.email
    if not second_factor.accept(user, body["code"]):
        db.session.rollback()
        abort(401, message=_("That code is wrong or was used already."))
    return _complete(row)


@blp.route("/totp/enrol", methods=["POST"])
@blp.response(200, EnrolmentSchema)
@documents(blp, 401)
def enrol():
    """A new authenticator secret with its QR code: during sign-in (when it
    asks to `enrol`), or signed in, to set one up (patients may) or replace one.
    Nothing changes until .../enrol/confirm."""
    row = getattr(session, "row", None)
    if row is not None and row.second_factor == "enrol":
        user = row.user
    else:
        user = actor()
    enrolment = second_factor.start_enrolment(user)
    db.session.commit()
    return enrolment


@blp.route("/totp/enrol/confirm", methods=["POST"])
@limiter.limit(_per_second_factor, deduct_when=_failed)
@blp.arguments(CodeSchema())
@blp.response(200, EnrolledSchema)
@documents(blp, 401, 429)
def confirm_enrolment(body):
    """Confirm the new secret with a code from the app: it is in force from
    now, and ten recovery codes come back, shown only this once."""
    row = getattr(session, "row", None)
    pending = row is not None and row.second_factor == "enrol"
    user = row.user if pending else actor()
    g.audit_login_email = user.email
    codes = second_factor.confirm_enrolment(user, body["code"])
    if codes is None:
        db.session.rollback()
        abort(401, message=_("That code does not match. Check the app and try again."))
    if pending:
        answer = _complete(row)
    else:  # a new phone: every other session ends
        sessions.end_all(user.id, keep=row.id)
        db.session.commit()
        answer = _me(user)
    notify(user, _l("A second sign-in step was set up"), signed_out=not pending)
    return answer | {"recovery_codes": codes}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    """Sign out for good: the session's row is deleted, so a copy of its cookie
    opens nothing (also fine when already signed out). The browser is told to
    forget its cookies."""
    row = getattr(session, "row", None)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    session_store.finish()
    logout_user()
    return None, 204, {"Clear-Site-Data": '"cookies"'}


@blp.route("/logout-everywhere", methods=["POST"])
@blp.response(204)
@documents(blp, 401)
def logout_everywhere():
    """End every session of the signed-in user, this one included."""
    user = actor()
    sessions.end_all(user.id)
    db.session.commit()
    session_store.finish()
    logout_user()


@blp.route("/me", methods=["GET"])
@blp.response(200, SessionSchema)
@documents(blp, 401)
def me():
    """Who is signed in, with a CSRF token for their writes and the language
    Homeward speaks to them now."""
    return _me(actor())


def _me(user: User) -> dict:
    return {
        "user": user,
        "csrf_token": generate_csrf(),
        "language": i18n.request_language(),
    }


@blp.route("/me", methods=["PATCH"])
@blp.arguments(LanguageChoiceSchema())
@blp.response(200, SessionSchema)
@documents(blp, 401, 422)
def choose_language(body):
    """Choose the language Homeward speaks to you, in the app, in emails,
    reminders and the handout; null follows the device's language."""
    user = actor()
    user.language = body["language"]
    db.session.commit()
    refresh()  # this answer speaks the new language already
    return _me(user)


@blp.route("/sessions", methods=["GET"])
@blp.response(200, DeviceSessionSchema(many=True))
@documents(blp, 401)
def signed_in_devices():
    """Where the signed-in user is signed in, the most recently used first."""
    user = actor()
    current = session.row.id
    return [
        {
            "id": row.id,
            "device": row.device,
            "address": row.address,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "current": row.id == current,
        }
        for row in sessions.of_user(user.id)
    ]


@blp.route("/sessions/<int:session_id>", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 404)
def end_device_session(session_id):
    """Sign one of your devices out (this one too, if you like)."""
    user = actor()
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        abort(404, message=_("No such session."))
    if row.id == session.row.id:
        session_store.finish()
    db.session.delete(row)
    db.session.commit()


@blp.route("/password", methods=["POST"])
@limiter.limit(_per_address, deduct_when=_failed)
@blp.arguments(PasswordChangeSchema())
@blp.response(204)
@documents(blp, 401, 422, 429)
def change_password(body):
    """A new password, given the current one; every other session ends."""
    user = actor()
    passwords = current_app.extensions["homeward_passwords"]
    if not passwords.verify(user.password_hash, body["current_password"]):
        invalid("current_password", _("This is not your current password."))
    set_password(user, body["new_password"], "new_password")
    sessions.end_all(user.id, keep=session.row.id)
    db.session.commit()
    notify(user, _l("Your password was changed"))


@blp.route("/password-reset", methods=["POST"])
@limiter.limit(_per_reset)
@limiter.limit(_per_reset, key_func=_email_in_body)
@blp.arguments(PasswordResetSchema())
@blp.response(202)
@documents(blp, 429)
def request_password_reset(body):
    """Mail a single-use link, valid for an hour, to set a new password. The
    answer is the same whether or not the email belongs to anyone."""
    email = body["email"].strip().lower()
    user = db.session.scalar(
        select(User).where(
            User.email == email, User.active.is_(True), User.password_hash.is_not(None)
        )
    )
    if user is not None:
        valid = current_app.config["PASSWORD_RESET_VALID"]
        token, _expires = invitations.issue(
            user.id, None, now_utc(), valid, invitations.RESET
        )
        db.session.commit()
        mail.send(
            user,
            _l("Reset your Homeward password (%(clinic)s)", clinic=user.clinic.name),
            "password_reset",
            name=user.name,
            clinic_name=user.clinic.name,
            link=public_url(f"/#/reset/{token}"),
        )


@blp.route("/password-reset/confirm", methods=["POST"])
@limiter.limit(_per_address, deduct_when=_failed)
@blp.arguments(PasswordResetConfirmSchema())
@blp.response(204)
@documents(blp, 400, 422, 429)
def confirm_password_reset(body):
    """Set a new password with the link from the email (once, within the
    hour); every session of the account ends."""
    user = _redeemed(
        body["token"],
        invitations.RESET,
        _("This reset link is used, expired or unknown."),
    )
    set_password(user, body["password"], "password")
    sessions.end_all(user.id)
    db.session.commit()
    notify(user, _l("Your password was reset"))


@blp.route("/accept-invite", methods=["POST"])
@limiter.limit(_per_address, deduct_when=_failed)
@blp.arguments(AcceptInviteSchema())
@blp.response(200, SignInSchema)
@documents(blp, 400, 422, 429)
def accept_invite(body):
    """Set a password from an invitation link and sign in (staff then set up
    their second step: `second_factor` is "enrol")."""
    user = _redeemed(
        body["token"],
        invitations.INVITE,
        _("This invitation link is used, expired or unknown."),
    )
    set_password(user, body["password"], "password")
    db.session.commit()
    return _sign_in(user)


def _redeemed(token: str, purpose: str, refused: str) -> User:
    """The user an emailed link (`purpose`) is for, the link now used; 400
    saying `refused` when it is used, expired or unknown."""
    user = invitations.redeem(token, now_utc(), purpose)
    if user is None:
        db.session.rollback()
        abort(400, message=refused)
    return user


def set_password(user: User, password: str, field: str) -> None:
    """`user`'s new password, hashed (the caller commits): from a link, a
    change, or a script adding staff; 422 on `field`, with nothing changed,
    when it is too easy to guess."""
    reason = weakness(password, user.name, user.email)
    if reason is not None:
        db.session.rollback()
        invalid(field, reason)
    user.password_hash = current_app.extensions["homeward_passwords"].hash(password)
    user.password_changed_at = now_utc()


def notify(user: User, what: str, signed_out: bool = True) -> None:
    """Tell the user by email that their password or second factor changed
    (and whether their other sessions were ended)."""
    mail.send(
        user,
        _l("%(what)s (%(clinic)s)", what=what, clinic=user.clinic.name),
        "security_notice",
        name=user.name,
        clinic_name=user.clinic.name,
        what=what,
        when=now_utc(),
        signed_out=signed_out,
    )
