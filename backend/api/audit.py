"""The audit trail: the after-request hook that records, and the admin's view of it.

Recorded: every successful write under /api, every sign-in attempt (success
and failure, with the address) and every export. Rows are only ever added.
The patient's log writes stage their row inside their own transaction
(`stage`); everything else is recorded after the response is made, in a
transaction of its own (`record_request`).
"""

import json
import logging
from datetime import UTC, datetime, time, timedelta

from flask import Flask, Response, current_app, g, request, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint
from limits import RateLimitItemPerMinute
from sqlalchemy import Select, or_, select

from backend.access import (
    clinic_events,
    clinic_people,
    require_role,
    staff_signed_in,
)
from backend.api.common import documents
from backend.extensions import address_key, db, limiter
from backend.guards import CONTROL, json_body
from backend.models import AuditEvent, User
from backend.schemas.progress import (
    AuditEventSchema,
    AuditFilterSchema,
    AuditQuerySchema,
)
from backend.services import audit, export
from backend.services.dates import now_utc

log = logging.getLogger(__name__)

blp = Blueprint("audit", __name__, url_prefix="/api", description="Audit trail")

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
    "audit.audit_trail_csv",
    "jobs.report_job_file",
}
REFUSED = {401, 403, 404}
REFUSALS_PER_MINUTE = RateLimitItemPerMinute(20)
# a staff member's reads of a patient's record, recorded once a day
PATIENT_READS = {
    "patients.get_patient",
    "progress.patient_progress",
    "progress.odi_history",
    "progress.psfs_history",
    "messages.list_messages",
    "messages.unread_messages",
    "flare_ups.list_flare_ups",
    "flare_ups.flare_up_summary",
    "logs.routine",
    "logs.week",
    "logs.list_exercise_logs",
    "logs.list_pain_logs",
    "programmes.current_programme",
    "programmes.programme_history",
    "programmes.programme_handout",
    "reminders.get_reminders",
}
# a staff member's reads of lists that name patients: one row per request,
# with the ids the answer held
LIST_READS = {
    "patients.list_patients": "patient.list",
    "alerts.list_alerts": "alert.list",
}
LIST_READ_ACTIONS = {*LIST_READS.values(), "patient.search"}
TARGETS = (  # view argument → the kind of record it names
    ("log_id", "exercise_log"),
    ("alert_id", "alert"),
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
    # a streamed body (the JSON report) is a list: reading it would buffer it
    streamed = response.is_streamed
    body = response.get_json(silent=True) if response.is_json and not streamed else None
    if isinstance(body, dict) and "id" in body:
        return request.blueprint, body["id"]
    return request.blueprint, None


def _email_sent() -> str | None:
    """The email a sign-in or reset request named (for refused ones)."""
    body = json_body()
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or CONTROL.search(email):
        return None
    return email.strip().lower()[:254]


def _detail(response, action: str) -> dict:
    detail = {}
    if request.endpoint in EXPORTS:
        detail["query"] = request.args.to_dict()
    token = g.get("api_token")
    if token is not None:  # a script: which token
        detail["token"] = {"id": token.id, "name": token.name}
    if action == "patient.read":
        detail["read"] = request.endpoint
    if action in LIST_READ_ACTIONS:
        detail |= _ids_listed(response)
    if g.get("csrf_refused"):
        detail["reason"] = "csrf"
    elif response.status_code in REFUSED and request.endpoint not in SIGN_INS:
        detail["path"] = request.path[:200]
        detail["method"] = request.method
    return detail


def stage(status: int, detail: dict | None = None) -> None:
    """Add this request's audit row to the session before its write commits.

    For writes that know their outcome before committing (the patient's logs,
    the hottest writes): the row then commits, or rolls back, with the write
    itself, in one transaction, and `record_request` leaves the request alone.
    Called again after a rollback and retry, it stages the row again.
    """
    note(request.endpoint, status, detail)
    g.audit_staged = True


def note(action: str, status: int, detail: dict | None = None) -> None:
    """Add a row for `action`, done by the signed-in user to the record the
    path names, to the session's transaction (the caller commits): something
    a request does besides what its own row tells (a handout that issues an
    invitation link)."""
    user = current_user._get_current_object()
    kind, target_id = _target_in_path() or (request.blueprint, None)
    audit.record(
        action,
        status,
        clinic_id=user.clinic_id,
        actor_id=user.id,
        actor_email=user.email,
        target_type=kind,
        target_id=target_id,
        ip=request.remote_addr,
        detail=detail,
    )


def record_request(response):
    """after_request: add the audit row for this request when it needs one
    (unless the view staged it in its own transaction, see `stage`)."""
    if g.get("audit_staged") or response.status_code == 503:
        return response  # 503: the database is out of reach, the row with it
    event = _event(response)
    if event is None:
        return response
    action, extra = event
    user = current_user if current_user.is_authenticated else None
    email = user.email if user else g.get("audit_login_email") or _email_sent()
    clinic_id = user.clinic_id if user else None
    kind, target_id = _target(response)
    if user is None and email:  # an attempt on an account: name it, tell its clinic
        # (of an email's accounts at several clinics, the oldest one's)
        account = db.session.execute(
            select(User.id, User.clinic_id).where(User.email == email).order_by(User.id)
        ).first()
        if account is not None:
            clinic_id = account.clinic_id
            if target_id is None:
                kind, target_id = "user", account.id
    try:
        audit.record(
            action,
            response.status_code,
            clinic_id=clinic_id,
            actor_id=user.id if user else None,
            actor_email=email,
            target_type=kind,
            target_id=target_id,
            ip=request.remote_addr,
            detail=_detail(response, action) or None,
            **extra,
        )
        db.session.commit()
    except Exception:  # the request itself is done; never turn it into a 500
        db.session.rollback()
        log.exception("could not write the audit row for %s", request.endpoint)
    return response


def _event(response) -> tuple[str, dict] | None:
    """(action, extra arguments) of the row this request needs, or None."""
    endpoint = request.endpoint or ""
    status = response.status_code
    if endpoint in SIGN_INS and status in (200, 202, 204, 400, 401, 429):
        if status == 429:
            return g.get("audit_action") or f"{endpoint}_blocked", {}
        if status in (400, 401):
            return f"{endpoint}_failed", {}
        return g.get("audit_action") or endpoint, {}
    if request.method in WRITES and status < 400 and endpoint != "auth.logout":
        return endpoint, {}
    if endpoint in EXPORTS and status in (200, 202):  # 202: queued as a job
        return endpoint, {}
    if g.get("csrf_refused") or (status in REFUSED and _names_an_object()):
        if _refusals_within_bound():
            return "access.refused", {}
        return None
    if request.method == "GET" and status == 200 and endpoint in PATIENT_READS:
        return _patient_read()
    if request.method == "GET" and status == 200 and endpoint in LIST_READS:
        return _list_read(endpoint)
    return None


def _names_an_object() -> bool:
    """A refused request for an API route that exists (a scanner's guesses at
    paths that do not are not worth a row)."""
    return request.url_rule is not None and request.path.startswith("/api/")


def _refusals_within_bound() -> bool:
    """At most REFUSALS_PER_MINUTE rows of refused access per address: a
    scanner cannot flood the table."""
    keys = (current_app.config["RATELIMIT_KEY_PREFIX"] or "homeward", "audit-refused")
    return limiter.limiter.hit(REFUSALS_PER_MINUTE, *keys, address_key())


def _patient_read() -> tuple[str, dict] | None:
    """A staff member's read of a patient's record, once per staff member,
    patient and (UTC) day."""
    user = staff_signed_in()
    patient_id = (request.view_args or {}).get("patient_id")
    if user is None or patient_id is None:
        return None
    day = now_utc().date().isoformat()
    return "patient.read", {"once_key": f"read:{user.id}:{patient_id}:{day}"}


def _list_read(endpoint: str) -> tuple[str, dict] | None:
    """A staff member's read of the patient list (a search when `q` says
    what to find) or of the alert inbox."""
    if staff_signed_in() is None:
        return None
    if endpoint == "patients.list_patients" and request.args.get("q"):
        return "patient.search", {}
    return LIST_READS[endpoint], {}


def _ids_listed(response) -> dict:
    """The ids of the records a list answer held (and, for alerts, of their
    patients)."""
    rows = response.get_json(silent=True) or []
    listed = {"ids": [row["id"] for row in rows]}
    if request.endpoint == "alerts.list_alerts":
        listed["patient_ids"] = sorted({row["patient_id"] for row in rows})
    return listed


def install(app: Flask) -> None:
    app.after_request(record_request)


def _events(admin: User, query: dict) -> Select:
    """The admin's clinic's events that match the filters, newest first
    (default: the last 30 days)."""
    end = query.get("end") or now_utc().date()
    start = query.get("start") or end - timedelta(days=29)
    events = clinic_events(admin).where(
        AuditEvent.at >= datetime.combine(start, time.min, UTC),
        AuditEvent.at < datetime.combine(end + timedelta(days=1), time.min, UTC),
    )
    if "actor_id" in query:
        events = events.where(AuditEvent.actor_id == query["actor_id"])
    if "patient_id" in query:  # what the patient did, and what was done to them
        patient_id = query["patient_id"]
        events = events.where(
            or_(
                AuditEvent.actor_id == patient_id,
                (AuditEvent.target_type == "patient")
                & (AuditEvent.target_id == str(patient_id)),
            )
        )
    if query.get("action"):
        events = events.where(
            or_(
                *(
                    AuditEvent.action.startswith(action, autoescape=True)
                    if action.endswith(".")
                    else AuditEvent.action == action
                    for action in query["action"]
                )
            )
        )
    return events.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _names(admin: User, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        clinic_people(admin, User.id, User.name).where(User.id.in_(ids))
    )
    return dict(rows.all())


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditQuerySchema(), location="query")
@blp.response(200, AuditEventSchema(many=True))
@documents(blp, 401, 403)
def audit_trail(query):
    """The clinic's audit events, newest first, each with a sentence that
    tells it (default: the last 30 days; at most `limit`)."""
    admin = require_role("admin")
    events = db.session.scalars(_events(admin, query).limit(query["limit"])).all()
    names = _names(admin, audit.people_named(events))
    for event in events:
        event.sentence = audit.sentence(event, names)
    return events


