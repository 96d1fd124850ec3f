"""Who may do what: the one place where role and ownership rules live.

- a patient sees only themselves;
- a therapist sees the patients assigned to them;
- an admin sees everything in their own clinic;
- nothing of another clinic exists for anyone (404, never 403).

Views call these helpers right after parsing; they abort with 401, 403, 404
(or 422 for a choice of therapist that is not allowed) and otherwise return
what the caller may touch. The signed-in user is the ORM `User`, loaded fresh
on every request with their profile; a deactivated account is refused on its
next request.
"""

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import Select, select

from backend.extensions import db
from backend.models import (
    STAFF_ROLES,
    Alert,
    ApiToken,
    AuditEvent,
    Exercise,
    ExerciseMedia,
    PatientProfile,
    User,
)
from backend.services import tokens
from backend.services.dates import now_utc

PATIENT_EDITABLE_BY_SELF = frozenset({"name", "timezone"})


def load_user(user_id: int) -> User | None:
    """The active user with this id, or None (Flask-Login's user loader): the
    session's row brought them into the ORM session already."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


# what an API token of each scope reaches: (HTTP methods, blueprints)
TOKEN_SCOPES = {"reports:read": ({"GET", "HEAD"}, {"reports"})}


def script_admin(secret: str) -> User | None:
    """The admin an API token acts for on this request: a live (unexpired,
    unrevoked) token of an active admin, whose scope reaches this endpoint. A
    live token used outside its scope signs nobody in, and `actor` answers
    403 (an unknown, expired or revoked one: 401)."""
    token = tokens.find(secret, now_utc())
    if token is None or not token.creator.active or token.creator.role != "admin":
        return None
    methods, blueprints = TOKEN_SCOPES.get(token.scope, ((), ()))
    if request.method not in methods or request.blueprint not in blueprints:
        g.token_out_of_scope = True
        return None
    tokens.note_use(token, now_utc())
    g.api_token = token  # the audit trail names it
    return token.creator


def needs_second_factor(user: User) -> bool:
    """Admins always sign in with a second factor, therapists when their clinic
    requires it (the default), patients once they chose to set one up."""
    if user.totp_enrolled_at is not None:
        return True
    if not current_app.config["SECOND_FACTOR_FOR_STAFF"]:
        return False
    if user.role == "admin":
        return True
    return user.role == "therapist" and user.clinic.require_therapist_mfa


def actor() -> User:
    """The signed-in user (401 when nobody is)."""
    if not current_user.is_authenticated:
        if g.get("token_out_of_scope"):
            abort(403, message=_("This API token does not reach this endpoint."))
        abort(401, message=_("Sign in first."))
    return current_user._get_current_object()


def require_role(*roles: str) -> User:
    """The signed-in user if their role is one of `roles`, else 403."""
    user = actor()
    if user.role not in roles:
        abort(403, message=_("Your role may not do this."))
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
    """The patient with this id (profile loaded) if the signed-in user may see
    them, else 404. A patient asking about themself costs no query."""
    user = actor()
    if user.role == "patient":
        patient = user if user.id == patient_id else None
    else:
        patient = db.session.scalar(visible_patients(user).where(User.id == patient_id))
    if patient is None:
        abort(404, message=_("No such patient."))
    return patient


def patient_for_staff(patient_id: int) -> tuple[User, User]:
    """(staff member, patient) for a staff-only action on a visible patient.

    Visibility is judged first, so a patient probing another patient's id gets
    404, and only their own id reveals that the action is staff-only (403).
    """
    patient = patient_or_404(patient_id)
    return require_role("therapist", "admin"), patient


def patient_self(
    patient_id: int, refusal: str = _l("Only the patient records their own logs.")
) -> User:
    """The patient themself, for what only a patient does (their logs, their
    reminders); others who may see the patient get 403 with `refusal`."""
    patient = patient_or_404(patient_id)
    if actor().id != patient.id:
        abort(403, message=refusal)
    return patient


def questionnaire_taker(patient_id: int) -> tuple[User, User]:
    """(who fills it in, patient): the patient or their therapist, not an admin."""
    patient = patient_or_404(patient_id)
    user = actor()
    if user.role == "admin":
        abort(403, message=_("The patient or their therapist fills in questionnaires."))
    return user, patient


def message_writer(patient_id: int) -> tuple[User, User]:
    """(author, patient) for a message in the patient's thread: the patient and
    their therapist write; an admin reads the thread for oversight only (403)."""
    patient = patient_or_404(patient_id)
    user = actor()
    if user.role == "admin":
        abort(403, message=_("The patient and their therapist write in the thread."))
    return user, patient


def marks_messages_read(user: User) -> bool:
    """Whether reading a thread marks the other side's messages read: the
    patient's and their therapist's reading does; an admin's oversight does
    not (the therapist still sees them unread)."""
    return user.role != "admin"


def exports_as_job(user: User) -> bool:
    """Whether `user`'s report, when too big to answer at once, is queued as an
    export job: an admin's (the clinic's); a therapist's own patients are
    always answered at once."""
    return user.role == "admin"


def may_still_export(user: User | None) -> bool:
    """Whether the person who queued an export job may still have it run (the
    worker asks before running it): an active admin."""
    return user is not None and user.active and user.role == "admin"


def invites_when_printing(user: User, patient: User) -> bool:
    """Whether printing `patient`'s handout also issues an invitation link (a QR
    code): staff may invite, and the patient has no password yet."""
    return user.is_staff and patient.password_hash is None


def visible_alerts(user: User) -> Select:
    """The alerts a staff member may see: a therapist's own patients', an
    admin's whole clinic's."""
    query = select(Alert).where(Alert.clinic_id == user.clinic_id)
    if user.role == "therapist":
        query = query.join(PatientProfile, PatientProfile.user_id == Alert.patient_id)
        query = query.where(PatientProfile.therapist_id == user.id)
    return query


def alert_or_404(alert_id: int) -> tuple[User, Alert]:
    """(staff member, alert) for acknowledging or resolving: the alert must be
    one they see (else 404); patients get 403."""
    user = require_role("therapist", "admin")
    alert = db.session.scalar(visible_alerts(user).where(Alert.id == alert_id))
    if alert is None:
        abort(404, message=_("No such alert."))
    return user, alert


def clinic_record_or_404(model, record_id: int, not_found: str):
    """The `model` row `record_id` of the signed-in admin's clinic (an export,
    an API token): 403 for anyone but an admin, 404 saying `not_found` for
    another clinic's as for one that does not exist."""
    admin = require_role("admin")
    record = db.session.scalar(
        select(model).where(model.id == record_id, model.clinic_id == admin.clinic_id)
    )
    if record is None:
        abort(404, message=not_found)
    return record


