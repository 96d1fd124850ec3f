"""A patient's progress, their questionnaires (Oswestry, Patient-Specific
Functional Scale) and their FHIR export."""

from datetime import timedelta

from flask_smorest import Blueprint, abort
from sqlalchemy import select

from backend.access import patient_or_404, questionnaire_taker
from backend.api.common import documents, invalid
from backend.extensions import db
from backend.models import FlareUp, OdiResponse, PainLog
from backend.schemas.clinical import PsfsInSchema, PsfsSchema
from backend.schemas.common import DateRangeQuery
from backend.schemas.progress import (
    FhirBundleSchema,
    OdiInSchema,
    OdiSchema,
    ProgressSchema,
)
from backend.services import fhir, questionnaires, writes
from backend.services.dates import now_utc, today_in
from backend.services.logs import check_day
from backend.services.progress import progress

blp = Blueprint(
    "progress",
    __name__,
    url_prefix="/api/patients/<int:patient_id>",
    description="Progress and outcome measures",
)

DEFAULT_DAYS = 30


@blp.route("/progress", methods=["GET"])
@blp.arguments(DateRangeQuery(), location="query")
@blp.response(200, ProgressSchema)
@documents(blp, 401, 404)
def patient_progress(query, patient_id):
    """Adherence and pain day by day (default: the last 30 days), with ODI
    scores, PSFS means and the flare-ups of the range (chart markers)."""
    patient = patient_or_404(patient_id)
    end = query.get("end") or today_in(patient.profile.timezone)
    start = query.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    return progress(patient, start, end)


def taker_and_day(patient_id: int, body: dict) -> tuple:
    """(who fills in a questionnaire, the patient, the day it is for): `taken_on`
    (default the patient's today) may not be in the patient's future (422)."""
    user, patient = questionnaire_taker(patient_id)
    today = today_in(patient.profile.timezone)
    taken_on = body.get("taken_on", today)
    errors = check_day("taken_on", taken_on, today)
    if errors:
        abort(422, errors={"json": errors})
    return user, patient, taken_on


@blp.route("/questionnaires/odi", methods=["POST"])
@blp.arguments(OdiInSchema())
@blp.response(201, OdiSchema)
@documents(blp, 401, 403, 404)
def take_odi(body, patient_id):
    """Record an Oswestry questionnaire (by the patient or their therapist)."""
    user, patient, taken_on = taker_and_day(patient_id, body)
    try:
        response = questionnaires.record_odi(
            patient.id, taken_on, body["answers"], user.id
        )
    except questionnaires.TooFewAnswers as error:
        invalid("answers", str(error))
    writes.commit()
    return response


@blp.route("/questionnaires/odi", methods=["GET"])
@blp.response(200, OdiSchema(many=True))
@documents(blp, 401, 404)
def odi_history(patient_id):
    """Every questionnaire, oldest first."""
    return questionnaires.odi_history(patient_or_404(patient_id).id)


@blp.route("/questionnaires/psfs", methods=["POST"])
@blp.arguments(PsfsInSchema())
@blp.response(201, PsfsSchema)
@documents(blp, 401, 403, 404, 422)
def take_psfs(body, patient_id):
    """Record a Patient-Specific Functional Scale (by the patient or their
    therapist): one to three activities, each scored 0..10; its score is
    their mean."""
    user, patient, taken_on = taker_and_day(patient_id, body)
    response = questionnaires.record_psfs(
        patient.id, taken_on, body["activities"], user.id
    )
    writes.commit()
    return response


@blp.route("/questionnaires/psfs", methods=["GET"])
@blp.response(200, PsfsSchema(many=True))
@documents(blp, 401, 404)
def psfs_history(patient_id):
    """Every PSFS, oldest first; a new one starts from the latest's activities."""
    return questionnaires.psfs_history(patient_or_404(patient_id).id)


@blp.route("/fhir", methods=["GET"])
@blp.response(
    200,
    FhirBundleSchema,
    description="A FHIR R4 Bundle (collection), as JSON.",
)
@documents(blp, 401, 404)
def fhir_export(patient_id):
    """The patient, their pain check-ins, flare-ups, ODI and PSFS scores as a
    FHIR R4 Bundle."""
    patient = patient_or_404(patient_id)
    pain_logs = db.session.scalars(
        select(PainLog)
        .where(PainLog.patient_id == patient.id)
        .order_by(PainLog.logged_on, PainLog.created_at)
    ).all()
    scores = db.session.scalars(
        select(OdiResponse)
        .where(OdiResponse.patient_id == patient.id)
        .order_by(OdiResponse.taken_on, OdiResponse.id)
    ).all()
    reports = db.session.scalars(
        select(FlareUp)
        .where(FlareUp.patient_id == patient.id)
        .order_by(FlareUp.started_on, FlareUp.created_at)
    ).all()
    return fhir.bundle(
        patient,
        pain_logs,
        scores,
        now_utc(),
        flare_ups=reports,
        psfs=questionnaires.psfs_history(patient.id),
    )
