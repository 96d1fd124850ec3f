"""The audit trail: the after-request hook that records, and the admin's view of it.

Which request gets which row, with which detail, is services/audit.py's; this
hook only reads the request and its answer (`_seen`) and commits the row. The
patient's log writes stage their row inside their own transaction (`stage`,
then services/writes.py's `commit`); everything else is recorded after the
response is made, in a transaction of its own (`record_request`).
"""

import json
import logging
from datetime import UTC, datetime, time, timedelta

from flask import Flask, Response, g, request, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import Select, or_

from backend.access import (
    clinic_events,
    clinic_people,
    require_role,
    staff_signed_in,
)
from backend.api.common import documents
from backend.extensions import address_key, db
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


def _seen(response) -> audit.Seen:
    """What services/audit.py judges of this request and its answer."""
    token = g.get("api_token")

    def staff_id():
        staff = staff_signed_in()
        return staff.id if staff is not None else None

    def answer():
        # a streamed body (the JSON report) is a list: reading it would buffer it
        if response.is_json and not response.is_streamed:
            return response.get_json(silent=True)
        return None

    return audit.Seen(
        endpoint=request.endpoint or "",
        method=request.method,
        status=response.status_code,
        path=request.path,
        blueprint=request.blueprint,
        address=address_key(),
        path_args=request.view_args or {},
        query=request.args.to_dict(),
        has_route=request.url_rule is not None,
        csrf_refused=bool(g.get("csrf_refused")),
        staff_id=staff_id,
        token={"id": token.id, "name": token.name} if token is not None else None,
        action=g.get("audit_action"),
        answer=answer,
    )


def _email_sent() -> str | None:
    """The email a sign-in or reset request named (for refused ones)."""
    body = json_body()
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or CONTROL.search(email):
        return None
    return email.strip().lower()[:254]


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
    kind, target_id = audit.target_in_path(request.view_args or {}, request.blueprint)
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
    seen = _seen(response)
    event = audit.event(seen)
    if event is None:
        return response
    action, extra = event
    user = current_user if current_user.is_authenticated else None
    email = user.email if user else g.get("audit_login_email") or _email_sent()
    try:
        audit.record_seen(
            seen, action, extra, actor=user, email=email, ip=request.remote_addr
        )
        db.session.commit()
    except Exception:  # the request itself is done; never turn it into a 500
        db.session.rollback()
        log.exception("could not write the audit row for %s", request.endpoint)
    return response


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
