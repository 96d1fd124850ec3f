"""Programme versions and their items on the wire."""

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates

from backend.schemas.common import Day, StrictInt, record_id, text
from backend.schemas.exercises import ExerciseSchema


class ItemInSchema(Schema):
    exercise_id = record_id(required=True)
    sets = StrictInt(required=True, validate=validate.Range(1, 20))
    reps = StrictInt(required=True, validate=validate.Range(1, 100))
    hold_seconds = StrictInt(load_default=0, validate=validate.Range(0, 3600))
    times_per_day = StrictInt(required=True, validate=validate.Range(1, 6))
    days_of_week = fields.List(
        StrictInt(validate=validate.Range(0, 6)),
        load_default=lambda: [0, 1, 2, 3, 4, 5, 6],
        metadata={"description": "Weekdays the item is due, Monday = 0."},
    )
    notes = text(1000, multiline=True, load_default="")

    @validates("days_of_week")
    def _distinct_days(self, value, **kwargs):
        if not value:
            raise ValidationError(_("Pick at least one day."))
        if len(set(value)) != len(value):
            raise ValidationError(_("Each day at most once."))


class ProgrammeInSchema(Schema):
    items = fields.List(
        fields.Nested(ItemInSchema),
        required=True,
        validate=validate.Length(min=1, max=30),
    )
    starts_on = Day(metadata={"description": "Default: the patient's today."})
    note = text(2000, multiline=True, load_default="")

    @validates("items")
    def _each_exercise_once(self, items, **kwargs):
        # two items of one exercise would each count the same ticks
        exercise_ids = [item["exercise_id"] for item in items]
        if len(set(exercise_ids)) != len(exercise_ids):
            raise ValidationError(
                _(
                    "Each exercise at most once per programme; "
                    "use times a day for more sessions."
                )
            )


class ItemSchema(Schema):
    exercise_id = fields.Integer(required=True)
    sets = fields.Integer(required=True)
    reps = fields.Integer(required=True)
    hold_seconds = fields.Integer(required=True)
    times_per_day = fields.Integer(required=True)
    days_of_week = fields.List(fields.Integer(), required=True)
    notes = fields.String(required=True)
    exercise = fields.Nested(ExerciseSchema, required=True)


class ProgrammeSchema(Schema):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True, required=True)
    note = fields.String(required=True)
    created_by = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime()
    items = fields.List(fields.Nested(ItemSchema), required=True)
