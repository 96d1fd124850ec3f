"""People on the wire: users, staff, patients, sign-in and invitations."""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from backend.schemas.common import name_field, record_id, text
from backend.services.dates import is_known_timezone
from backend.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def password_field(**kwargs) -> fields.String:
    """A new password: its length here; how guessable it is, in the view
    (that needs the person's name and email)."""
    return fields.String(
        validate=validate.Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            error=f"Must be between {MIN_PASSWORD_LENGTH} and {{max}} characters.",
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


class SessionSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(required=True)


class SignInSchema(Schema):
    """Signed in (`user`), or half-way: `second_factor` says the next step."""

    user = fields.Nested(UserSchema)
    csrf_token = fields.String(required=True)
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
            raise ValidationError("Not a known IANA timezone, e.g. 'Europe/London'.")
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
            raise ValidationError("Must not be blank.")

    @post_load
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.", "_schema")
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
