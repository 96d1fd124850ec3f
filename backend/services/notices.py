"""Telling the other side of a thread that a message came, never what it says.

- From the patient: their therapist gets an email ("You have a new message
  from a patient") with a link to the app and nothing else.
- From staff: the patient gets a Web Push notice on each device they turned
  notifications on for; without a device that took it, an email when they
  chose email reminders; else nothing (they see it in the app).

Emails go through the outbox (backend/mail.py), coalesced per thread and
reader: at most one waits, and at most one goes every 15 minutes, however
many messages come (a patient cannot mail-bomb their therapist). Queued
right after the message is committed (`tell_about_messages`, on
services/writes.py's signal), once per request however many messages it
stored. A notice that cannot go out is logged; it never turns the stored
message into an error. Push goes through backend/push.py; the patient's
reminder channel comes from services/reminders.py.
"""

import logging

from flask_babel import lazy_gettext as _l

from backend import mail, push
from backend.extensions import db
from backend.i18n import speaking
from backend.links import public_url
from backend.models import OutboxPush, User
from backend.services import reminders

log = logging.getLogger(__name__)

FROM_PATIENT = _l("You have a new message from a patient")
FROM_THERAPIST = _l("You have a new message from your therapist")
PUSH_TTL = 24 * 3600  # seconds a push service may hold the notice
FALLBACK = "message"  # OutboxPush.fallback: email the patient instead
NOTICE = push.Message(
    "Homeward", FROM_THERAPIST, url="/#/messages", tag="homeward-message"
)


def tell_about_messages(_app, news) -> None:
    """Receiver of services/writes.py `data_stored`: a commit that stored
    messages in a patient's thread tells the side that did not write them."""
    if "message" in news.kinds:
        new_message(
            db.session.get(User, news.patient_id), db.session.get(User, news.author_id)
        )


def new_message(patient: User, author: User) -> str:
    """Tell the side that did not write (queued for the worker, committed);
    returns how: "email", "push" or "none"."""
    try:
        if author.id == patient.id:
            return _tell_therapist(patient)
        return _tell_patient(patient)
    except Exception:  # the message is stored: a notice never undoes that
        db.session.rollback()
        log.exception("could not tell about a message in thread %s", patient.id)
        return "none"


def _tell_therapist(patient: User) -> str:
    therapist = patient.profile.therapist
    if therapist is None or not therapist.active:
        return "none"
    return _email(therapist, patient, FROM_PATIENT, "/#/patients")


def _tell_patient(patient: User) -> str:
    """A push to their devices when they have any (the worker emails
    instead if none takes it, `email_instead`), else an email if they chose
    email reminders."""
    if not patient.active:
        return "none"
    if push.available() and push.subscriptions(patient.id):
        with speaking(patient):
            push.queue(patient.id, NOTICE, PUSH_TTL, fallback=FALLBACK)
        db.session.commit()
        return "push"
    return _email_if_chosen(patient)


def email_instead(row: OutboxPush) -> str:
    """The worker's fallback for a message notice no device took: the email,
    if the patient chose email reminders. Returns the outcome to count."""
    patient = db.session.get(User, row.user_id)
    if row.fallback != FALLBACK or patient is None or not patient.active:
        return "none"
    return _email_if_chosen(patient)


def _email_if_chosen(patient: User) -> str:
    if reminders.settings_of(patient.id).channel != "email":
        return "none"
    return _email(patient, patient, FROM_THERAPIST, NOTICE.url)


def _email(reader: User, patient: User, text: str, path: str) -> str:
    """Queue the notice for `reader` of `patient`'s thread, coalesced."""
    queued = mail.queue(
        reader,
        text,
        "new_message",
        kind="message",
        coalesce_key=f"thread:{patient.id}:{reader.id}",
        name=reader.name,
        clinic_name=patient.clinic.name,
        text=text,
        app_url=public_url(path),
    )
    db.session.commit()
    return "email" if queued else "none"
