"""Sign-in, sign-out, the CSRF token and accepting an invitation."""

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from flask_smorest import Blueprint, abort
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from backend import session_store
from backend.api.common import documents
from backend.auth import actor
from backend.extensions import db, limiter
from backend.models import User
from backend.schemas.users import (
    AcceptInviteSchema,
    CsrfSchema,
    LoginSchema,
    SessionSchema,
)
from backend.services import invitations
from backend.services.dates import now_utc

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sessions")


def _account_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"account:{str(email).strip().lower()}" if email else "account:-"


def _login_limit_account() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _login_limit_address() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _failed(response) -> bool:
    return response.status_code in (400, 401)


def fresh_csrf_token() -> str:
    """A new CSRF token bound to the (new) session."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)
    return generate_csrf()


def start_session(user: User) -> dict:
    """Sign `user` in on this browser: a new server-side session (its cookie
    goes out with the answer) with a CSRF token of its own."""
    session.clear()
    csrf = fresh_csrf_token()
    session_store.begin(user, session["csrf_token"])
    db.session.commit()
    login_user(user)
    return {"user": user, "csrf_token": csrf}


@blp.route("/csrf", methods=["GET"])
@blp.response(200, CsrfSchema)
def csrf_token():
    """A CSRF token for the current (possibly anonymous) session."""
    return {"csrf_token": generate_csrf()}


@blp.route("/login", methods=["POST"])
@limiter.limit(_login_limit_address, deduct_when=_failed)
@limiter.limit(_login_limit_account, key_func=_account_key, deduct_when=_failed)
@blp.arguments(LoginSchema())
@blp.response(200, SessionSchema)
@documents(blp, 400, 401, 429)
def login(credentials):
    """Sign in with email and password; wrong email or password is the same 401."""
    email = credentials["email"].strip().lower()
    g.audit_login_email = email
    user = db.session.scalar(select(User).where(User.email == email))
    passwords = current_app.extensions["homeward_passwords"]
    ok = passwords.verify(user.password_hash if user else None, credentials["password"])
    if not ok or user is None or not user.active:
        abort(401, message="Wrong email or password.")
    return start_session(user)


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    """Sign out for good: the session's row is deleted, so a copy of its cookie
    opens nothing (also fine when already signed out)."""
    if isinstance(session, session_store.SignedInSession):
        db.session.delete(session.row)
        db.session.commit()
    session_store.finish()
    logout_user()


@blp.route("/me", methods=["GET"])
@blp.response(200, SessionSchema)
@documents(blp, 401)
def me():
    """Who is signed in, with a CSRF token for their writes."""
    return {"user": actor(), "csrf_token": generate_csrf()}


@blp.route("/accept-invite", methods=["POST"])
@limiter.limit(_login_limit_address, deduct_when=_failed)
@blp.arguments(AcceptInviteSchema())
@blp.response(200, SessionSchema)
@documents(blp, 400, 429)
def accept_invite(body):
    """Set a password from an invitation link and sign the patient in."""
    patient = invitations.redeem(body["token"], now_utc())
    if patient is None:
        db.session.rollback()
        abort(400, message="This invitation link is used, expired or unknown.")
    passwords = current_app.extensions["homeward_passwords"]
    patient.password_hash = passwords.hash(body["password"])
    db.session.commit()
    return start_session(patient)
