"""Reminders: the patient's choice of times, days and channel; each device's
Web Push subscription; the therapist's nudge; the stop link of every email.
Sending is the worker's (`flask worker`, backend/worker.py; services/reminders.py)."""

from datetime import time

from flask import session
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from sqlalchemy import delete, select

from backend import push
from backend.access import patient_for_staff, patient_or_404, patient_self, require_role
from backend.api.common import documents, invalid
from backend.extensions import db
from backend.models import PushSubscription, ReminderSettings, User
from backend.schemas.reminders import (
    EndpointSchema,
    NudgeSchema,
    PublicKeySchema,
    RemindersInSchema,
    RemindersSchema,
    StoppedSchema,
    StopSchema,
    SubscriptionSchema,
)
from backend.services import reminders
from backend.services.dates import now_utc

blp = Blueprint("reminders", __name__, url_prefix="/api", description="Reminders")


def view(patient: User) -> dict:
    settings = reminders.settings_of(patient.id)
    start, end = reminders.quiet_hours()
    return {
        "times": settings.times,
        "days_of_week": settings.days_of_week,
        "channel": settings.channel,
        "paused_until": settings.paused_until,
        "timezone": patient.profile.timezone,
        "quiet_hours": {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
        "push_available": push.available(),
        "email_available": reminders.email_available(),
        "push_devices": reminders.device_count(patient.id),
        "last_sent": reminders.last_sent(patient.id),
    }


@blp.route("/push/public-key", methods=["GET"])
@blp.response(200, PublicKeySchema)
@documents(blp, 404)
def public_key():
    """The key browsers subscribe with (applicationServerKey); 404 when push
    is off on this server."""
    key = push.public_key()
    if key is None:
        abort(404, message=_("Push reminders are off on this server."))
    return {"public_key": key}


@blp.route("/push-subscriptions", methods=["POST"])
@blp.arguments(SubscriptionSchema())
@blp.response(201)
@documents(blp, 401, 403)
def subscribe(body):
    """This device's push subscription (200 when it is known already). It ends
    with this device's session: signing out deletes it."""
    patient = require_role("patient")
    if not push.endpoint_allowed(body["endpoint"]):
        invalid("endpoint", _("Not a push service this server sends to."))
    row = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == body["endpoint"])
    )
    status = 200 if row is not None and row.user_id == patient.id else 201
    if row is None or row.user_id != patient.id:
        if row is not None:  # the browser now belongs to another patient
            db.session.delete(row)
            db.session.flush()
        row = PushSubscription(user_id=patient.id, endpoint=body["endpoint"])
        db.session.add(row)
    row.p256dh = body["keys"]["p256dh"]
    row.auth = body["keys"]["auth"]
    current = getattr(session, "row", None)
    row.session_id = current.id if current is not None else None
    db.session.commit()
    return None, status


@blp.route("/push-subscriptions", methods=["DELETE"])
@blp.arguments(EndpointSchema())
@blp.response(204)
@documents(blp, 401)
def unsubscribe(body):
    """Forget this device's subscription (fine when it is not known)."""
    user = require_role("patient")
    db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.user_id == user.id,
            PushSubscription.endpoint == body["endpoint"],
        )
    )
    db.session.commit()


@blp.route("/patients/<int:patient_id>/reminders", methods=["GET"])
@blp.response(200, RemindersSchema)
@documents(blp, 401, 404)
def get_reminders(patient_id):
    """The patient's reminders, with the devices that get them and the last one
    sent (for the patient, their therapist and the clinic's admin)."""
    return view(patient_or_404(patient_id))


@blp.route("/patients/<int:patient_id>/reminders", methods=["PUT"])
@blp.arguments(RemindersInSchema())
@blp.response(200, RemindersSchema)
@documents(blp, 401, 403, 404)
def set_reminders(body, patient_id):
    """The patient's own choice (staff may read it, not make it)."""
    patient = patient_self(patient_id, _("Only the patient chooses their reminders."))
    for index, slot in enumerate(body["times"]):
        if reminders.is_quiet(time.fromisoformat(slot)):
            hours = reminders.quiet_words()
            message = _(
                "%(time)s is in quiet hours (%(hours)s): pick a time outside them.",
                time=slot,
                hours=hours,
            )
            abort(422, errors={"json": {"times": {index: [message]}}})
    if body["channel"] == "push" and not push.available():
        invalid("channel", _("Notifications are off on this server: choose email."))
    if body["channel"] == "email" and not reminders.email_available():
        invalid("channel", _("This clinic does not send email: choose notifications."))
    settings = db.session.get(ReminderSettings, patient.id)
    if settings is None:
        settings = ReminderSettings(patient_id=patient.id)
        db.session.add(settings)
    settings.times = sorted(body["times"])
    settings.days_of_week = sorted(body["days_of_week"])
    settings.channel = body["channel"]
    settings.paused_until = body["paused_until"]
    db.session.commit()
    return view(patient)


@blp.route("/patients/<int:patient_id>/nudge", methods=["POST"])
@blp.response(202, NudgeSchema)
@documents(blp, 401, 403, 404, 409, 429)
def nudge_patient(patient_id):
    """A short encouragement from the care team, by the patient's channel, at
    most once a day (the patient's day); held to the end of quiet hours."""
    staff, patient = patient_for_staff(patient_id)
    settings = reminders.settings_of(patient.id)
    if settings.channel == "off":
        abort(
            409,
            message=_(
                "%(name)s has reminders off: nothing can reach them.",
                name=patient.name,
            ),
        )
    if settings.channel == "push" and not reminders.device_count(patient.id):
        abort(
            409,
            message=_(
                "%(name)s has no device with notifications on.", name=patient.name
            ),
        )
    now = now_utc()
    row = reminders.nudge(patient, staff, now)
    if row is None:
        abort(
            429,
            message=_("%(name)s was sent a reminder today already.", name=patient.name),
        )
    return {
        "channel": settings.channel,
        "due_at": row.due_at,
        "held_for_quiet_hours": row.due_at > now,
    }


@blp.route("/reminders/stop", methods=["POST"])
@blp.arguments(StopSchema())
@blp.response(200, StoppedSchema)
@documents(blp, 404)
def stop_reminders(body):
    """The link in every reminder email: stops all reminders, no sign-in needed."""
    patient_id = reminders.patient_of_stop_token(body["token"])
    settings = db.session.get(ReminderSettings, patient_id) if patient_id else None
    if settings is None:
        abort(404, message=_("This link is not valid."))
    settings.channel = "off"
    db.session.commit()
    return {"channel": "off"}
