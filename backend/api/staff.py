"""Clinic staff: admins add therapists and other admins."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from backend import sessions
from backend.access import clinic_staff, require_role, staff_member_or_404
from backend.api.common import create_account, documents, set_password
from backend.extensions import db
from backend.models import User
from backend.schemas.common import name_field
from backend.schemas.users import StaffInSchema, UserSchema
from backend.services import accounts, second_factor, tokens
from backend.services.dates import now_utc

blp = Blueprint("staff", __name__, url_prefix="/api/staff", description="Clinic staff")


class StaffSchema(UserSchema):
    active = fields.Boolean()
    invite_pending = fields.Boolean(
        metadata={"description": "True until they have set a password."}
    )


class NewStaffSchema(StaffSchema):
    invite_token = fields.String()
    invite_url = fields.String()
    invite_expires_at = fields.DateTime()


class StaffPatchSchema(Schema):
    name = name_field()
    active = fields.Boolean()


@blp.route("", methods=["GET"])
@blp.response(200, StaffSchema(many=True))
@documents(blp, 401, 403)
def list_staff():
    """The clinic's therapists and admins (staff only)."""
    user = require_role("therapist", "admin")
    staff = db.session.scalars(clinic_staff(user).order_by(User.role, User.name))
    return [staff_view(member) for member in staff]


@blp.route("", methods=["POST"])
@blp.arguments(StaffInSchema())
@blp.response(201, NewStaffSchema)
@documents(blp, 401, 403, 409, 422)
def create_staff(body):
    """Add a therapist or an admin to the admin's clinic: they get an
    invitation email to set their own password (then a second factor). A
    script may give a `password` instead."""
    admin = require_role("admin")
    user = User(
        clinic_id=admin.clinic_id,
        email=body["email"],
        name=body["name"].strip(),
        role=body["role"],
    )
    if "password" in body:
        set_password(user, body["password"], "password")
    invite = create_account(user, admin, invite="password" not in body)
    return staff_view(user) | invite


def staff_view(user: User) -> dict:
    return user.identity() | {
        "active": user.active,
        "invite_pending": user.password_hash is None,
        "second_factor": user.second_factor,
    }


@blp.route("/<int:staff_id>", methods=["PATCH"])
@blp.arguments(StaffPatchSchema())
@blp.response(200, StaffSchema)
@documents(blp, 401, 403, 404)
def update_staff(body, staff_id):
    """Rename or (de)activate a staff member; an admin cannot lock themself out."""
    admin, user = staff_member_or_404(staff_id)
    if user.id == admin.id and body.get("active") is False:
        abort(422, errors={"json": {"active": [_("You cannot deactivate yourself.")]}})
    if "name" in body:
        user.name = body["name"].strip()
    if "active" in body:
        user.active = body["active"]
        if not user.active:  # and re-activation revives none of them
            sessions.end_all(user.id)
            tokens.revoke_all_of(user, now_utc())
    db.session.commit()
    return staff_view(user)


@blp.route("/<int:staff_id>/reset-second-factor", methods=["POST"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def reset_second_factor(staff_id):
    """A lost phone: forget a staff member's second factor and end their
    sessions; they set up a new one at their next sign-in."""
    _admin, user = staff_member_or_404(staff_id)
    second_factor.reset(user)
    sessions.end_all(user.id)
    accounts.notify(
        user, _l("Your second sign-in step was reset by your clinic's admin")
    )
    db.session.commit()
