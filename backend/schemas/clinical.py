"""Messages, flare-up reports and the Patient-Specific Functional Scale on the wire."""

from flask_babel import gettext as _
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from backend.models import HELPED, TRIGGERS
from backend.schemas.common import Day, StrictInt, text
from backend.schemas.users import UserSchema

MESSAGE_LENGTH = 2000
PSFS_ACTIVITIES = 3


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_("Must not be blank."))


class MessageInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the client."})
    body = text(
        MESSAGE_LENGTH,
        multiline=True,
        min_length=1,
        required=True,
        metadata={"description": "Plain text; line breaks allowed."},
    )

    @validates("body")
    def _said_something(self, value, **kwargs):
        _not_blank(value)


class MessageSchema(Schema):
    id = fields.UUID(required=True)
    author = fields.Nested(UserSchema, required=True)
    body = fields.String(required=True)
    sent_at = fields.DateTime(required=True)
    read_at = fields.DateTime(
        allow_none=True,
        required=True,
        metadata={"description": "When the other side read it; null until then."},
    )


class ReadUpToSchema(Schema):
    up_to = fields.UUID(
        required=True,
        metadata={
            "description": "A message of the thread: the other side's messages "
            "sent until then (it included) are read."
        },
    )


class UnreadSchema(Schema):
    unread = fields.Integer(
        required=True,
        metadata={"description": "The other side's messages the caller has not read."},
    )


def _choices(names: tuple[str, ...], what: str) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(names)),
        required=True,
        validate=validate.Length(max=len(names)),
        metadata={"description": f"{what}; may be empty."},
    )


class FlareUpInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the client."})
    started_on = Day(required=True)
    severity = StrictInt(required=True, validate=validate.Range(0, 10))
    triggers = _choices(TRIGGERS, "What set it off")
    helped = _choices(HELPED, 'What helped; "nothing" goes alone')
    note = text(
        1000,
        multiline=True,
        allow_none=True,
        metadata={"description": 'Required when the triggers hold "other".'},
    )

    @validates_schema
    def _consistent(self, data, **kwargs):
        errors = {}
        if "other" in data["triggers"] and not (data.get("note") or "").strip():
            errors["note"] = [_('Say what set it off when you choose "other".')]
        if "nothing" in data["helped"] and set(data["helped"]) != {"nothing"}:
            errors["helped"] = [_('"nothing" cannot go with something that helped.')]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _as_sets(self, data, **kwargs):
        """Each choice once, in the order of the list of choices: a replay
        that names them in another order is the same report."""
        data["triggers"] = [name for name in TRIGGERS if name in data["triggers"]]
        data["helped"] = [name for name in HELPED if name in data["helped"]]
        return data


class FlareUpSchema(FlareUpInSchema):
    """A flare-up report as stored: what the client sent and when it arrived."""

    created_at = fields.DateTime(required=True)


class HelpedSchema(Schema):
    reports = fields.Integer(required=True, metadata={"description": "Naming it."})
    pain_mean_48h = fields.Float(
        allow_none=True,
        required=True,
        metadata={
            "description": "The mean score of the pain check-ins logged in the "
            "two days after the start day of the reports that named it; null "
            "when there were none."
        },
    )
    pain_logs_48h = fields.Integer(
        required=True, metadata={"description": "How many check-ins that mean is of."}
    )


TriggerCountsSchema = Schema.from_dict(
    {name: fields.Integer(required=True) for name in TRIGGERS},
    name="TriggerCountsSchema",
)
HelpedSummarySchema = Schema.from_dict(
    {name: fields.Nested(HelpedSchema, required=True) for name in HELPED},
    name="HelpedSummarySchema",
)


class FlareUpSummarySchema(Schema):
    reports = fields.Integer(required=True)
    triggers = fields.Nested(
        TriggerCountsSchema,
        required=True,
        metadata={"description": "How many reports named each trigger."},
    )
    helped = fields.Nested(HelpedSummarySchema, required=True)


class PsfsActivitySchema(Schema):
    name = text(
        100,
        min_length=1,
        required=True,
        metadata={"description": "An activity the patient finds hard, in their words."},
    )
    score = StrictInt(
        required=True,
        validate=validate.Range(0, 10),
        metadata={"description": "0: unable to perform; 10: as before the problem."},
    )

    @validates("name")
    def _named(self, value, **kwargs):
        _not_blank(value)

    @post_load
    def _trimmed(self, data, **kwargs):
        data["name"] = data["name"].strip()
        return data


class PsfsInSchema(Schema):
    activities = fields.List(
        fields.Nested(PsfsActivitySchema),
        required=True,
        validate=validate.Length(1, PSFS_ACTIVITIES),
        metadata={"description": "One to three, each named once."},
    )
    taken_on = Day(metadata={"description": "Default: the patient's today."})

    @validates("activities")
    def _each_named_once(self, value, **kwargs):
        seen = set()
        for activity in value:
            if "name" not in activity:  # refused already, with its own error
                continue
            name = activity["name"].casefold()
            if name in seen:
                raise ValidationError(
                    _(
                        "Each activity once: “%(name)s” is named twice.",
                        name=activity["name"],
                    )
                )
            seen.add(name)


class PsfsSchema(Schema):
    id = fields.Integer(required=True)
    taken_on = fields.Date(required=True)
    mean = fields.Float(
        required=True, metadata={"description": "Σ scores / number of activities."}
    )
    activities = fields.List(fields.Nested(PsfsActivitySchema), required=True)
