"""Patients: enrolment with an invitation link, the list with summaries, edits."""

from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from backend.api import invites
from backend.api.common import documents
from backend.api.staff import email_taken
from backend.auth import (
    actor,
    check_patient_changes,
    patient_for_staff,
    patient_or_404,
    require_role,
    therapist_for_new_patient,
    visible_patients,
)
from backend.extensions import db
from backend.models import PatientProfile, User
from backend.schemas.users import (
    EnrolledPatientSchema,
    PatientInSchema,
    PatientPatchSchema,
    PatientSchema,
)
from backend.services import alerts, messages
from backend.services.patients import apply_changes
from backend.services.progress import summaries

blp = Blueprint(
    "patients", __name__, url_prefix="/api/patients", description="Patients"
)


def patient_view(patient: User) -> dict:
    profile = patient.profile
    return {
        "id": patient.id,
        "email": patient.email,
        "name": patient.name,
        "role": patient.role,
        "clinic_id": patient.clinic_id,
        "timezone": profile.timezone,
        "condition": profile.condition,
        "therapist_id": profile.therapist_id,
        "therapist_name": profile.therapist.name if profile.therapist else None,
        "invite_pending": patient.password_hash is None,
    }


@blp.route("", methods=["GET"])
@blp.response(200, PatientSchema(many=True))
@documents(blp, 401, 403)
def list_patients():
    """The patients the signed-in staff member may see, with their summaries,
    how many of their messages their therapist has not read and how many of
    their alerts are not resolved."""
    user = require_role("therapist", "admin")
    patients = db.session.scalars(
        visible_patients(user)
        .options(selectinload(User.profile).selectinload(PatientProfile.therapist))
        .order_by(User.name, User.id)
    ).all()
    ids = visible_patients(user).with_only_columns(User.id)
    summary = summaries(patients, ids)
    unread = messages.unread_from_patients(ids)
    alerts_open = alerts.open_counts(ids)
    return [
        patient_view(patient)
        | summary[patient.id]
        | {
            "unread_messages": unread.get(patient.id, 0),
            "open_alerts": alerts_open.get(patient.id, 0),
        }
        for patient in patients
    ]


@blp.route("", methods=["POST"])
@blp.arguments(PatientInSchema())
@blp.response(201, EnrolledPatientSchema)
@documents(blp, 401, 403, 409)
def enrol_patient(body):
    """Enrol a patient; the answer carries their invitation link (shown once)."""
    user = require_role("therapist", "admin")
    therapist_id = therapist_for_new_patient(user, body.get("therapist_id"))
    if db.session.scalar(select(User.id).where(User.email == body["email"])):
        email_taken()
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
    db.session.add(patient)
    try:
        db.session.flush()
        invite = invites.issue(patient, user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        email_taken()
    invites.send(patient, user, invite)
    return patient_view(patient) | invite


@blp.route("/<int:patient_id>", methods=["GET"])
@blp.response(200, PatientSchema)
@documents(blp, 401, 404)
def get_patient(patient_id):
    """One patient with the list's summary (a patient may read themself)."""
    patient = patient_or_404(patient_id)
    ids = select(User.id).where(User.id == patient.id)
    unread = messages.unread_from_patients(ids).get(patient.id, 0)
    return (
        patient_view(patient)
        | summaries([patient], ids)[patient.id]
        | {
            "unread_messages": unread,
            "open_alerts": alerts.open_counts(ids).get(patient.id, 0),
        }
    )


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
        abort(409, message="This patient has already set a password.")
    invite = invites.issue(patient, user)
    db.session.commit()
    invites.send(patient, user, invite)
    return patient_view(patient) | invite
