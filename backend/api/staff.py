"""Clinic staff: admins add therapists and other admins."""

from flask import current_app
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.api.common import documents
from backend.auth import require_role
from backend.extensions import db
from backend.models import STAFF_ROLES, User
from backend.schemas.common import name_field
from backend.schemas.users import StaffInSchema, UserSchema
from backend.services import sessions

blp = Blueprint("staff", __name__, url_prefix="/api/staff", description="Clinic staff")


class StaffSchema(UserSchema):
    active = fields.Boolean()


class StaffPatchSchema(Schema):
    name = name_field()
    active = fields.Boolean()


def email_taken() -> None:
    abort(409, errors={"json": {"email": ["This email is already in use."]}})


@blp.route("", methods=["GET"])
@blp.response(200, StaffSchema(many=True))
@documents(blp, 401, 403)
def list_staff():
    """The clinic's therapists and admins (staff only)."""
    user = require_role("therapist", "admin")
    return db.session.scalars(
        select(User)
        .where(User.clinic_id == user.clinic_id, User.role.in_(STAFF_ROLES))
        .order_by(User.role, User.name)
    ).all()


@blp.route("", methods=["POST"])
@blp.arguments(StaffInSchema())
@blp.response(201, StaffSchema)
@documents(blp, 401, 403, 409)
def create_staff(body):
    """Add a therapist or an admin to the admin's clinic."""
    admin = require_role("admin")
    if db.session.scalar(select(User.id).where(User.email == body["email"])):
        email_taken()
    passwords = current_app.extensions["homeward_passwords"]
    user = User(
        clinic_id=admin.clinic_id,
        email=body["email"],
        name=body["name"].strip(),
        role=body["role"],
        password_hash=passwords.hash(body["password"]),
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same email added concurrently
        db.session.rollback()
        email_taken()
    return user


@blp.route("/<int:staff_id>", methods=["PATCH"])
@blp.arguments(StaffPatchSchema())
@blp.response(200, StaffSchema)
@documents(blp, 401, 403, 404)
def update_staff(body, staff_id):
    """Rename or (de)activate a staff member; an admin cannot lock themself out."""
    admin = require_role("admin")
    user = db.session.scalar(
        select(User).where(
            User.id == staff_id,
            User.clinic_id == admin.clinic_id,
            User.role.in_(STAFF_ROLES),
        )
    )
    if user is None:
        abort(404, message="No such staff member.")
    if user.id == admin.id and body.get("active") is False:
        abort(422, errors={"json": {"active": ["You cannot deactivate yourself."]}})
    if "name" in body:
        user.name = body["name"].strip()
    if "active" in body:
        user.active = body["active"]
        if not user.active:  # and re-activation revives none of them
            sessions.end_all(user.id)
    db.session.commit()
    return user
