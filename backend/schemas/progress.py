"""Progress, outcome measures and reports on the wire."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from backend.schemas.common import DateRangeQuery, StrictInt


class OdiInSchema(Schema):
    answers = fields.List(
        StrictInt(allow_none=True, validate=validate.Range(0, 5)),
        required=True,
        metadata={"description": "Ten sections, each 0..5 or null when skipped."},
    )
    taken_on = fields.Date(metadata={"description": "Default: the patient's today."})

    @validates("answers")
    def _ten(self, value, **kwargs):
        if len(value) != 10:
            raise ValidationError("Give exactly 10 answers (null for a skipped one).")


class OdiSchema(Schema):
    id = fields.Integer(required=True)
    taken_on = fields.Date(required=True)
    score_pct = fields.Float(required=True)
    band = fields.String(
        required=True,
        validate=validate.OneOf(
            ["minimal", "moderate", "severe", "crippling", "bed-bound"]
        ),
    )
    answered = fields.Integer(required=True)
    answers = fields.List(fields.Integer(allow_none=True))


class DaySchema(Schema):
    date = fields.Date(required=True)
    sessions_due = fields.Integer(required=True)
    sessions_done = fields.Integer(required=True)
    adherence = fields.Float(allow_none=True, required=True)
    pain_mean = fields.Float(allow_none=True, required=True)
    pain_max = fields.Integer(allow_none=True, required=True)
    spasms = fields.Integer(allow_none=True, required=True)


class ProgressSummarySchema(Schema):
    adherence = fields.Float(allow_none=True, required=True)
    pain_first_7d_mean = fields.Float(allow_none=True, required=True)
    pain_last_7d_mean = fields.Float(allow_none=True, required=True)


class ProgressSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    days = fields.List(fields.Nested(DaySchema), required=True)
    summary = fields.Nested(ProgressSummarySchema, required=True)
    odi = fields.List(fields.Nested(OdiSchema))


class ReportQuerySchema(DateRangeQuery):
    # a query string carries text, so "12" is read as 12 here
    therapist_id = fields.Integer(validate=validate.Range(min=1))


class ReportRowSchema(Schema):
    patient_id = fields.Integer(required=True)
    patient_name = fields.String(required=True)
    therapist_name = fields.String(allow_none=True, required=True)
    week_start = fields.Date(required=True)
    sessions_due = fields.Integer(required=True)
    sessions_done = fields.Integer(required=True)
    adherence_pct = fields.Float(allow_none=True, required=True)
    pain_mean = fields.Float(allow_none=True, required=True)
    pain_max = fields.Integer(allow_none=True, required=True)
    pain_logs = fields.Integer(required=True)


class TokenInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(
        required=True, metadata={"description": "The secret; shown only this once."}
    )


class AuditQuerySchema(DateRangeQuery):
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 5000))


class AuditEventSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor_email = fields.String(allow_none=True)
    action = fields.String(required=True)
    status = fields.Integer(required=True)
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)


class FhirBundleSchema(Schema):
    """A FHIR R4 Bundle; each entry is a FHIR resource as FHIR defines it."""

    resourceType = fields.String(required=True)  # noqa: N815 (FHIR's own name)
    type = fields.String(required=True)
    timestamp = fields.String()
    entry = fields.List(fields.Dict(), required=True)
