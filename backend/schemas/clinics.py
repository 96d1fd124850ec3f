"""The clinic's own settings on the wire."""

from marshmallow import Schema, fields, validate

from backend.i18n import LANGUAGES

PAPER_SIZES = ["A4", "Letter"]


def default_language_field(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.OneOf(LANGUAGES),
        metadata={
            "description": "The language for its people who have not chosen "
            "one and whose browser asks for none Homeward speaks."
        },
        **kwargs,
    )


class ClinicSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    paper_size = fields.String(
        required=True,
        validate=validate.OneOf(PAPER_SIZES),
        metadata={"description": "The paper the printed handout is laid out for."},
    )
    default_language = default_language_field(required=True)
    alert_settings = fields.Method(
        "_rules",
        metadata={"description": "Each alert rule: on, severity and its numbers."},
    )

    def _rules(self, clinic) -> dict:
        from backend.services.alerts import settings_for

        return settings_for(clinic)


class RuleSchema(Schema):
    """One alert rule as a clinic sets it: on or off and its numbers."""

    on = fields.Boolean()
    points = fields.Float(validate=validate.Range(0.5, 100))
    in_a_row = fields.Integer(validate=validate.Range(1, 10))
    days = fields.Integer(validate=validate.Range(1, 90))


class AlertSettingsSchema(Schema):
    """Each rule's settings (services/alerts.py RULES); what a clinic leaves
    out keeps the default."""

    pain_high = fields.Nested(RuleSchema)
    pain_rising = fields.Nested(RuleSchema)
    flare_up = fields.Nested(RuleSchema)
    inactive = fields.Nested(RuleSchema)
    no_programme = fields.Nested(RuleSchema)
    odi_worse = fields.Nested(RuleSchema)
    psfs_worse = fields.Nested(RuleSchema)


class ClinicPatchSchema(Schema):
    paper_size = fields.String(validate=validate.OneOf(PAPER_SIZES))
    default_language = default_language_field()
    alert_settings = fields.Nested(AlertSettingsSchema)


class UndeliveredMailSchema(Schema):
    id = fields.Integer(required=True)
    to = fields.String(required=True, attribute="to_address")
    subject = fields.String(allow_none=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    last_error = fields.String(allow_none=True)


class MailStateSchema(Schema):
    """How the clinic's email is going (backend/mail.py): what waits, what
    failed for good in the last 30 days, and the newest of those."""

    waiting = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    oldest_waiting_seconds = fields.Integer(allow_none=True)
    undelivered = fields.List(fields.Nested(UndeliveredMailSchema), required=True)
