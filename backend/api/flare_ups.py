"""Flare-ups the patient reports: recording them (as the logs are recorded,
idempotent by the client's UUID), listing them and their summary."""

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from backend.access import patient_or_404
from backend.api.common import documents
from backend.api.logs import record_views
from backend.schemas.clinical import (
    FlareUpInSchema,
    FlareUpSchema,
    FlareUpSummarySchema,
)
from backend.services import flare_ups, logs

blp = Blueprint("flare_ups", __name__, url_prefix="/api", description="Flare-ups")

record_views(
    blp,
    logs.FLARE_UP,
    FlareUpInSchema,
    FlareUpSchema,
    "report_flare_up",
    "flare-up",
    refusal=_l("Only the patient reports their own flare-ups."),
)


@blp.route("/patients/<int:patient_id>/flare-ups/summary", methods=["GET"])
@blp.response(200, FlareUpSummarySchema)
@documents(blp, 401, 404)
def flare_up_summary(patient_id):
    """Over all the patient's reports: how often each trigger and each thing
    that helped was named, and for each thing that helped the mean pain of
    the check-ins in the 48 hours after (the two days after the start day of
    the reports that named it; null when none)."""
    patient = patient_or_404(patient_id)
    return flare_ups.summary(patient.id)
