"""Patients: enrolment with an invitation link, the list with summaries (a
page at a time), edits."""

from urllib.parse import urlencode

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from backend.access import (
    actor,
    check_patient_changes,
    patient_for_staff,
    patient_or_404,
    require_role,
    therapist_for_new_patient,
    visible_patients,
)
from backend.api.common import create_account, documents
from backend.extensions import db
from backend.models import PatientProfile, User
from backend.schemas.users import (
    EnrolledPatientSchema,
    PatientInSchema,
    PatientListQuerySchema,
    PatientPatchSchema,
    PatientSchema,
    page_cursor,
)
from backend.services import accounts
from backend.services import patients as listing
from backend.services.patients import apply_changes, summarised

blp = Blueprint(
    "patients", __name__, url_prefix="/api/patients", description="Patients"
)


def patient_view(patient: User) -> dict:
    profile = patient.profile
    return patient.identity() | {
        "timezone": profile.timezone,
        "condition": profile.condition,
        "therapist_id": profile.therapist_id,
        "therapist_name": profile.therapist.name if profile.therapist else None,
        "invite_pending": patient.password_hash is None,
    }


NEXT_PAGE_HEADERS = {
    "Link": {
        "description": '`<…>; rel="next"`: the next page, when there is one.',
        "schema": {"type": "string"},
    },
    "X-Next-Cursor": {
        "description": "The next page's `after`, when there is one.",
        "schema": {"type": "string"},
    },
}


@blp.route("", methods=["GET"])
@blp.arguments(PatientListQuerySchema(), location="query")
@blp.response(200, PatientSchema(many=True), headers=NEXT_PAGE_HEADERS)
@documents(blp, 401, 403)
def list_patients(query):
    """A page of the patients the signed-in staff member may see (by name
    unless `sort` says otherwise), with their summaries, how many of their
    messages their therapist has not read and how many of their alerts are not
    resolved. Without `after`, the first page; `Link` and `X-Next-Cursor` say
    how to get the next one. A page filtered by a flag may hold fewer rows
    than `limit` (even none) and still have a next one."""
    user = require_role("therapist", "admin")
    found = listing.page(visible_patients(user), query)
    body = [patient_view(patient) | summary for patient, summary in found.rows]
    if found.after is None:
        return body
    cursor = page_cursor(query["sort"], found.after)
    arguments = request.args.to_dict(flat=False) | {"after": [cursor]}
    link = f'<{request.path}?{urlencode(arguments, doseq=True)}>; rel="next"'
    return body, 200, {"Link": link, "X-Next-Cursor": cursor}


@blp.route("", methods=["POST"])
@blp.arguments(PatientInSchema())
@blp.response(201, EnrolledPatientSchema)
@documents(blp, 401, 403, 409)
def enrol_patient(body):
    """Enrol a patient; the answer carries their invitation link (shown once)."""
    user = require_role("therapist", "admin")
    therapist_id = therapist_for_new_patient(user, body.get("therapist_id"))
    patient = User(
        clinic_id=user.clinic_id,
        email=body["email"],
        name=body["name"].strip(),
        role="patient",
        password_hash=None,
    )
    patient.profile = PatientProfile(
        therapist_id=therapist_id,
        timezone=body["timezone"],
        condition=body.get("condition"),
    )
    invite = create_account(patient, user)
    return patient_view(patient) | invite


@blp.route("/<int:patient_id>", methods=["GET"])
@blp.response(200, PatientSchema)
@documents(blp, 401, 404)
def get_patient(patient_id):
    """One patient with the list's summary (a patient may read themself)."""
    patient = patient_or_404(patient_id)
    return patient_view(patient) | summarised([patient])[patient.id]


@blp.route("/<int:patient_id>", methods=["PATCH"])
@blp.arguments(PatientPatchSchema())
@blp.response(200, PatientSchema)
@documents(blp, 401, 403, 404)
def update_patient(body, patient_id):
    """Change name, timezone, condition or therapist.

    A patient may change their own name and timezone (they travel); the rest is
    for staff.
    """
    patient = patient_or_404(patient_id)
    check_patient_changes(actor(), body)
    apply_changes(patient, body)
    db.session.commit()
    db.session.refresh(patient.profile)
    return patient_view(patient)


@blp.route("/<int:patient_id>/invite", methods=["POST"])
@blp.response(201, EnrolledPatientSchema)
@documents(blp, 401, 403, 404, 409)
def reissue_invite(patient_id):
    """A new invitation link (the old one stops working), until a password is set."""
    user, patient = patient_for_staff(patient_id)
    if patient.password_hash is not None:
        abort(409, message=_("This patient has already set a password."))
    invite = accounts.invitation(patient, user)
    accounts.send_invitation(patient, user, invite)
    db.session.commit()
    return patient_view(patient) | invite
