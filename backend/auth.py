"""Who may do what: the one place where role and ownership rules live.

- a patient sees only themselves;
- a therapist sees the patients assigned to them;
- an admin sees everything in their own clinic;
- nothing of another clinic exists for anyone (404, never 403).

Views call these helpers once, right after parsing; they abort with 401, 403
or 404 and otherwise return the object the caller may touch.
"""

from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import Select, select

from backend.extensions import db
from backend.models import Exercise, PatientProfile, User


def actor() -> User:
    """The signed-in user (401 when nobody is)."""
    if not current_user.is_authenticated:
        abort(401, message="Sign in first.")
    return current_user._get_current_object()


def require_role(*roles: str) -> User:
    """The signed-in user if their role is one of `roles`, else 403."""
    user = actor()
    if user.role not in roles:
        abort(403, message="Your role may not do this.")
    return user


def visible_patients(user: User) -> Select:
    """A query for the patients `user` may see."""
    query = (
        select(User)
        .join(PatientProfile, PatientProfile.user_id == User.id)
        .where(User.role == "patient", User.clinic_id == user.clinic_id)
    )
    if user.role == "patient":
        return query.where(User.id == user.id)
    if user.role == "therapist":
        return query.where(PatientProfile.therapist_id == user.id)
    return query  # admin: the whole clinic


def patient_or_404(patient_id: int) -> User:
    """The patient with this id if the signed-in user may see them, else 404."""
    user = actor()
    if user.role == "patient":  # a patient sees only themself: no query needed
        patient = user if user.id == patient_id else None
    else:
        patient = db.session.scalar(visible_patients(user).where(User.id == patient_id))
    if patient is None:
        abort(404, message="No such patient.")
    return patient


def patient_for_staff(patient_id: int) -> tuple[User, User]:
    """(staff member, patient) for a staff-only action on a visible patient.

    Visibility is judged first, so a patient probing another patient's id gets
    404, and only their own id reveals that the action is staff-only (403).
    """
    patient = patient_or_404(patient_id)
    return require_role("therapist", "admin"), patient


def patient_self(patient_id: int) -> User:
    """The patient themself, for what only a patient records (their logs)."""
    patient = patient_or_404(patient_id)
    if actor().id != patient.id:
        abort(403, message="Only the patient records their own logs.")
    return patient


def visible_exercises(user: User) -> Select:
    """The shipped library plus the private entries of the user's clinic."""
    return select(Exercise).where(
        (Exercise.clinic_id.is_(None)) | (Exercise.clinic_id == user.clinic_id)
    )


def therapist_in_clinic(user: User, therapist_id: int) -> User | None:
    """An active therapist of the user's clinic, or None."""
    return db.session.scalar(
        select(User).where(
            User.id == therapist_id,
            User.clinic_id == user.clinic_id,
            User.role == "therapist",
            User.active.is_(True),
        )
    )
