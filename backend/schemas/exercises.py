"""The exercise library on the wire."""

from marshmallow import Schema, fields, validate

from backend.models import CATEGORIES
from backend.schemas.common import StrictInt, name_field, text


class ExerciseSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    body_region = fields.String(required=True)
    instructions = fields.String(required=True)
    media_url = fields.String(allow_none=True)
    default_sets = fields.Integer(required=True)
    default_reps = fields.Integer(required=True)
    default_hold_seconds = fields.Integer(required=True)
    clinic_id = fields.Integer(
        allow_none=True, metadata={"description": "Null for the shipped library."}
    )


class ExerciseInSchema(Schema):
    name = name_field(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    body_region = text(100, min_length=1, required=True)
    instructions = fields.String(
        required=True, validate=validate.Length(min=1, max=5000)
    )
    media_url = fields.Url(
        allow_none=True, schemes={"https"}, validate=validate.Length(max=500)
    )
    default_sets = StrictInt(load_default=1, validate=validate.Range(1, 20))
    default_reps = StrictInt(load_default=1, validate=validate.Range(1, 100))
    default_hold_seconds = StrictInt(load_default=0, validate=validate.Range(0, 3600))


class ExerciseQuerySchema(Schema):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    q = text(100)
