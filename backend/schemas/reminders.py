"""Reminders: the patient's settings, push subscriptions, the nudge and the
email's stop link."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates

from backend.models import CHANNELS
from backend.schemas.common import Day, StrictInt, text

HHMM = validate.Regexp(
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error=_l("Use HH:MM, e.g. 08:30.")
)


class QuietHoursSchema(Schema):
    start = fields.String(required=True)
    end = fields.String(required=True)


class LastSentSchema(Schema):
    at = fields.DateTime(attribute="due_at", required=True)
    kind = fields.String(required=True)
    channel = fields.String(allow_none=True)
    outcome = fields.String(required=True)


class RemindersInSchema(Schema):
    times = fields.List(
        fields.String(validate=HHMM),
        required=True,
        validate=validate.Length(max=3, error=_l("At most three times a day.")),
    )
    days_of_week = fields.List(
        StrictInt(validate=validate.Range(0, 6)),
        required=True,
        metadata={"description": "0 = Monday … 6 = Sunday."},
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    paused_until = Day(allow_none=True, load_default=None)

    @validates("times")
    def _distinct_times(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError(_("Each time at most once."))

    @validates("days_of_week")
    def _days(self, value, **kwargs):
        if not value:
            raise ValidationError(_("Pick at least one day."))
        if len(set(value)) != len(value):
            raise ValidationError(_("Each day at most once."))


class RemindersSchema(Schema):
    times = fields.List(fields.String(), required=True)
    days_of_week = fields.List(fields.Integer(), required=True)
    channel = fields.String(required=True)
    paused_until = fields.Date(allow_none=True)
    timezone = fields.String(required=True)
    quiet_hours = fields.Nested(QuietHoursSchema, required=True)
    push_available = fields.Boolean(required=True)
    email_available = fields.Boolean(required=True)
    push_devices = fields.Integer(required=True)
    last_sent = fields.Nested(LastSentSchema, allow_none=True)


BASE64URL = validate.Regexp(r"^[A-Za-z0-9_=-]+$", error=_l("Not base64url."))


class SubscriptionKeysSchema(Schema):
    p256dh = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), BASE64URL]
    )
    auth = fields.String(
        required=True, validate=[validate.Length(min=1, max=100), BASE64URL]
    )


class SubscriptionSchema(Schema):
    endpoint = fields.String(
        required=True,
        validate=[
            validate.Length(max=1000),
            validate.URL(schemes={"http", "https"}, require_tld=False),
        ],
    )
    keys = fields.Nested(SubscriptionKeysSchema, required=True)


class EndpointSchema(Schema):
    endpoint = text(1000, required=True)


class PublicKeySchema(Schema):
    public_key = fields.String(required=True)


class NudgeSchema(Schema):
    channel = fields.String(required=True)
    deliver_at = fields.DateTime(attribute="due_at", required=True)
    held_for_quiet_hours = fields.Boolean(required=True)


class StopSchema(Schema):
    token = text(200, required=True)


class StoppedSchema(Schema):
    channel = fields.String(required=True)
