"""Progress, outcome measures and reports on the wire."""

import re

from flask_babel import gettext as _
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
)

from backend.schemas.common import (
    Day,
    ReportRangeQuery,
    StrictInt,
    record_id_query,
    text,
)
from backend.services import tokens


class OdiInSchema(Schema):
    answers = fields.List(
        StrictInt(allow_none=True, validate=validate.Range(0, 5)),
        required=True,
        metadata={"description": "Ten sections, each 0..5 or null when skipped."},
    )
    taken_on = Day(metadata={"description": "Default: the patient's today."})

    @validates("answers")
    def _ten(self, value, **kwargs):
        if len(value) != 10:
            raise ValidationError(
                _("Give exactly 10 answers (null for a skipped one).")
            )


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


class PsfsPointSchema(Schema):
    taken_on = fields.Date(required=True)
    mean = fields.Float(required=True)


class FlareUpMarkerSchema(Schema):
    id = fields.UUID(required=True)
    started_on = fields.Date(required=True)
    severity = fields.Integer(required=True)


class ProgressSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    days = fields.List(fields.Nested(DaySchema), required=True)
    summary = fields.Nested(ProgressSummarySchema, required=True)
    odi = fields.List(fields.Nested(OdiSchema))
    psfs = fields.List(
        fields.Nested(PsfsPointSchema),
        metadata={"description": "PSFS means taken in the range, oldest first."},
    )
    flare_ups = fields.List(
        fields.Nested(FlareUpMarkerSchema),
        metadata={"description": "Flare-ups that started in the range."},
    )


class ReportQuerySchema(ReportRangeQuery):
    # a query string carries text, so "12" is read as 12 here
    therapist_id = record_id_query()


class CsvQuerySchema(ReportQuerySchema):
    format = fields.String(
        validate=validate.OneOf(["contract"]),
        metadata={"description": "contract: exactly the contract's columns."},
    )


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
    name = text(100, min_length=1, required=True)
    expires_in_days = StrictInt(
        load_default=tokens.MAX_DAYS,
        validate=validate.Range(1, tokens.MAX_DAYS),
        metadata={"description": f"Days it works (default {tokens.MAX_DAYS})."},
    )
    scopes = fields.List(
        fields.String(validate=validate.OneOf(tokens.SCOPES)),
        load_default=lambda: list(tokens.SCOPES[:1]),
        validate=validate.Length(equal=1),
        metadata={"description": "What it may reach (one scope)."},
    )


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(required=True)
    scopes = fields.List(fields.String(), required=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(
        required=True, metadata={"description": "The secret; shown only this once."}
    )


ACTION = re.compile(r"^[a-z_]+\.[a-z_]*$")


class AuditFilterSchema(ReportRangeQuery):
    """Which events: dates, the person who acted, the patient concerned and
    the actions (comma-separated; one ending in "." names all of a kind,
    e.g. "auth.")."""

    actor_id = record_id_query()
    patient_id = record_id_query()
    action = fields.List(
        fields.String(validate=[validate.Length(max=80), validate.Regexp(ACTION)]),
        validate=validate.Length(max=20),
    )

    @pre_load
    def _split_actions(self, data, **kwargs):
        if "action" in data:  # ?action=a,b and ?action=a&action=b alike
            given = data["action"]
            given = given if isinstance(given, list) else [given]
            data = dict(data) | {
                "action": [a for v in given for a in str(v).split(",") if a]
            }
        return data


class AuditQuerySchema(AuditFilterSchema):
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
    sentence = fields.String(
        metadata={"description": "The event in words, for people."}
    )


class FhirBundleSchema(Schema):
    """A FHIR R4 Bundle; each entry is a FHIR resource as FHIR defines it."""

    resourceType = fields.String(required=True)  # noqa: N815 (FHIR's own name)
    type = fields.String(required=True)
    timestamp = fields.String()
    entry = fields.List(fields.Dict(), required=True)
