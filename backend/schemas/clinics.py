"""The clinic's own settings on the wire."""

from marshmallow import Schema, fields, validate

PAPER_SIZES = ["A4", "Letter"]


class ClinicSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    paper_size = fields.String(
        required=True,
        validate=validate.OneOf(PAPER_SIZES),
        metadata={"description": "The paper the printed handout is laid out for."},
    )


class ClinicPatchSchema(Schema):
    paper_size = fields.String(required=True, validate=validate.OneOf(PAPER_SIZES))
