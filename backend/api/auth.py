"""Accounts: sign-in in one or two steps, sign-out, signed-in devices, the
second factor, passwords (change, forgotten, strength) and invitations.

Sign-in throttling (ASVS V2.2.1, V6.3.1) protects without locking the owner
out. Addresses count as `address_key()` has them (IPv6 by its /64). The
per-address limits are the limiter's decorators here, and the known-device
cookie is this module's; the per-account counts are services/accounts.py's.

- Passwords: failures are counted per account and address (5 in 15 minutes,
  then 429), per address (20, for password spraying), and per account alone,
  whatever the address: after 10 failures within an hour each try waits 1,
  2, 4 ... minutes (capped), answered 429 with Retry-After. A browser that
  completed a sign-in to that account before (its signed "known device"
  cookie) skips that wait, so an attacker cannot lock the owner out. A
  wrong current password on a password change or re-enrolment counts too.
- Codes: a half-signed session ends after 5 wrong codes (sign in again); 10
  wrong codes in 15 minutes on one account pause its second step (429, the
  owner is told by email); wrong codes are also counted per address. A code
  sent without a half-signed session is refused and counts against no one.

The counters live in the limiter's storage (Redis in production, so every
worker and server shares them).
"""

from datetime import timedelta

from flask import after_this_request, current_app, g, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import login_user, logout_user
from flask_smorest import Blueprint, abort
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from backend import i18n, mail, sessions
from backend.access import actor, needs_second_factor
from backend.api.common import documents, invalid, set_password
from backend.extensions import address_key, db, limiter
from backend.guards import json_body
from backend.models import User, UserSession
from backend.schemas.users import (
    AcceptInviteSchema,
    CodeSchema,
    CsrfSchema,
    DeviceSessionSchema,
    EnrolledSchema,
    EnrolmentProofSchema,
    EnrolmentSchema,
    LanguageChoiceSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    SessionSchema,
    SignInSchema,
)
from backend.services import accounts, invitations, second_factor
from backend.services.dates import now_utc

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts")

KNOWN_DEVICE = "homeward_device"  # the cookie's name (`__Host-` on HTTPS)


def _email_in_body() -> str:
    body = json_body()
    email = body.get("email") if isinstance(body, dict) else None
    return str(email).strip().lower()[:254] if email else "-"


def _account_and_address() -> str:
    return f"account:{_email_in_body()}:{address_key()}"


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


def _wrong_code(response) -> bool:
    """Only a wrong code of a real half-signed (or signed-in) session counts
    against the address: a request with no session changes nothing."""
    return g.get("wrong_code", False)


def _too_many(wait: int, audit_action: str):
    g.audit_action = audit_action
    abort(
        429,
        message=_(
            "Too many attempts on this account. Try again in %(seconds)s s.",
            seconds=wait,
        ),
        headers={"Retry-After": str(wait)},
    )


def _known_devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def _known_device_cookie() -> str:
    return (
        f"__Host-{KNOWN_DEVICE}"
        if sessions.secure_cookies(current_app)
        else KNOWN_DEVICE
    )


def _known_device(user: User | None) -> bool:
    """Whether this browser completed a sign-in to `user` before."""
    token = request.cookies.get(_known_device_cookie())
    if user is None or not token:
        return False
    days = current_app.config["KNOWN_DEVICE_DAYS"]
    try:
        return _known_devices().loads(token, max_age=days * 86400) == user.id
    except BadSignature:
        return False


def _remember_device(user: User) -> None:
    """Mark this browser as one `user` signs in from (with the answer)."""
    token = _known_devices().dumps(user.id)
    secure = sessions.secure_cookies(current_app)
    name = _known_device_cookie()
    days = current_app.config["KNOWN_DEVICE_DAYS"]

    @after_this_request
    def set_cookie(response):
        response.set_cookie(
            name,
            token,
            max_age=timedelta(days=days),
            httponly=True,
            secure=secure,
            samesite="Strict",
            path="/",
        )
        return response


def _count_wrong_code(user: User) -> None:
    """A wrong code for `user`, counted against the account (services/
    accounts.py) and, being a real one, against the address too."""
    g.wrong_code = True
    accounts.count_wrong_code(user)


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
    sessions.begin(user, session["csrf_token"], step)
    if step is not None:
        db.session.commit()
        return {"second_factor": step, "csrf_token": csrf}
    return _signed_in(user)


