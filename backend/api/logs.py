"""What the patient records: the day's routine, ticks, pain, the offline sync."""

from collections import Counter
from datetime import timedelta

import orjson
from flask import Response, current_app
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError, fields

from backend.api import audit
from backend.api.common import documents
from backend.auth import Identity, patient_identity_or_404, patient_self, require_role
from backend.models import ExerciseLog, PainLog
from backend.schemas.common import DateRangeQuery
from backend.schemas.logs import (
    ExerciseLogInSchema,
    ExerciseLogSchema,
    PainLogInSchema,
    PainLogSchema,
    RoutineQuerySchema,
    RoutineSchema,
    SyncInSchema,
    SyncOutSchema,
)
from backend.services import logs
from backend.services.dates import today_in
from backend.services.routine import PAIN_FIELDS, TICK_FIELDS, routine_for, wire

blp = Blueprint("logs", __name__, url_prefix="/api", description="Routine and logs")

DEFAULT_RANGE_DAYS = 30
UUID_FIELD = fields.UUID()


def _check(patient: Identity, data: dict, day_field: str) -> dict:
    """Errors the schema cannot see: future dates, unknown exercises."""
    errors = logs.check_day(day_field, data[day_field], today_in(patient.timezone))
    if "exercise_id" in data and logs.unknown_exercises(
        {data["exercise_id"]}, patient.clinic_id
    ):
        errors["exercise_id"] = ["Unknown exercise."]
    return errors


STATUS = {"created": 201, "duplicate": 200}  # of a single record; else 409


def _audit_single(outcomes: list[logs.Outcome]) -> None:
    [outcome] = outcomes
    if outcome.status in STATUS:
        audit.stage(STATUS[outcome.status])


def _store_one(patient: Identity, **records) -> logs.Outcome:
    """Store one record, its audit row in the same transaction."""
    [outcome] = logs.store(
        patient.id,
        **records,
        today=today_in(patient.timezone),
        before_commit=_audit_single,
    )
    return outcome


WIRE_FIELDS = {"exercise_log": TICK_FIELDS, "pain_log": PAIN_FIELDS}


def _json(payload, status: int = 200) -> Response:
    """An answer already in wire form (ISO dates, string UUIDs), encoded with
    orjson: a few µs, against ~35 for the json module and the schema's dump."""
    return Response(orjson.dumps(payload), status, mimetype=current_app.json.mimetype)


def _respond(outcome) -> Response:
    """The stored record as `ExerciseLogSchema` / `PainLogSchema` would dump it
    (tests/test_logs.py checks that), 201 when new, 200 for a replay."""
    if outcome.status == "conflict":
        abort(409, message="This id was already stored with different content.")
    record = outcome.record
    names = WIRE_FIELDS[outcome.kind]
    return _json(
        {name: wire(getattr(record, name)) for name in names}, STATUS[outcome.status]
    )


def _range(patient: Identity, query: dict):
    end = query.get("end") or today_in(patient.timezone)
    start = query.get("start") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    return start, end


@blp.route("/patients/<int:patient_id>/routine", methods=["GET"])
@blp.arguments(RoutineQuerySchema(), location="query")
@blp.response(200, RoutineSchema)
@documents(blp, 401, 404)
def routine(query, patient_id):
    """The routine for `date` (default: the patient's own today)."""
    patient = patient_identity_or_404(patient_id)
    today = today_in(patient.timezone)
    routine = routine_for(patient.id, query.get("date", today))
    # already in wire form (see services/routine.py): skip the schema's dump
    return _json(routine | {"today": today.isoformat()})


@blp.route("/patients/<int:patient_id>/exercise-logs", methods=["POST"])
@blp.arguments(ExerciseLogInSchema())
@blp.response(201, ExerciseLogSchema)
@blp.alt_response(
    200,
    schema=ExerciseLogSchema,
    success=True,
    description="A replay of a record already stored.",
)
@documents(blp, 401, 403, 404, 409)
def record_exercise(body, patient_id):
    """Tick one session of an exercise (idempotent by the client's UUID)."""
    patient = patient_self(patient_id)
    errors = _check(patient, body, "performed_on")
    if errors:
        abort(422, errors={"json": errors})
    return _respond(_store_one(patient, exercise_logs=[body]))


