"""The admin's clinic settings: the paper the handout is printed on, the
language its people read by default, and the alert rules; and how the
clinic's email is going."""

from flask_smorest import Blueprint

from backend import mail
from backend.access import require_role
from backend.api.common import documents
from backend.extensions import db
from backend.schemas.clinics import ClinicPatchSchema, ClinicSchema, MailStateSchema

blp = Blueprint("clinic", __name__, url_prefix="/api/clinic", description="Clinic")


@blp.route("", methods=["GET"])
@blp.response(200, ClinicSchema)
@documents(blp, 401, 403)
def get_clinic():
    """The admin's clinic and its settings."""
    return require_role("admin").clinic


@blp.route("", methods=["PATCH"])
@blp.arguments(ClinicPatchSchema())
@blp.response(200, ClinicSchema)
@documents(blp, 401, 403)
def update_clinic(body):
    """Change the clinic's settings: the handout's paper size, the default
    language, the alert rules (each rule's numbers merge into what the clinic
    set before)."""
    clinic = require_role("admin").clinic
    for setting in ("paper_size", "default_language"):
        if setting in body:
            setattr(clinic, setting, body[setting])
    if "alert_settings" in body:
        own = dict(clinic.alert_settings or {})
        for rule, changes in body["alert_settings"].items():
            own[rule] = own.get(rule, {}) | changes
        clinic.alert_settings = own
    db.session.commit()
    return clinic


@blp.route("/mail", methods=["GET"])
@blp.response(200, MailStateSchema)
@documents(blp, 401, 403)
def mail_state():
    """The clinic's email: how many messages wait and how long the oldest
    has, how many failed for good in the last 30 days, and the newest 20 of
    those not sent (to whom, what, why)."""
    return mail.clinic_state(require_role("admin").clinic_id)
