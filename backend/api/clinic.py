"""The admin's clinic settings: for now, the paper the handout is printed on."""

from flask_smorest import Blueprint

from backend.api.common import documents
from backend.auth import require_role
from backend.extensions import db
from backend.schemas.clinics import ClinicPatchSchema, ClinicSchema

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
    """Change the clinic's settings (the handout's paper size)."""
    clinic = require_role("admin").clinic
    clinic.paper_size = body["paper_size"]
    db.session.commit()
    return clinic