@blp.route("/patients/<int:patient_id>/exercise-logs/<uuid:log_id>", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def undo_exercise(patient_id, log_id):
    """Undo a tick; undoing it again changes nothing."""
    patient = patient_self(patient_id)
    outcome = logs.undo_exercise_log(
        patient.id,
        log_id,
        today=today_in(patient.timezone),
        before_commit=lambda _outcome: audit.stage(204),
    )
    if outcome.status == "invalid":
        abort(404, message="No such exercise log.")


@blp.route("/patients/<int:patient_id>/exercise-logs", methods=["GET"])
@blp.arguments(DateRangeQuery(), location="query")
@blp.response(200, ExerciseLogSchema(many=True))
@documents(blp, 401, 404)
def list_exercise_logs(query, patient_id):
    """Ticks from `from` to `to` (default: the last 30 days), undone ones left out."""
    patient = patient_identity_or_404(patient_id)
    start, end = _range(patient, query)
    return logs.logs_between(
        ExerciseLog, ExerciseLog.performed_on, patient.id, start, end
    )


@blp.route("/patients/<int:patient_id>/pain-logs", methods=["POST"])
@blp.arguments(PainLogInSchema())
@blp.response(201, PainLogSchema)
@blp.alt_response(
    200,
    schema=PainLogSchema,
    success=True,
    description="A replay of a record already stored.",
)
@documents(blp, 401, 403, 404, 409)
def record_pain(body, patient_id):
    """A pain check-in (idempotent by the client's UUID)."""
    patient = patient_self(patient_id)
    errors = _check(patient, body, "logged_on")
    if errors:
        abort(422, errors={"json": errors})
    return _respond(_store_one(patient, pain_logs=[body]))


@blp.route("/patients/<int:patient_id>/pain-logs", methods=["GET"])
@blp.arguments(DateRangeQuery(), location="query")
@blp.response(200, PainLogSchema(many=True))
@documents(blp, 401, 404)
def list_pain_logs(query, patient_id):
    """Pain check-ins between `from` and `to` (default: the last 30 days)."""
    patient = patient_identity_or_404(patient_id)
    start, end = _range(patient, query)
    return logs.logs_between(PainLog, PainLog.logged_on, patient.id, start, end)


def _validated(schema, raw, patient: Identity, day_field: str, kind: str):
    """(data, None) for a good record, else (None, an `invalid` result)."""
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    raw_id = raw_id if isinstance(raw_id, str) else None
    try:
        data = schema.load(raw)
    except ValidationError as error:
        return None, logs.Outcome(raw_id, kind, "invalid", errors=error.messages)
    errors = _check(patient, data, day_field)
    if errors:
        return None, logs.Outcome(data["id"], kind, "invalid", errors=errors)
    return data, None


def _deletion(raw):
    """(uuid, None) for a well-formed deletion, else (None, an `invalid` result)."""
    try:
        return UUID_FIELD.deserialize(raw), None
    except ValidationError as error:
        raw_id = raw if isinstance(raw, str) else None
        kind = "deleted_exercise_log"
        return None, logs.Outcome(
            raw_id, kind, "invalid", errors={"id": error.messages}
        )


@blp.route("/sync", methods=["POST"])
@blp.arguments(SyncInSchema())
@blp.response(200, SyncOutSchema)
@documents(blp, 401, 403)
def sync(body):
    """Flush an offline outbox: every record is judged on its own.

    Results come in the order exercise logs, pain logs, deletions, each in the
    order sent. A deletion that was applied reports `created`.
    """
    patient = patient_self(require_role("patient").id)
    sections = (
        ("exercise_log", ExerciseLogInSchema(), "performed_on", body["exercise_logs"]),
        ("pain_log", PainLogInSchema(), "logged_on", body["pain_logs"]),
    )
    accepted = {"exercise_log": [], "pain_log": [], "deleted_exercise_log": []}
    results = []  # the `invalid` outcome of a rejected record, None for an accepted one
    for kind, schema, day_field, records in sections:
        for raw in records:
            data, rejected = _validated(schema, raw, patient, day_field, kind)
            results.append(rejected)
            if data is not None:
                accepted[kind].append(data)
    for raw in body["deleted_exercise_logs"]:
        log_id, rejected = _deletion(raw)
        results.append(rejected)
        if log_id is not None:
            accepted["deleted_exercise_log"].append(log_id)
    final = []

    def merge_and_audit(outcomes: list[logs.Outcome]) -> None:
        stored = iter(outcomes)
        final[:] = [outcome or next(stored) for outcome in results]
        audit.stage(200, {"results": dict(Counter(o.status for o in final))})

    logs.store(
        patient.id,
        *accepted.values(),
        today=today_in(patient.timezone),
        before_commit=merge_and_audit,
    )
    return {"results": [_result(outcome) for outcome in final]}


def _result(outcome) -> dict:
    result = {
        "id": str(outcome.id) if outcome.id is not None else None,
        "kind": outcome.kind,
        "status": outcome.status,
    }
    if outcome.errors:
        result["errors"] = outcome.errors
    return result
