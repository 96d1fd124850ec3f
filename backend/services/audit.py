"""The audit trail: append-only rows of who did what to which record, when,
where; and each row told as a sentence for the admin's screen."""

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend.extensions import db
from backend.models import AuditEvent
from backend.services.dates import now_utc

_INSERT = insert(AuditEvent.__table__)  # built once: every write adds a row
# an event recorded once: a second one with the same key is dropped
_INSERT_ONCE = {
    name: dialect_insert(AuditEvent.__table__).on_conflict_do_nothing(
        index_elements=["once_key"]
    )
    for name, dialect_insert in (
        ("postgresql", postgresql_insert),
        ("sqlite", sqlite_insert),
    )
}


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
    """Add one audit row in the session's transaction; the caller commits.
    With `once_key`, nothing is added if a row with that key exists."""
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
    statement = _INSERT
    if once_key is not None:
        statement = _INSERT_ONCE[db.session.get_bind().dialect.name]
    db.session.execute(statement, values)


# What each action says, as a sentence for the admin's screen ({actor} did ...;
# {patient} and {target} are the record's person, {email} the account named).
SENTENCES = {
    "auth.login": "{actor} signed in",
    "auth.login_failed": "A sign-in as {email}{account} failed",
    "auth.login_blocked": "Sign-in as {email}{account} was blocked after too many "
    "failures",
    "auth.login_slowed": "Sign-in as {email}{account} was slowed down after many "
    "failures",
    "auth.totp": "{actor} gave their sign-in code",
    "auth.totp_failed": "A wrong sign-in code was given for {email}",
    "auth.totp_blocked": "Sign-in codes for {email} were blocked after failures",
    "auth.enrol": "{actor} started setting up two-step sign-in",
    "auth.confirm_enrolment": "{actor} set up two-step sign-in",
    "auth.confirm_enrolment_failed": "A wrong code was given setting up {email}",
    "auth.confirm_enrolment_blocked": "Setting up two-step sign-in for {email} "
    "was blocked after failures",
    "auth.accept_invite": "{actor} accepted their invitation",
    "auth.accept_invite_failed": "An invitation link was refused",
    "auth.accept_invite_blocked": "Invitation links were blocked after failures",
    "auth.change_password": "{actor} changed their password",
    "auth.change_password_failed": "{actor} failed to change their password",
    "auth.change_password_blocked": "{actor} was blocked changing their password",
    "auth.request_password_reset": "A password reset link was asked for {email}",
    "auth.request_password_reset_failed": "A password reset request was refused",
    "auth.request_password_reset_blocked": "Password reset links for {email} "
    "were blocked after many requests",
    "auth.confirm_password_reset": "The password of {email} was reset",
    "auth.confirm_password_reset_failed": "A password reset link was refused",
    "auth.confirm_password_reset_blocked": "Password reset links were blocked "
    "after failures",
    "auth.end_device_session": "{actor} signed out one of their devices",
    "auth.logout_everywhere": "{actor} signed out everywhere",
    "patient.read": "{actor} viewed {patient}'s {what}",
    "access.refused": "{actor} was refused {method} {path} ({status})",
    "logs.record_exercise": "{actor} ticked an exercise",
    "logs.record_pain": "{actor} logged their pain",
    "logs.undo_exercise": "{actor} undid a tick",
    "logs.sync": "{actor} sent records saved offline",
    "logs.programme_seen": "{actor} read what changed in their programme",
    "patients.enrol_patient": "{actor} enrolled a new patient",
    "patients.update_patient": "{actor} changed {patient}'s details",
    "patients.reissue_invite": "{actor} sent {patient} a new invitation",
    "programmes.new_programme_version": "{actor} changed {patient}'s programme",
    "programmes.handout_invite": "{actor} printed an invitation link for {patient} "
    "on a handout",
    "clinic.update_clinic": "{actor} changed the clinic's settings",
    "progress.take_odi": "{actor} recorded a back-pain questionnaire of {patient}",
    "progress.take_psfs": "{actor} recorded a functional scale (PSFS) of {patient}",
    "messages.send_message": "{actor} wrote in {patient}'s messages with their "
    "care team",
    "messages.mark_read": "{actor} read {patient}'s messages",
    "flare_ups.report_flare_up": "{actor} reported a flare-up",
    "progress.fhir_export": "{actor} exported {patient}'s record (FHIR)",
    "reports.adherence_report": "{actor} pulled the adherence report",
    "reports.adherence_report_csv": "{actor} downloaded the adherence report (CSV)",
    "audit.audit_trail_csv": "{actor} downloaded the audit trail (CSV)",
    "jobs.request_report_job": "{actor} asked for an adherence report file",
    "jobs.report_job_file": "{actor} downloaded an adherence report file",
    "staff.create_staff": "{actor} invited a staff member",
    "staff.update_staff": "{actor} changed {target}'s staff account",
    "staff.reset_second_factor": "{actor} reset {target}'s two-step sign-in",
    "tokens.create_token": "{actor} created an API token",
    "tokens.revoke_token": "{actor} revoked an API token",
    "exercises.create_exercise": "{actor} added an exercise to the library",
    "exercises.upload_media": "{actor} added a picture or video of an exercise",
    "exercises.replace_media": "{actor} replaced a picture or video of an exercise",
    "exercises.delete_media": "{actor} deleted a picture or video of an exercise",
    "alerts.acknowledge": "{actor} acknowledged an alert",
    "alerts.resolve": "{actor} resolved an alert",
    "reminders.subscribe": "{actor} turned on notifications on a device",
    "reminders.unsubscribe": "{actor} turned off notifications on a device",
    "reminders.set_reminders": "{actor} changed their reminders",
    "reminders.nudge_patient": "{actor} sent {patient} a reminder",
    "reminders.stop_reminders": "Reminders were stopped from an email's link",
}
READ_WHAT = {
    "patients.get_patient": "details",
    "progress.patient_progress": "progress",
    "progress.odi_history": "questionnaires",
    "progress.psfs_history": "functional scales (PSFS)",
    "messages.list_messages": "messages",
    "messages.unread_messages": "unread messages count",
    "flare_ups.list_flare_ups": "flare-ups",
    "flare_ups.flare_up_summary": "flare-up summary",
    "logs.routine": "routine",
    "logs.week": "week",
    "logs.list_exercise_logs": "exercise log",
    "logs.list_pain_logs": "pain diary",
    "programmes.current_programme": "programme",
    "programmes.programme_history": "programme history",
    "programmes.programme_handout": "handout",
    "reminders.get_reminders": "reminder settings",
}


def sentence(event: AuditEvent, names: dict[int, str]) -> str:
    """The event in words; `names` maps user ids to names."""
    detail = event.detail or {}
    person = names.get(int(event.target_id)) if _is_person(event) else None
    actor = names.get(event.actor_id) or event.actor_email or "Someone"
    if "token" in detail:
        actor = f"{actor} (API token “{detail['token']['name']}”)"
    words = SENTENCES.get(event.action, "{actor}: " + event.action)
    return words.format(
        actor=actor,
        email=event.actor_email or "an unknown email",
        patient=person or "a patient",
        target=person or "someone",
        account=f" ({person})" if person else "",
        what=READ_WHAT.get(detail.get("read"), "record"),
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
