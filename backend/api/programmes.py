"""A patient's versioned home programme, and its printed handout."""

from contextlib import nullcontext

from flask import Response, render_template
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from backend.access import (
    actor,
    invites_when_printing,
    patient_for_staff,
    patient_or_404,
)
from backend.api import audit
from backend.api.common import documents, invalid
from backend.extensions import db
from backend.i18n import speaking
from backend.schemas.programmes import ProgrammeInSchema, ProgrammeSchema
from backend.services import accounts, handout, programmes, writes
from backend.services.dates import today_in
from backend.services.logs import unknown_exercises

blp = Blueprint(
    "programmes",
    __name__,
    url_prefix="/api/patients/<int:patient_id>",
    description="Versioned home programmes",
)


def programme_view(version) -> dict:
    return {
        "id": version.id,
        "version": version.version,
        "starts_on": version.starts_on,
        "ends_on": version.ends_on,
        "note": version.note,
        "created_by": version.created_by,
        "created_at": version.created_at,
        "items": [
            {
                "exercise_id": item.exercise_id,
                "sets": item.sets,
                "reps": item.reps,
                "hold_seconds": item.hold_seconds,
                "times_per_day": item.times_per_day,
                "days_of_week": item.days_of_week,
                "notes": item.notes,
                "exercise": item.exercise,
            }
            for item in version.items
        ],
    }


@blp.route("/programme", methods=["GET"])
@blp.response(200, ProgrammeSchema)
@documents(blp, 401, 404)
def current_programme(patient_id):
    """The version in force on the patient's today (404 when none)."""
    patient = patient_or_404(patient_id)
    version = programmes.version_in_force(
        patient.id, today_in(patient.profile.timezone)
    )
    if version is None:
        abort(404, message=_("No programme is in force today."))
    return programme_view(version)


@blp.route("/programme", methods=["PUT"])
@blp.arguments(ProgrammeInSchema())
@blp.response(201, ProgrammeSchema)
@documents(blp, 401, 403, 404)
def new_programme_version(body, patient_id):
    """Prescribe a new version; the previous one ends the day before it starts."""
    user, patient = patient_for_staff(patient_id)
    items = body["items"]
    unknown = unknown_exercises(
        {item["exercise_id"] for item in items}, patient.clinic_id
    )
    if unknown:
        errors = {
            index: {"exercise_id": [_("Unknown exercise.")]}
            for index, item in enumerate(items)
            if item["exercise_id"] in unknown
        }
        abort(422, errors={"json": {"items": errors}})
    today = today_in(patient.profile.timezone)
    try:
        version = programmes.create_version(
            patient.id,
            items,
            body.get("starts_on", today),
            body["note"],
            user.id,
            today=today,
        )
    except programmes.ProgrammeError as error:
        db.session.rollback()
        invalid(error.field, error.message)
    writes.commit()  # with the recount of the days it changes
    return programme_view(version)


@blp.route("/programme/history", methods=["GET"])
@blp.response(200, ProgrammeSchema(many=True))
@documents(blp, 401, 404)
def programme_history(patient_id):
    """Every version, newest first."""
    patient = patient_or_404(patient_id)
    return [programme_view(version) for version in programmes.history(patient.id)]


@blp.route("/programme.pdf", methods=["GET"])
@blp.response(
    200,
    content_type="application/pdf",
    description="The programme in force as a printable handout.",
)
@documents(blp, 401, 404)
def programme_handout(patient_id):
    """The version in force on the patient's today as a PDF to print (404 when
    none). Printed by staff for a patient who has not set a password yet, it
    also carries a QR code of the patient's live invitation link (the emailed
    one, or a new one when none is live): printing again reuses it, so the
    emailed link keeps working and reprints add no links."""
    patient = patient_or_404(patient_id)
    today = today_in(patient.profile.timezone)
    version = programmes.version_in_force(patient.id, today)
    if version is None:
        abort(404, message=_("No programme yet."))
    user = actor()
    # in the patient's language, also when staff print it
    with nullcontext() if user.id == patient.id else speaking(patient):
        contents = handout.contents(patient, version, today)
        if invites_when_printing(user, patient):
            invite = accounts.handout_invitation(patient, user)
            audit.note("programmes.handout_invite", 200)
            db.session.commit()
            contents["invite"] = {
                "url": invite["invite_url"],
                "qr": handout.qr_data_uri(invite["invite_url"]),
                "expires": handout.day_words(invite["invite_expires_at"].date()),
            }
        html = render_template("handout/programme.html", **contents)
    return Response(
        handout.to_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="programme.pdf"'},
    )
