"""Alerts and their settings on the wire."""

from marshmallow import Schema, fields, validate

from backend.models.alerts import STATES
from backend.schemas.common import record_id_query, text

RULE_WORDS = {
    "pain_high": "Pain {scores} in the last check-ins",
    "pain_rising": "Weekly pain up from {mean_7_days_before} to {mean_last_7_days}",
    "flare_up": "A flare-up of {severity} out of 10",
    "inactive": "Nothing logged for {days} days with exercises due",
    "no_programme": "No programme {days_enrolled} days after enrolment",
    "odi_worse": "Oswestry score worse: {scores}",
    "psfs_worse": "PSFS average dropped: {means}",
}


class PersonSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class AlertSchema(Schema):
    id = fields.Integer(required=True)
    patient_id = fields.Integer(required=True)
    patient_name = fields.String(attribute="patient.name", required=True)
    rule = fields.String(required=True)
    severity = fields.String(required=True)
    summary = fields.Method("_summary", metadata={"description": "In words."})
    detail = fields.Dict(required=True)
    raised_at = fields.DateTime(required=True)
    state = fields.String(required=True)
    episode_open = fields.Boolean(
        required=True, metadata={"description": "Its condition still holds."}
    )
    acknowledged_by = fields.Nested(
        PersonSchema, attribute="acknowledger", allow_none=True
    )
    acknowledged_at = fields.DateTime(allow_none=True)
    resolved_by = fields.Nested(PersonSchema, attribute="resolver", allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    minutes_to_acknowledge = fields.Method(
        "_waited", metadata={"description": "How long it waited; null until then."}
    )

    def _summary(self, alert) -> str:
        words = RULE_WORDS.get(alert.rule, alert.rule)
        detail = {
            key: ", ".join(str(v) for v in value) if isinstance(value, list) else value
            for key, value in (alert.detail or {}).items()
        }
        try:
            return words.format(**detail)
        except (KeyError, IndexError):
            return words.split("{")[0].strip()

    def _waited(self, alert) -> int | None:
        if alert.acknowledged_at is None:
            return None
        return int((alert.acknowledged_at - alert.raised_at).total_seconds() // 60)


class AlertQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    patient_id = record_id_query()
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 2000))


class ResolveSchema(Schema):
    note = text(2000, multiline=True, load_default="")