CSV_HEADER = [
    "When (UTC)",
    "What happened",
    "Who",
    "Email",
    "Action",
    "Result",
    "Record",
    "Address",
    "Details",
]


@blp.route("/audit.csv", methods=["GET"])
@blp.arguments(AuditFilterSchema(), location="query")
@blp.response(200, content_type="text/csv", description="The same events as CSV.")
@documents(blp, 401, 403)
def audit_trail_csv(query):
    """The filtered events as a spreadsheet-safe CSV, streamed (all of them)."""
    admin = require_role("admin")
    start, end = query.get("start"), query.get("end") or now_utc().date()
    filename = f"homeward-audit-{end.isoformat()}.csv"
    if start:
        filename = f"homeward-audit-{start.isoformat()}-{end.isoformat()}.csv"
    statement = _events(admin, query).execution_options(yield_per=500)
    lines = export.csv_stream(CSV_HEADER, _csv_rows(admin, statement))
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_rows(admin: User, statement: Select):
    for events in db.session.scalars(statement).partitions():
        names = _names(admin, audit.people_named(events))
        for event in events:
            yield [
                event.at.strftime("%Y-%m-%d %H:%M:%S"),
                audit.sentence(event, names),
                names.get(event.actor_id, ""),
                event.actor_email,
                event.action,
                event.status,
                f"{event.target_type} {event.target_id}" if event.target_id else "",
                event.ip,
                json.dumps(event.detail, ensure_ascii=False) if event.detail else "",
            ]