def _signed_in(user: User) -> dict:
    """The answer of a completed sign-in, committed with the session it
    started or completed: what `GET /me` answers (the CSRF token just made,
    the language they read), so the app asks nothing more. This browser is
    now a known device of theirs."""
    login_user(user)
    user.last_signed_in_at = now_utc()
    db.session.commit()
    _remember_device(user)
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
    sessions.complete(row)
    return _signed_in(row.user)


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
    An email may have an account at several clinics: the password chooses
    (services/accounts.py's `opened_by`). Staff (and patients who chose it)
    then give a code: `second_factor`."""
    email = credentials["email"].strip().lower()
    g.audit_login_email = email
    candidates = db.session.scalars(
        select(User).where(User.email == email).order_by(User.id)
    ).all()
    if not any(_known_device(account) for account in candidates):
        wait = accounts.account_wait(email)
        if wait is not None:
            _too_many(wait, "auth.login_slowed")
    user = accounts.opened_by(candidates, credentials["password"])
    if user is None:
        accounts.count_failure(email)
        abort(401, message=_("Wrong email or password."))
    return _sign_in(user)


@blp.route("/totp", methods=["POST"])
@limiter.limit(_per_second_factor, deduct_when=_wrong_code)
@blp.arguments(CodeSchema())
@blp.response(200, SessionSchema)
@documents(blp, 401, 409, 429)
def totp(body):
    """The second step of a sign-in: a code from the authenticator app, or one
    of the recovery codes (each works once). After 5 wrong codes the sign-in
    starts again from the password (401)."""
    row, user = _pending("totp")
    g.audit_login_email = user.email
    if not _known_device(user):
        wait = accounts.second_step_wait(user)
        if wait is not None:
            _too_many(wait, "auth.totp_blocked")
    passwords = current_app.extensions["homeward_passwords"]
    if not second_factor.accept(user, body["code"], passwords):
        db.session.rollback()
        row.wrong_codes += 1
        ended = row.wrong_codes >= current_app.config["SECOND_FACTOR_SESSION_TRIES"]
        if ended:
            db.session.delete(row)  # a guesser starts again at the password
            sessions.finish()
        db.session.commit()
        _count_wrong_code(user)
        if ended:
            abort(401, message=_("Too many wrong codes. Sign in again."))
        abort(401, message=_("That code is wrong or was used already."))
    return _complete(row)


def _current_password(user: User, given: str, field: str) -> None:
    """422 on `field` unless `given` is the signed-in user's password; a
    wrong one counts as a failed sign-in of the account."""
    if not accounts.is_current_password(user, given):
        invalid(field, _("This is not your current password."))


def _prove(user: User, proof: dict) -> None:
    """A signed-in `user` who has a second factor proves it is them before
    changing it: their password and a current (or recovery) code; 422 on the
    field that is missing or wrong, 429 after too many failures."""
    for field in ("password", "code"):
        if not proof.get(field):
            invalid(field, _("Give your password and a code from your app."))
    wait = accounts.account_wait(user.email) or accounts.second_step_wait(user)
    if wait is not None:
        _too_many(wait, "auth.totp_enrol_blocked")
    _current_password(user, proof["password"], "password")
    passwords = current_app.extensions["homeward_passwords"]
    if not second_factor.accept(user, proof["code"], passwords):
        db.session.rollback()
        _count_wrong_code(user)
        invalid("code", _("That code is wrong or was used already."))


@blp.route("/totp/enrol", methods=["POST"])
@blp.arguments(EnrolmentProofSchema())
@blp.response(200, EnrolmentSchema)
@documents(blp, 401, 422, 429)
def enrol(proof):
    """A new authenticator secret with its QR code: during sign-in (when it
    asks to `enrol`), or signed in, to set one up (patients may) or replace one.
    Replacing one needs `password` and a current `code` (or a recovery code).
    The secret in force stays so until .../enrol/confirm."""
    row = getattr(session, "row", None)
    if row is not None and row.second_factor == "enrol":
        user = row.user
    else:
        user = actor()
        if second_factor.enrolled(user):
            _prove(user, proof)
    enrolment = second_factor.start_enrolment(user)
    db.session.commit()
    return enrolment


@blp.route("/totp/enrol/confirm", methods=["POST"])
@limiter.limit(_per_second_factor, deduct_when=_wrong_code)
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
    passwords = current_app.extensions["homeward_passwords"]
    codes = second_factor.confirm_enrolment(user, body["code"], passwords)
    if codes is None:
        db.session.rollback()
        g.wrong_code = True
        abort(401, message=_("That code does not match. Check the app and try again."))
    accounts.notify(
        user, _l("A second sign-in step was set up"), signed_out=not pending
    )
    if pending:
        answer = _complete(row)
    else:  # a new phone: every other session ends
        sessions.end_all(user.id, keep=row.id)
        db.session.commit()
        answer = _me(user)
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
    sessions.finish()
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
    sessions.finish()
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
        sessions.finish()
    db.session.delete(row)
    db.session.commit()


@blp.route("/password", methods=["POST"])
@limiter.limit(_per_address, deduct_when=_failed)
@blp.arguments(PasswordChangeSchema())
@blp.response(204)
@documents(blp, 401, 422, 429)
def change_password(body):
    """A new password, given the current one; every other session ends. A
    wrong current password counts as a failed sign-in of the account."""
    user = actor()
    wait = accounts.account_wait(user.email)
    if wait is not None:
        _too_many(wait, "auth.password_blocked")
    _current_password(user, body["current_password"], "current_password")
    set_password(user, body["new_password"], "new_password")
    sessions.end_all(user.id, keep=session.row.id)
    accounts.notify(user, _l("Your password was changed"))
    db.session.commit()


@blp.route("/password-reset", methods=["POST"])
@limiter.limit(_per_reset)
@limiter.limit(_per_reset, key_func=_email_in_body)
@blp.arguments(PasswordResetSchema())
@blp.response(202)
@documents(blp, 429)
def request_password_reset(body):
    """Mail a single-use link, valid for an hour, to set a new password. The
    answer is the same, in the same time, whether or not the email belongs to
    anyone: the request only queues the address, and the worker looks it up
    (backend/mail.py)."""
    mail.ask("password_reset", body["email"].strip().lower())
    db.session.commit()


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
    accounts.notify(user, _l("Your password was reset"))
    db.session.commit()


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
