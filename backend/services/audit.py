"""The audit trail: append-only rows of who did what to which record, when,
where; which request gets which row; and each row told as a sentence for the
admin's screen.

Recorded: every successful write under /api, every sign-in attempt (success
and failure, with the address) and every export; refused access to a route
that exists (at most REFUSALS_PER_MINUTE rows per address); a staff member's
read of a patient's record (once per staff member, patient and UTC day) and
of the lists that name patients (with the ids listed).

The rules here judge a `Seen`: what api/audit.py's after-request hook saw of
a request and its answer, as plain data. The hook, and `stage`/`note` for the
views that add their row inside their own transaction, are the HTTP side.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import RateLimitItemPerMinute
from sqlalchemy import select

from backend.extensions import db, limiter
from backend.models import AuditEvent, User
from backend.services import audit_chain
from backend.services.dates import now_utc

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# attempts to get in or to change how one gets in: recorded, failed or not
SIGN_INS = {
    "auth.login",
    "auth.accept_invite",
    "auth.totp",
    "auth.confirm_enrolment",
    "auth.change_password",
    "auth.request_password_reset",
    "auth.confirm_password_reset",
}
EXPORTS = {
    "reports.adherence_report",
    "reports.adherence_report_csv",
    "progress.fhir_export",
    "audit.audit_trail_csv",
    "jobs.report_job_file",
}
REFUSED = {401, 403, 404}
REFUSALS_PER_MINUTE = RateLimitItemPerMinute(20)
# a staff member's reads of a patient's record, recorded once a day
PATIENT_READS = {
    "patients.get_patient",
    "progress.patient_progress",
    "progress.odi_history",
    "progress.psfs_history",
    "messages.list_messages",
    "messages.unread_messages",
    "flare_ups.list_flare_ups",
    "flare_ups.flare_up_summary",
    "logs.routine",
    "logs.week",
    "logs.list_exercise_logs",
    "logs.list_pain_logs",
    "programmes.current_programme",
    "programmes.programme_history",
    "programmes.programme_handout",
    "reminders.get_reminders",
}
# a staff member's reads of lists that name patients: one row per request,
# with the ids the answer held
LIST_READS = {
    "patients.list_patients": "patient.list",
    "alerts.list_alerts": "alert.list",
}
LIST_READ_ACTIONS = {*LIST_READS.values(), "patient.search"}
TARGETS = (  # view argument → the kind of record it names
    ("log_id", "exercise_log"),
    ("alert_id", "alert"),
    ("token_id", "api_token"),
    ("staff_id", "user"),
    ("exercise_id", "exercise"),
    ("patient_id", "patient"),
)


@dataclass(frozen=True)
class Seen:
    """What the after-request hook saw of a request and its answer."""

    endpoint: str  # "" when no route matched
    method: str
    status: int
    path: str
    blueprint: str | None
    address: str  # as the limiter counts it (IPv6 by its /64)
    path_args: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    has_route: bool = False  # the path is one of the app's routes
    csrf_refused: bool = False
    # the staff member signed in, if one is (asked only of staff reads)
    staff_id: Callable[[], int | None] = lambda: None
    token: dict | None = None  # the API token a script used: id, name
    action: str | None = None  # a view's own name for what happened
    answer: Callable[[], object] = lambda: None  # the JSON answered, if any


def target_in_path(path_args: dict, blueprint: str | None) -> tuple[str, object]:
    """(kind, id) of the record the path names, else (blueprint, None)."""
    for name, kind in TARGETS:
        if name in path_args:
            return kind, path_args[name]
    return blueprint, None


def _target(seen: Seen) -> tuple[str, object]:
    kind, target_id = target_in_path(seen.path_args, seen.blueprint)
    if target_id is not None:
        return kind, target_id
    body = seen.answer()
    if isinstance(body, dict) and "id" in body:
        return seen.blueprint, body["id"]
    return seen.blueprint, None


def event(seen: Seen) -> tuple[str, dict] | None:
    """(action, extra arguments of `record`) of the row this request needs,
    or None."""
    endpoint, status = seen.endpoint, seen.status
    if endpoint in SIGN_INS and status in (200, 202, 204, 400, 401, 429):
        if status == 429:
            return seen.action or f"{endpoint}_blocked", {}
        if status in (400, 401):
            return f"{endpoint}_failed", {}
        return seen.action or endpoint, {}
    if seen.method in WRITES and status < 400 and endpoint != "auth.logout":
        return endpoint, {}
    if endpoint in EXPORTS and status in (200, 202):  # 202: queued as a job
        return endpoint, {}
    if seen.csrf_refused or (status in REFUSED and _names_an_object(seen)):
        if _refusals_within_bound(seen.address):
            return "access.refused", {}
        return None
    if seen.method == "GET" and status == 200 and endpoint in PATIENT_READS:
        return _patient_read(seen)
    if seen.method == "GET" and status == 200 and endpoint in LIST_READS:
        return _list_read(seen)
    return None


def _names_an_object(seen: Seen) -> bool:
    """A refused request for an API route that exists (a scanner's guesses at
    paths that do not are not worth a row)."""
    return seen.has_route and seen.path.startswith("/api/")


def _refusals_within_bound(address: str) -> bool:
    """At most REFUSALS_PER_MINUTE rows of refused access per address: a
    scanner cannot flood the table."""
    keys = (current_app.config["RATELIMIT_KEY_PREFIX"] or "homeward", "audit-refused")
    return limiter.limiter.hit(REFUSALS_PER_MINUTE, *keys, address)


def _patient_read(seen: Seen) -> tuple[str, dict] | None:
    """A staff member's read of a patient's record, once per staff member,
    patient and (UTC) day."""
    staff_id = seen.staff_id()
    patient_id = seen.path_args.get("patient_id")
    if staff_id is None or patient_id is None:
        return None
    day = now_utc().date().isoformat()
    return "patient.read", {"once_key": f"read:{staff_id}:{patient_id}:{day}"}


def _list_read(seen: Seen) -> tuple[str, dict] | None:
    """A staff member's read of the patient list (a search when `q` says
    what to find) or of the alert inbox."""
    if seen.staff_id() is None:
        return None
    if seen.endpoint == "patients.list_patients" and seen.query.get("q"):
        return "patient.search", {}
    return LIST_READS[seen.endpoint], {}


def _detail(seen: Seen, action: str) -> dict:
    detail = {}
    if seen.endpoint in EXPORTS:
        detail["query"] = seen.query
    if seen.token is not None:  # a script: which token
        detail["token"] = seen.token
    if action == "patient.read":
        detail["read"] = seen.endpoint
    if action in LIST_READ_ACTIONS:
        detail |= _ids_listed(seen)
    if seen.csrf_refused:
        detail["reason"] = "csrf"
    elif seen.status in REFUSED and seen.endpoint not in SIGN_INS:
        detail["path"] = seen.path[:200]
        detail["method"] = seen.method
    return detail


def _ids_listed(seen: Seen) -> dict:
    """The ids of the records a list answer held (and, for alerts, of their
    patients)."""
    rows = seen.answer() or []
    listed = {"ids": [row["id"] for row in rows]}
    if seen.endpoint == "alerts.list_alerts":
        listed["patient_ids"] = sorted({row["patient_id"] for row in rows})
    return listed


def record_seen(
    seen: Seen,
    action: str,
    extra: dict,
    *,
    actor: User | None,
    email: str | None,
    ip: str | None,
) -> None:
    """Add the row `event` chose for a request by `actor` (None: nobody
    signed in, then `email` is the account the request named); the caller
    commits. An attempt on an account names it, and tells its clinic (of an
    email's accounts at several clinics, the oldest one's)."""
    clinic_id = actor.clinic_id if actor else None
    kind, target_id = _target(seen)
    if actor is None and email:
        account = db.session.execute(
            select(User.id, User.clinic_id).where(User.email == email).order_by(User.id)
        ).first()
        if account is not None:
            clinic_id = account.clinic_id
            if target_id is None:
                kind, target_id = "user", account.id
    record(
        action,
        seen.status,
        clinic_id=clinic_id,
        actor_id=actor.id if actor else None,
        actor_email=email,
        target_type=kind,
        target_id=target_id,
        ip=ip,
        detail=_detail(seen, action) or None,
        **extra,
    )


def record(
    action: str,
    status: int,
    *,
    clinic_id: int | None,
    actor_id: int | None,
    actor_email: str | None,
    target_type: str | None = None,
    target_id=None,
    ip: str | None = None,
    detail: dict | None = None,
    once_key: str | None = None,
) -> None:
    """Add one audit row, at the end of the hash chain, in the session's
    transaction; the caller commits. With `once_key`, nothing is added if a
    row with that key exists."""
    values = {
        "at": now_utc(),
        "action": action,
        "status": status,
        "clinic_id": clinic_id,
        "actor_id": actor_id,
        "actor_email": actor_email,
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "ip": ip,
        "detail": detail,
        "once_key": once_key,
    }
    audit_chain.append(db.session, values)


# What each action says, as a sentence for the admin's screen ({actor} did ...;
# {patient} and {target} are the record's person, {email} the account named),
# in the admin's language: the placeholders stay as they are in translations.
SENTENCES = {
    "auth.login": _l("{actor} signed in"),
    "auth.login_failed": _l("A sign-in as {email}{account} failed"),
    "auth.login_blocked": _l(
        "Sign-in as {email}{account} was blocked after too many failures"
    ),
    "auth.login_slowed": _l(
        "Sign-in as {email}{account} was slowed down after many failures"
    ),
    "auth.totp": _l("{actor} gave their sign-in code"),
    "auth.totp_failed": _l("A wrong sign-in code was given for {email}"),
    "auth.totp_blocked": _l("Sign-in codes for {email} were blocked after failures"),
    "auth.enrol": _l("{actor} started setting up two-step sign-in"),
    "auth.confirm_enrolment": _l("{actor} set up two-step sign-in"),
    "auth.confirm_enrolment_failed": _l("A wrong code was given setting up {email}"),
    "auth.confirm_enrolment_blocked": _l(
        "Setting up two-step sign-in for {email} was blocked after failures"
    ),
    "auth.accept_invite": _l("{actor} accepted their invitation"),
    "auth.accept_invite_failed": _l("An invitation link was refused"),
    "auth.accept_invite_blocked": _l("Invitation links were blocked after failures"),
    "auth.change_password": _l("{actor} changed their password"),
    "auth.change_password_failed": _l("{actor} failed to change their password"),
    "auth.change_password_blocked": _l("{actor} was blocked changing their password"),
    "auth.request_password_reset": _l("A password reset link was asked for {email}"),
    "auth.request_password_reset_failed": _l("A password reset request was refused"),
    "auth.request_password_reset_blocked": _l(
        "Password reset links for {email} were blocked after many requests"
    ),
    "auth.confirm_password_reset": _l("The password of {email} was reset"),
    "auth.confirm_password_reset_failed": _l("A password reset link was refused"),
    "auth.confirm_password_reset_blocked": _l(
        "Password reset links were blocked after failures"
    ),
    "auth.end_device_session": _l("{actor} signed out one of their devices"),
    "auth.logout_everywhere": _l("{actor} signed out everywhere"),
    "auth.choose_language": _l("{actor} chose the language they read Homeward in"),
    "patient.read": _l("{actor} viewed {patient}'s {what}"),
    "patient.list": _l("{actor} viewed the patient list"),
    "patient.search": _l("{actor} searched the patient list"),
    "alert.list": _l("{actor} viewed the alert inbox"),
    "access.refused": _l("{actor} was refused {method} {path} ({status})"),
    "logs.record_exercise": _l("{actor} ticked an exercise"),
    "logs.record_pain": _l("{actor} logged their pain"),
    "logs.undo_exercise": _l("{actor} undid a tick"),
    "logs.sync": _l("{actor} sent records saved offline"),
    "logs.programme_seen": _l("{actor} read what changed in their programme"),
    "patients.enrol_patient": _l("{actor} enrolled a new patient"),
    "patients.update_patient": _l("{actor} changed {patient}'s details"),
    "patients.reissue_invite": _l("{actor} sent {patient} a new invitation"),
    "programmes.new_programme_version": _l("{actor} changed {patient}'s programme"),
    "programmes.handout_invite": _l(
        "{actor} printed an invitation link for {patient} on a handout"
    ),
    "clinic.update_clinic": _l("{actor} changed the clinic's settings"),
    "progress.take_odi": _l("{actor} recorded a back-pain questionnaire of {patient}"),
    "progress.take_psfs": _l("{actor} recorded a functional scale (PSFS) of {patient}"),
    "messages.send_message": _l(
        "{actor} wrote in {patient}'s messages with their care team"
    ),
    "messages.mark_read": _l("{actor} read {patient}'s messages"),
    "flare_ups.report_flare_up": _l("{actor} reported a flare-up"),
    "progress.fhir_export": _l("{actor} exported {patient}'s record (FHIR)"),
    "reports.adherence_report": _l("{actor} pulled the adherence report"),
    "reports.adherence_report_csv": _l("{actor} downloaded the adherence report (CSV)"),
    "audit.audit_trail_csv": _l("{actor} downloaded the audit trail (CSV)"),
    "jobs.request_report_job": _l("{actor} asked for an adherence report file"),
    "jobs.report_job_file": _l("{actor} downloaded an adherence report file"),
    "staff.create_staff": _l("{actor} invited a staff member"),
    "staff.update_staff": _l("{actor} changed {target}'s staff account"),
    "staff.reset_second_factor": _l("{actor} reset {target}'s two-step sign-in"),
    "tokens.create_token": _l("{actor} created an API token"),
    "tokens.revoke_token": _l("{actor} revoked an API token"),
    "exercises.create_exercise": _l("{actor} added an exercise to the library"),
    "exercises.update_exercise": _l("{actor} changed an exercise of the library"),
    "exercises.upload_media": _l("{actor} added a picture or video of an exercise"),
    "exercises.replace_media": _l("{actor} replaced a picture or video of an exercise"),
    "exercises.delete_media": _l("{actor} deleted a picture or video of an exercise"),
    "alerts.acknowledge": _l("{actor} acknowledged an alert"),
    "alerts.resolve": _l("{actor} resolved an alert"),
    "reminders.subscribe": _l("{actor} turned on notifications on a device"),
    "reminders.unsubscribe": _l("{actor} turned off notifications on a device"),
    "reminders.set_reminders": _l("{actor} changed their reminders"),
    "reminders.nudge_patient": _l("{actor} sent {patient} a reminder"),
    "reminders.stop_reminders": _l("Reminders were stopped from an email's link"),
}
READ_WHAT = {
    "patients.get_patient": _l("details"),
    "progress.patient_progress": _l("progress"),
    "progress.odi_history": _l("questionnaires"),
    "progress.psfs_history": _l("functional scales (PSFS)"),
    "messages.list_messages": _l("messages"),
    "messages.unread_messages": _l("unread messages count"),
    "flare_ups.list_flare_ups": _l("flare-ups"),
    "flare_ups.flare_up_summary": _l("flare-up summary"),
    "logs.routine": _l("routine"),
    "logs.week": _l("week"),
    "logs.list_exercise_logs": _l("exercise log"),
    "logs.list_pain_logs": _l("pain diary"),
    "programmes.current_programme": _l("programme"),
    "programmes.programme_history": _l("programme history"),
    "programmes.programme_handout": _l("handout"),
    "reminders.get_reminders": _l("reminder settings"),
}


def sentence(event: AuditEvent, names: dict[int, str]) -> str:
    """The event in words; `names` maps user ids to names."""
    detail = event.detail or {}
    person = names.get(int(event.target_id)) if _is_person(event) else None
    actor = names.get(event.actor_id) or event.actor_email or _("Someone")
    if "token" in detail:
        actor = _(
            "%(actor)s (API token “%(token)s”)",
            actor=actor,
            token=detail["token"]["name"],
        )
    words = str(SENTENCES.get(event.action, "{actor}: " + event.action))
    return words.format(
        actor=actor,
        email=event.actor_email or _("an unknown email"),
        patient=person or _("a patient"),
        target=person or _("someone"),
        account=f" ({person})" if person else "",
        what=READ_WHAT.get(detail.get("read")) or _("record"),
        method=detail.get("method", ""),
        path=detail.get("path", ""),
        status=event.status,
    )


def _is_person(event: AuditEvent) -> bool:
    return event.target_type in ("patient", "user") and bool(
        event.target_id and event.target_id.isdigit()
    )


def people_named(events: list[AuditEvent]) -> set[int]:
    """The user ids the events' sentences name."""
    ids = {event.actor_id for event in events if event.actor_id}
    ids |= {int(event.target_id) for event in events if _is_person(event)}
    return ids
