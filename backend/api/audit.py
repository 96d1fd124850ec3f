"""The audit trail: the after-request hook that records, and the admin's view of it.

Recorded: every successful write under /api, every sign-in attempt (success
and failure, with the address) and every export. Rows are only ever added.
The patient's log writes stage their row inside their own transaction
(`stage`); everything else is recorded after the response is made, in a
transaction of its own (`record_request`).
"""

import logging
from datetime import UTC, datetime, time, timedelta

from flask import Flask, g, request
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from backend.api.common import documents
from backend.auth import require_role
from backend.extensions import db
from backend.guards import CONTROL
from backend.models import AuditEvent, User
from backend.schemas.progress import AuditEventSchema, AuditQuerySchema
from backend.services import audit
from backend.services.dates import now_utc

log = logging.getLogger(__name__)

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit trail")

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# attempts to get in or to change how one gets in: recorded, failed or not
SIGN_INS = {
    "auth.login",
    "auth.accept_invite",
    "auth.totp",
    "auth.confirm_enrolment",
    "auth.change_password",
    "auth.request_password_reset",
    "auth.confirm_password_reset",
}
EXPORTS = {
    "reports.adherence_report",
    "reports.adherence_report_csv",
    "progress.fhir_export",
}
TARGETS = (  # view argument → the kind of record it names
    ("log_id", "exercise_log"),
    ("token_id", "api_token"),
    ("staff_id", "user"),
    ("exercise_id", "exercise"),
    ("patient_id", "patient"),
)


def _target_in_path():
    args = request.view_args or {}
    for name, kind in TARGETS:
        if name in args:
            return kind, args[name]
    return None


def _target(response):
    in_path = _target_in_path()
    if in_path is not None:
        return in_path
    body = response.get_json(silent=True) if response.is_json else None
    if isinstance(body, dict) and "id" in body:
        return request.blueprint, body["id"]
    return request.blueprint, None


def _email_sent() -> str | None:
    """The email a sign-in or reset request named (for refused ones)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or CONTROL.search(email):
        return None
    return email.strip().lower()[:254]


def _detail(response) -> dict | None:
    if request.endpoint in EXPORTS:
        return {"query": request.args.to_dict()}
    return None


def stage(status: int, detail: dict | None = None) -> None:
    """Add this request's audit row to the session before its write commits.

    For writes that know their outcome before committing (the patient's logs,
    the hottest writes): the row then commits, or rolls back, with the write
    itself, in one transaction, and `record_request` leaves the request alone.
    Called again after a rollback and retry, it stages the row again.
    """
    user = current_user._get_current_object()
    kind, target_id = _target_in_path() or (request.blueprint, None)
    audit.record(
        request.endpoint,
        status,
        clinic_id=user.clinic_id,
        actor_id=user.id,
        actor_email=user.email,
        target_type=kind,
        target_id=target_id,
        ip=request.remote_addr,
        detail=detail,
    )
    g.audit_staged = True


def record_request(response):
    """after_request: add the audit row for this request when it needs one
    (unless the view staged it in its own transaction, see `stage`)."""
    if g.get("audit_staged"):
        return response
    endpoint = request.endpoint or ""
    status = response.status_code
    is_sign_in = endpoint in SIGN_INS and status in (200, 202, 204, 400, 401, 429)
    is_write = request.method in WRITES and status < 400 and endpoint != "auth.logout"
    is_export = endpoint in EXPORTS and status == 200
    if not (is_sign_in or is_write or is_export):
        return response
    user = current_user if current_user.is_authenticated else None
    email = user.email if user else g.get("audit_login_email") or _email_sent()
    clinic_id = user.clinic_id if user else None
    if user is None and email:  # an attempt on an account: tell its clinic
        clinic_id = db.session.scalar(select(User.clinic_id).where(User.email == email))
    kind, target_id = _target(response)
    action = g.get("audit_action") or endpoint
    if status == 429:
        action = g.get("audit_action") or f"{endpoint}_blocked"
    elif status in (400, 401):
        action = f"{endpoint}_failed"
    try:
        audit.record(
            action,
            status,
            clinic_id=clinic_id,
            actor_id=user.id if user else None,
            actor_email=email,
            target_type=kind,
            target_id=target_id,
            ip=request.remote_addr,
            detail=_detail(response),
        )
        db.session.commit()
    except Exception:  # the request itself succeeded; never turn it into a 500
        db.session.rollback()
        log.exception("could not write the audit row for %s", endpoint)
    return response


def install(app: Flask) -> None:
    app.after_request(record_request)


@blp.route("", methods=["GET"])
@blp.arguments(AuditQuerySchema(), location="query")
@blp.response(200, AuditEventSchema(many=True))
@documents(blp, 401, 403)
def audit_trail(query):
    """The clinic's audit rows, newest first (default: the last 30 days)."""
    admin = require_role("admin")
    end = query.get("end") or now_utc().date()
    start = query.get("start") or end - timedelta(days=29)
    return db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.clinic_id == admin.clinic_id,
            AuditEvent.at >= datetime.combine(start, time.min, UTC),
            AuditEvent.at < datetime.combine(end + timedelta(days=1), time.min, UTC),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(query["limit"])
    ).all()
