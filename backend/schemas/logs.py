"""Exercise ticks, pain check-ins, the daily routine and the sync batch on the wire."""

from marshmallow import Schema, fields, post_dump, validate

from backend.schemas.common import Day, StrictInt, record_id, text
from backend.schemas.exercises import ExerciseSchema


class ExerciseLogInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the client."})
    exercise_id = record_id(required=True)
    performed_on = Day(required=True)
    sets_done = StrictInt(allow_none=True, validate=validate.Range(0, 100))
    reps_done = StrictInt(allow_none=True, validate=validate.Range(0, 1000))
    pain_during = StrictInt(allow_none=True, validate=validate.Range(0, 10))
    difficulty = StrictInt(allow_none=True, validate=validate.Range(1, 5))
    note = text(2000, multiline=True, allow_none=True)


class ExerciseLogSchema(ExerciseLogInSchema):
    """A tick as stored: what the client sent and when it arrived."""

    created_at = fields.DateTime(required=True)
    deleted_at = fields.DateTime(
        allow_none=True, metadata={"description": "Set when the tick was undone."}
    )


class PainLogInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the client."})
    logged_on = Day(required=True)
    score = StrictInt(required=True, validate=validate.Range(0, 10))
    location = text(200, allow_none=True)
    spasms = StrictInt(allow_none=True, validate=validate.Range(0, 1000))
    note = text(2000, multiline=True, allow_none=True)


class PainLogSchema(PainLogInSchema):
    """A pain check-in as stored: what the client sent and when it arrived."""

    created_at = fields.DateTime(required=True)


class RoutineItemSchema(Schema):
    exercise = fields.Nested(ExerciseSchema, required=True)
    exercise_id = fields.Integer(required=True)
    sets = fields.Integer(required=True)
    reps = fields.Integer(required=True)
    hold_seconds = fields.Integer(required=True)
    times_per_day = fields.Integer(required=True)
    notes = fields.String(required=True)
    sessions_due = fields.Integer(required=True)
    sessions_done = fields.Integer(required=True)


class DoseSchema(Schema):
    sets = fields.Integer(required=True)
    reps = fields.Integer(required=True)
    hold_seconds = fields.Integer(required=True)
    times_per_day = fields.Integer(required=True)
    days_of_week = fields.List(fields.Integer(), required=True)


class NamedExerciseSchema(Schema):
    exercise_id = fields.Integer(required=True)
    name = fields.String(required=True)


class ChangedItemSchema(NamedExerciseSchema):
    before = fields.Nested(DoseSchema, required=True)
    after = fields.Nested(DoseSchema, required=True)
    notes = fields.String(metadata={"description": "The new notes, when they changed."})


class ProgrammeChangeSchema(Schema):
    """What changed from the version before to this one."""

    version = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    note = fields.String(required=True, metadata={"description": "The therapist's."})
    added = fields.List(fields.Nested(NamedExerciseSchema), required=True)
    removed = fields.List(fields.Nested(NamedExerciseSchema), required=True)
    changed = fields.List(fields.Nested(ChangedItemSchema), required=True)


class SeenSchema(Schema):
    version = StrictInt(required=True, validate=validate.Range(1, 100_000))


class WeekItemSchema(Schema):
    exercise_id = fields.Integer(required=True)
    due = fields.Integer(required=True)
    done = fields.Integer(required=True)


class WeekDaySchema(Schema):
    date = fields.Date(required=True)
    due = fields.Integer(required=True)
    done = fields.Integer(required=True)
    items = fields.List(fields.Nested(WeekItemSchema), required=True)


class WeekExerciseSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class WeekSchema(Schema):
    start = fields.Date(required=True, metadata={"description": "Its Monday."})
    today = fields.Date(required=True, metadata={"description": "The patient's today."})
    exercises = fields.List(fields.Nested(WeekExerciseSchema), required=True)
    days = fields.List(fields.Nested(WeekDaySchema), required=True)


class RoutineSchema(Schema):
    date = fields.Date(required=True)
    today = fields.Date(required=True, metadata={"description": "The patient's today."})
    programme_id = fields.Integer(allow_none=True)
    programme_version = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(RoutineItemSchema), required=True)
    pain = fields.List(fields.Nested(PainLogSchema), required=True)
    exercise_logs = fields.List(
        fields.Nested(ExerciseLogSchema),
        metadata={"description": "That day's ticks, so a client can undo one."},
    )
    programme_change = fields.Nested(
        ProgrammeChangeSchema,
        allow_none=True,
        metadata={
            "description": "For the patient's today: what changed with the "
            "programme in force, until they say they have seen it."
        },
    )


class RoutineQuerySchema(Schema):
    date = Day()


class SyncInSchema(Schema):
    """The offline outbox: each section's records as the body of one POST."""

    exercise_logs = fields.List(
        fields.Raw(),
        load_default=list,
        metadata={"description": "Each as the body of POST .../exercise-logs."},
    )
    pain_logs = fields.List(
        fields.Raw(),
        load_default=list,
        metadata={"description": "Each as the body of POST .../pain-logs."},
    )
    deleted_exercise_logs = fields.List(
        fields.Raw(), load_default=list, metadata={"description": "UUIDs to undo."}
    )
    messages = fields.List(
        fields.Raw(),
        load_default=list,
        metadata={"description": "Each as the body of POST .../messages."},
    )
    flare_ups = fields.List(
        fields.Raw(),
        load_default=list,
        metadata={"description": "Each as the body of POST .../flare-ups."},
    )


class SyncResultSchema(Schema):
    id = fields.String(allow_none=True, metadata={"description": "The record's UUID."})
    kind = fields.String(
        validate=validate.OneOf(
            ["exercise_log", "pain_log", "deleted_exercise_log", "message", "flare_up"]
        )
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(["created", "duplicate", "conflict", "invalid"]),
    )
    errors = fields.Dict(
        metadata={"description": "Why an `invalid` record was refused."}
    )

    @post_dump
    def _errors_only_when_refused(self, data, **kwargs):
        if not data.get("errors"):
            data.pop("errors", None)
        return data


class SyncOutSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema), required=True)


class LimitsSchema(Schema):
    records = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        required=True,
        metadata={"description": "Each record kind's JSON Schema (from components)."},
    )
    sync_records = fields.Integer(required=True, metadata={"description": "Per sync."})
    body_bytes = fields.Integer(required=True, metadata={"description": "Per request."})
    first_day = fields.Date(required=True)
    last_day = fields.Date(required=True)
    oldest_log_days = fields.Integer(
        required=True, metadata={"description": "How far back a record may be dated."}
    )
