"""What the patient records: the day's routine, ticks, pain, the offline sync
(which carries their flare-ups and messages too), and the limits a client
checks its records against."""

from collections import Counter
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint, abort

from backend.access import patient_or_404, patient_self, require_role
from backend.api import audit
from backend.api.common import documents, invalid
from backend.extensions import (
    MAX_BODY_BYTES,
    MAX_SYNC_RECORDS,
    address_key,
    api,
    db,
    limiter,
)
from backend.schemas.clinical import FlareUpInSchema, MessageInSchema
from backend.schemas.common import FIRST_DAY, LAST_DAY, DateRangeQuery
from backend.schemas.logs import (
    ExerciseLogInSchema,
    ExerciseLogSchema,
    LimitsSchema,
    PainLogInSchema,
    PainLogSchema,
    RoutineQuerySchema,
    RoutineSchema,
    SeenSchema,
    SyncInSchema,
    SyncOutSchema,
    WeekSchema,
)
from backend.services import logs, plan, writes
from backend.services.dates import today_in
from backend.services.routine import routine_for

blp = Blueprint("logs", __name__, url_prefix="/api", description="Routine and logs")


def writer() -> str:
    """Writes are limited per person (generously: a phone catching up on a
    month of records sends them in one or two syncs)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{address_key()}"


def write_limit() -> str:
    return current_app.config["WRITE_LIMIT"]


def _sync_limit() -> str:
    return current_app.config["SYNC_LIMIT"]


DEFAULT_RANGE_DAYS = 30
STATUS = {"created": 201, "duplicate": 200}  # of a single record; else 409


def commit_one(outcome: logs.Outcome) -> None:
    """Commit a single record's write (services/writes.py) with its audit row
    in the same transaction; a refused one (invalid, or a conflict) keeps
    nothing."""
    if outcome.status in STATUS:
        audit.stage(STATUS[outcome.status])
        writes.commit()
    else:
        db.session.rollback()


@blp.route("/patients/<int:patient_id>/routine", methods=["GET"])
@blp.arguments(RoutineQuerySchema(), location="query")
@blp.response(200, RoutineSchema)
@documents(blp, 401, 404)
def routine(query, patient_id):
    """The routine for `date` (default: the patient's own today)."""
    patient = patient_or_404(patient_id)
    today = today_in(patient.profile.timezone)
    day = query.get("date", today)
    routine = routine_for(patient.id, patient.clinic_id, day)
    version, seen = routine["programme_version"], patient.profile.programme_seen_version
    routine["programme_change"] = None
    if day == today and version and version > (seen or 1):  # rare: after a change
        routine["programme_change"] = plan.change_to(patient.id, version)
    return routine | {"today": today}


@blp.route("/patients/<int:patient_id>/programme/seen", methods=["POST"])
@limiter.limit(write_limit, key_func=writer)
@blp.arguments(SeenSchema())
@blp.response(204)
@documents(blp, 401, 403, 404, 422)
def programme_seen(body, patient_id):
    """The patient has read what changed up to `version`: the routine stops
    showing it (until the next change)."""
    patient = patient_self(patient_id)
    latest = plan.latest_version(patient.id) or 0
    if body["version"] > latest:
        invalid("version", _("The latest version is %(latest)s.", latest=latest))
    profile = patient.profile
    profile.programme_seen_version = max(
        profile.programme_seen_version or 0, body["version"]
    )
    db.session.commit()


@blp.route("/patients/<int:patient_id>/week", methods=["GET"])
@blp.arguments(RoutineQuerySchema(), location="query")
@blp.response(200, WeekSchema)
@documents(blp, 401, 404)
def week(query, patient_id):
    """The week (Monday to Sunday) holding `date` (default: the patient's
    today): what is due on each day, and what was done."""
    patient = patient_or_404(patient_id)
    today = today_in(patient.profile.timezone)
    return plan.week_of(patient.id, query.get("date", today), today)


def _described(text: str):
    """Give a view made by `record_views` its own docstring (the OpenAPI summary)."""

    def describe(view):
        view.__doc__ = text
        return view

    return describe


def record_views(
    blp: Blueprint,
    kind: logs.Kind,
    in_schema,
    out_schema,
    endpoint: str,
    what: str,
    refusal: str = _l("Only the patient records their own logs."),
):
    """POST one record (idempotent by its UUID) and GET a date range of them,
    on `blp`: ticks, pain check-ins and flare-up reports share both views.
    Only the patient records; others who may see them get 403 with `refusal`."""
    path = f"/patients/<int:patient_id>/{kind.name.replace('_', '-')}s"

    @blp.route(path, methods=["POST"], endpoint=endpoint)
    @limiter.limit(write_limit, key_func=writer)
    @blp.arguments(in_schema())
    @blp.response(201, out_schema)
    @blp.alt_response(
        200,
        schema=out_schema,
        success=True,
        description="A replay of a record already stored.",
    )
    @documents(blp, 401, 403, 404, 409, 422, 429)
    @_described(f"Record a {what} (idempotent by the client's UUID).")
    def record(body, patient_id):
        patient = patient_self(patient_id, refusal)
        outcome = logs.record(
            patient.id,
            patient.clinic_id,
            today_in(patient.profile.timezone),
            kind,
            body,
        )
        commit_one(outcome)
        if outcome.status == "invalid":
            abort(422, errors={"json": outcome.errors})
        if outcome.status == "conflict":
            abort(409, message=_("This id was already stored with different content."))
        return outcome.record, STATUS[outcome.status]

    @blp.route(path, methods=["GET"], endpoint=f"list_{kind.name}s")
    @blp.arguments(DateRangeQuery(), location="query")
    @blp.response(200, out_schema(many=True))
    @documents(blp, 401, 404)
    @_described(f"The {what}s from `from` to `to` (default: the last 30 days).")
    def between(query, patient_id):
        patient = patient_or_404(patient_id)
        end = query.get("end") or today_in(patient.profile.timezone)
        start = query.get("start") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        return logs.logs_between(kind, patient.id, start, end)


record_views(
    blp,
    logs.EXERCISE_LOG,
    ExerciseLogInSchema,
    ExerciseLogSchema,
    "record_exercise",
    "live tick",
)
record_views(
    blp, logs.PAIN_LOG, PainLogInSchema, PainLogSchema, "record_pain", "pain check-in"
)


@blp.route("/patients/<int:patient_id>/exercise-logs/<uuid:log_id>", methods=["DELETE"])
@limiter.limit(write_limit, key_func=writer)
@blp.response(204)
@documents(blp, 401, 403, 404, 429)
def undo_exercise(patient_id, log_id):
    """Undo a tick; undoing it again changes nothing."""
    patient = patient_self(patient_id)
    [outcome] = logs.store(patient.id, {}, [log_id])
    if outcome.status == "invalid":
        abort(404, message=_("No such exercise log."))
    audit.stage(204)
    writes.commit()


SYNC_SCHEMAS = {
    "exercise_log": ExerciseLogInSchema(),
    "pain_log": PainLogInSchema(),
    "message": MessageInSchema(),
    "flare_up": FlareUpInSchema(),
}
# each section of the body and the kind of record it holds
SYNC_SECTIONS = {
    "exercise_logs": "exercise_log",
    "pain_logs": "pain_log",
    "deleted_exercise_logs": logs.UNDO,
    "messages": "message",
    "flare_ups": "flare_up",
}


@blp.route("/sync", methods=["POST"])
@limiter.limit(_sync_limit, key_func=writer)
@blp.arguments(SyncInSchema())
@blp.response(200, SyncOutSchema)
@documents(blp, 401, 403, 413, 429)
def sync(body):
    """Flush an offline outbox: every record is judged on its own.

    Results come in the order exercise logs, pain logs, deletions, messages,
    flare-ups, each in the order sent. A deletion that was applied reports
    `created`. Messages are the patient's, to their care team, who hear of
    new ones as after POST .../messages.
    """
    patient = patient_self(require_role("patient").id)
    records = sum(len(body[section]) for section in SYNC_SECTIONS)
    if records > MAX_SYNC_RECORDS:
        abort(
            413,
            message=_(
                "At most %(most)s records per sync (%(records)s sent): "
                "send the rest in another request.",
                most=MAX_SYNC_RECORDS,
                records=records,
            ),
        )
    outcomes = logs.sync(
        patient.id,
        patient.clinic_id,
        today_in(patient.profile.timezone),
        {kind: body[section] for section, kind in SYNC_SECTIONS.items()},
        SYNC_SCHEMAS,
    )
    audit.stage(200, {"results": dict(Counter(o.status for o in outcomes))})
    writes.commit()
    return {"results": outcomes}


@blp.route("/limits", methods=["GET"])
@blp.response(200, LimitsSchema)
def limits():
    """The bounds a client checks its records against before it calls them
    saved: each record's JSON Schema as the OpenAPI document has it (one
    source: the schemas the server validates with), and the sync's limits."""
    components = api.spec.to_dict()["components"]["schemas"]
    return {
        "records": {
            "exercise_log": components["ExerciseLogIn"],
            "pain_log": components["PainLogIn"],
            "message": components["MessageIn"],
            "flare_up": components["FlareUpIn"],
        },
        "sync_records": MAX_SYNC_RECORDS,
        "body_bytes": MAX_BODY_BYTES,
        "first_day": FIRST_DAY,
        "last_day": LAST_DAY,
        "oldest_log_days": logs.OLDEST_LOG_DAYS,
    }
