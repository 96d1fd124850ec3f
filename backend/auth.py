"""Who may do what: the one place where role and ownership rules live.

- a patient sees only themselves;
- a therapist sees the patients assigned to them;
- an admin sees everything in their own clinic;
- nothing of another clinic exists for anyone (404, never 403).

Views call these helpers once, right after parsing; they abort with 401, 403
or 404 and otherwise return the object the caller may touch.

The signed-in user is an `Identity`: the columns of their `users` row (and
their profile's) that access rules and the hot views need, read fresh on every
request by one prepared SELECT (backend/prepared.py) rather than an ORM load.
A deactivated account is refused on its next request. Views that change a user
or need more of them load the ORM `User` (`patient_or_404` does).
"""

from dataclasses import dataclass

from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from backend.extensions import db
from backend.models import Exercise, PatientProfile, User
from backend.models.users import Account
from backend.prepared import Prepared


@dataclass(frozen=True, slots=True)
class Identity(Account):
    """Who is signed in (or a patient as the hot views see them)."""

    id: int
    clinic_id: int
    email: str
    name: str
    role: str
    active: bool
    timezone: str | None = None  # patients only, as the rest of the profile
    therapist_id: int | None = None

    @classmethod
    def of(cls, user: User) -> "Identity":
        profile = user.profile
        return cls(
            id=user.id,
            clinic_id=user.clinic_id,
            email=user.email,
            name=user.name,
            role=user.role,
            active=user.active,
            timezone=profile.timezone if profile else None,
            therapist_id=profile.therapist_id if profile else None,
        )


IDENTITY = Prepared(
    select(
        User.id,
        User.clinic_id,
        User.email,
        User.name,
        User.role,
        User.active,
        PatientProfile.timezone,
        PatientProfile.therapist_id,
    )
    .outerjoin(PatientProfile, PatientProfile.user_id == User.id)
    .where(User.id == bindparam("user_id"), User.active.is_(True))
)


def load_identity(user_id: int) -> Identity | None:
    """The active user with this id, or None (Flask-Login's user loader)."""
    row = IDENTITY.first({"user_id": user_id})
    return Identity(**row) if row is not None else None


def actor() -> Identity:
    """The signed-in user (401 when nobody is)."""
    if not current_user.is_authenticated:
        abort(401, message="Sign in first.")
    return current_user._get_current_object()


def require_role(*roles: str) -> Identity:
    """The signed-in user if their role is one of `roles`, else 403."""
    user = actor()
    if user.role not in roles:
        abort(403, message="Your role may not do this.")
    return user


def visible_patients(user: Identity) -> Select:
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


_USER_WITH_PROFILE = (
    select(User)
    .options(joinedload(User.profile))
    .where(User.id == bindparam("user_id"))
)


def patient_or_404(patient_id: int) -> User:
    """The patient with this id (the ORM `User`, profile loaded) if the signed-in
    user may see them, else 404."""
    user = actor()
    if user.role == "patient":  # a patient sees only themself
        patient = None
        if user.id == patient_id:
            patient = db.session.scalar(_USER_WITH_PROFILE, {"user_id": user.id})
    else:
        patient = db.session.scalar(visible_patients(user).where(User.id == patient_id))
    if patient is None:
        abort(404, message="No such patient.")
    return patient


def patient_identity_or_404(patient_id: int) -> Identity:
    """`patient_or_404` for views that need only the patient's id, clinic and
    timezone: a patient asking about themself costs no query."""
    user = actor()
    if user.role == "patient":
        if user.id != patient_id:
            abort(404, message="No such patient.")
        return user
    return Identity.of(patient_or_404(patient_id))


def patient_for_staff(patient_id: int) -> tuple[Identity, User]:
    """(staff member, patient) for a staff-only action on a visible patient.

    Visibility is judged first, so a patient probing another patient's id gets
    404, and only their own id reveals that the action is staff-only (403).
    """
    patient = patient_or_404(patient_id)
    return require_role("therapist", "admin"), patient


def patient_self(patient_id: int) -> Identity:
    """The patient themself, for what only a patient records (their logs)."""
    patient = patient_identity_or_404(patient_id)
    if actor().id != patient.id:
        abort(403, message="Only the patient records their own logs.")
    return patient


def visible_exercises(user: Identity) -> Select:
    """The shipped library plus the private entries of the user's clinic."""
    return select(Exercise).where(
        (Exercise.clinic_id.is_(None)) | (Exercise.clinic_id == user.clinic_id)
    )


def therapist_in_clinic(user: Identity, therapist_id: int) -> User | None:
    """An active therapist of the user's clinic, or None."""
    return db.session.scalar(
        select(User).where(
            User.id == therapist_id,
            User.clinic_id == user.clinic_id,
            User.role == "therapist",
            User.active.is_(True),
        )
    )