def staff_member_or_404(staff_id: int) -> tuple[User, User]:
    """(admin, staff member of the admin's clinic), for the admin's staff
    actions; 403 for anyone but an admin, 404 for no such staff member."""
    admin = require_role("admin")
    member = db.session.scalar(
        select(User).where(
            User.id == staff_id,
            User.clinic_id == admin.clinic_id,
            User.role.in_(STAFF_ROLES),
        )
    )
    if member is None:
        abort(404, message=_("No such staff member."))
    return admin, member


def visible_exercises(user: User) -> Select:
    """The shipped library plus the private entries of the user's clinic."""
    return select(Exercise).where(Exercise.usable_in(user.clinic_id))


def exercise_or_404(user: User, exercise_id: int) -> Exercise:
    """An exercise the user's clinic sees (404 for another clinic's)."""
    exercise = db.session.scalar(
        visible_exercises(user).where(Exercise.id == exercise_id)
    )
    if exercise is None:
        abort(404, message=_("No such exercise."))
    return exercise


def own_exercise_or_403(user: User, exercise_id: int) -> Exercise:
    """One of the clinic's own exercises, to change: the shipped library is
    read-only (403); another clinic's does not exist (404)."""
    exercise = exercise_or_404(user, exercise_id)
    if exercise.clinic_id != user.clinic_id:
        abort(403, message=_("The shipped library cannot be changed."))
    return exercise


def clinic_media(user: User) -> Select:
    """The pictures and videos of the user's clinic (only its people see them)."""
    return select(ExerciseMedia).where(ExerciseMedia.clinic_id == user.clinic_id)


def clinic_staff(user: User) -> Select:
    """The therapists and admins of the user's clinic."""
    return select(User).where(
        User.clinic_id == user.clinic_id, User.role.in_(STAFF_ROLES)
    )


def clinic_tokens(admin: User) -> Select:
    """The API tokens of the admin's clinic."""
    return select(ApiToken).where(ApiToken.clinic_id == admin.clinic_id)


def clinic_events(admin: User) -> Select:
    """The audit trail of the admin's clinic."""
    return select(AuditEvent).where(AuditEvent.clinic_id == admin.clinic_id)


def clinic_people(admin: User, *columns) -> Select:
    """`columns` (default: the whole User) of the people of the admin's clinic."""
    return select(*(columns or (User,))).where(User.clinic_id == admin.clinic_id)


def staff_signed_in() -> User | None:
    """The signed-in staff member, or None (a patient, a script, no one)."""
    user = current_user
    if user.is_authenticated and user.is_staff:
        return user._get_current_object()
    return None


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


def _refuse_therapist(message: str):
    abort(422, errors={"json": {"therapist_id": [message]}})


def therapist_for_new_patient(user: User, therapist_id: int | None) -> int | None:
    """The therapist a new patient gets: a therapist enrols for themself, an
    admin picks any active therapist of the clinic (or none)."""
    if user.role == "therapist":
        if therapist_id not in (None, user.id):
            _refuse_therapist(_("A therapist enrols patients for themself."))
        return user.id
    if therapist_id is not None and therapist_in_clinic(user, therapist_id) is None:
        _refuse_therapist(_("No such therapist in this clinic."))
    return therapist_id


def check_patient_changes(user: User, changes: dict) -> None:
    """A patient changes only their own name and timezone (they travel); staff
    change the rest, a therapist handing a patient over rather than leaving
    them without a therapist."""
    if user.role == "patient" and not set(changes) <= PATIENT_EDITABLE_BY_SELF:
        abort(403, message=_("Only staff change the condition or the therapist."))
    if "therapist_id" not in changes:
        return
    therapist_id = changes["therapist_id"]
    if user.role == "therapist" and therapist_id is None:
        _refuse_therapist(_("Hand the patient to another therapist instead."))
    if therapist_id is not None and therapist_in_clinic(user, therapist_id) is None:
        _refuse_therapist(_("No such therapist in this clinic."))
