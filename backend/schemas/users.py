"""People on the wire: users, staff, patients, sign-in and invitations."""

import base64
import binascii
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from backend.i18n import LANGUAGES
from backend.schemas.common import (
    is_key_value,
    name_field,
    record_id,
    record_id_query,
    text,
)
from backend.services.dates import is_known_timezone
from backend.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def password_field(**kwargs) -> fields.String:
    """A new password: its length here; how guessable it is, in the view
    (that needs the person's name and email)."""
    return fields.String(
        validate=validate.Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            error=_l(
                "Must be between %(min)s and {max} characters.",
                min=MIN_PASSWORD_LENGTH,
            ),
        ),
        **kwargs,
    )


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(
        required=True, validate=validate.OneOf(["patient", "therapist", "admin"])
    )
    clinic_id = fields.Integer(required=True)
    second_factor = fields.Boolean(
        metadata={"description": "Whether they sign in with a second step."}
    )
    language = fields.String(
        allow_none=True,
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "Their chosen language; null: the device's."},
    )


SPOKEN = {
    "validate": validate.OneOf(LANGUAGES),
    "metadata": {"description": "The language Homeward speaks to them now."},
}


class SessionSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(required=True)
    language = fields.String(required=True, **SPOKEN)


class LanguageChoiceSchema(Schema):
    language = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(LANGUAGES, error=_l("Must be one of: {choices}.")),
        metadata={"description": "null: follow the device's language."},
    )


class SignInSchema(Schema):
    """Signed in (`user`), or half-way: `second_factor` says the next step."""

    user = fields.Nested(UserSchema)
    csrf_token = fields.String(required=True)
    language = fields.String(**SPOKEN)  # with `user`
    second_factor = fields.String(
        validate=validate.OneOf(["totp", "enrol"]),
        metadata={
            "description": "totp: POST /api/auth/totp with a code; enrol: set "
            "one up with POST /api/auth/totp/enrol, then .../enrol/confirm."
        },
    )


class CodeSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "6 digits from the app, or a recovery code."},
    )


class EnrolmentProofSchema(Schema):
    """Who replaces an authenticator proves it is them (not asked during
    sign-in, nor of someone setting up their first one)."""

    password = fields.String(validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))
    code = fields.String(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "A current code from the app, or a recovery code."},
    )


class EnrolmentSchema(Schema):
    secret = fields.String(required=True)
    otpauth_uri = fields.String(required=True)
    qr_svg = fields.String(required=True, metadata={"description": "Inline SVG."})


class EnrolledSchema(SessionSchema):
    recovery_codes = fields.List(
        fields.String(), required=True, metadata={"description": "Shown once."}
    )


class DeviceSessionSchema(Schema):
    id = fields.Integer(required=True)
    device = fields.String(required=True)
    address = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    current = fields.Boolean(required=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )
    new_password = password_field(required=True)


class PasswordResetSchema(Schema):
    email = text(254, min_length=1, required=True)


class PasswordResetConfirmSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = password_field(required=True)


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True)


class EmailField(fields.Email):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class LoginSchema(Schema):
    email = text(254, min_length=1, required=True)
    password = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )


class AcceptInviteSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = password_field(required=True)


class StaffInSchema(Schema):
    email = EmailField(required=True, validate=validate.Length(max=254))
    name = name_field(required=True)
    role = fields.String(required=True, validate=validate.OneOf(["therapist", "admin"]))
    password = password_field(
        metadata={"description": "For scripts; people get an invitation email."}
    )


class TimezoneField(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_known_timezone(value):
            raise ValidationError(_("Not a known IANA timezone, e.g. 'Europe/London'."))
        return value


class PatientInSchema(Schema):
    name = name_field(required=True)
    email = EmailField(required=True, validate=validate.Length(max=254))
    timezone = TimezoneField(required=True)
    condition = text(2000, multiline=True, allow_none=True)
    therapist_id = record_id(allow_none=True)


class PatientPatchSchema(Schema):
    name = name_field()
    timezone = TimezoneField()
    condition = text(2000, multiline=True, allow_none=True)
    therapist_id = record_id(allow_none=True)

    @validates("name")
    def _not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError(_("Must not be blank."))

    @post_load
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError(_("Send at least one field to change."), "_schema")
        return data


class PatientSchema(UserSchema):
    timezone = fields.String(required=True)
    condition = fields.String(allow_none=True)
    therapist_id = fields.Integer(allow_none=True)
    therapist_name = fields.String(allow_none=True)
    invite_pending = fields.Boolean(
        metadata={"description": "True until the patient has set a password."}
    )
    adherence_7d = fields.Float(allow_none=True)
    pain_latest = fields.Integer(allow_none=True)
    last_activity = fields.Date(allow_none=True)
    flags = fields.List(fields.String())
    unread_messages = fields.Integer(
        metadata={
            "description": "The patient's messages their therapist has not read "
            "(with the summary, as in the list)."
        }
    )
    open_alerts = fields.Integer(
        metadata={"description": "The patient's alerts not resolved yet."}
    )


class EnrolledPatientSchema(PatientSchema):
    invite_token = fields.String(required=True)
    invite_url = fields.String(required=True)
    invite_expires_at = fields.DateTime(required=True)


# The patient list's pages (GET /api/patients): how a page is asked for.
PAGE_DEFAULT = 100
PAGE_MAX = 500
PATIENT_SORTS = ("name", "newest")
PATIENT_FLAGS = ("pain_rising", "low_adherence", "inactive", "invite_pending")


def page_cursor(sort: str, key: tuple) -> str:
    """The opaque `after` of the next page: the sort and the last row's key."""
    raw = json.dumps([sort, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class CursorField(fields.String):
    """An `after` cursor, read back into [sort, *key] (checked against the
    sort by the schema)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            decoded = json.loads(raw)
        except (binascii.Error, ValueError):
            decoded = None
        if not (isinstance(decoded, list) and len(decoded) >= 2):
            raise ValidationError(_("Not a cursor from this list."))
        return decoded


class PatientListQuerySchema(Schema):
    limit = fields.Integer(
        load_default=PAGE_DEFAULT,
        validate=validate.Range(1, PAGE_MAX),
        metadata={"description": f"Patients per page (default {PAGE_DEFAULT})."},
    )
    after = CursorField(
        validate=validate.Length(max=1000),
        metadata={
            "description": "The `X-Next-Cursor` of the previous page (also in "
            'its `Link: <…>; rel="next"`).'
        },
    )
    sort = fields.String(
        load_default="name",
        validate=validate.OneOf(PATIENT_SORTS),
        metadata={"description": "name (A to Z) or newest (last enrolled first)."},
    )
    q = text(200, metadata={"description": "Part of the name or email, any case."})
    flag = fields.String(validate=validate.OneOf(PATIENT_FLAGS))
    therapist_id = record_id_query()
    alert = fields.String(
        validate=validate.OneOf(["open"]),
        metadata={"description": "open: only patients with an alert not resolved."},
    )

    @validates_schema
    def _cursor_of_this_sort(self, data, **kwargs):
        after = data.get("after")
        if after is None:
            return
        expected = {"name": (str, int), "newest": (int,)}[data.get("sort", "name")]
        key = after[1:]
        if (
            after[0] != data.get("sort", "name")
            or len(key) != len(expected)
            or not all(
                is_key_value(value, kind)
                for value, kind in zip(key, expected, strict=True)
            )
        ):
            raise ValidationError(_("Not a cursor of this sort."), "after")

    @post_load
    def _key(self, data, **kwargs):
        if "after" in data:
            data["after"] = tuple(data["after"][1:])
        return data
