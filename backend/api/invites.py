"""Invitation links for new patients and staff: made, shown once, mailed."""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import mail
from backend.extensions import db
from backend.links import public_url
from backend.models import User
from backend.services import invitations
from backend.services.dates import now_utc


def create_account(person: User, creator: User, invite: bool = True) -> dict:
    """Store a new person (with their profile, for a patient) and, unless
    `invite` is false, mail them an invitation link: the answer's invitation
    fields ({} without one). 409 when the email is in use at this clinic, also
    by someone added at the same moment (the unique index); an email in use
    at another clinic is a new account like any other (README, Security)."""
    if db.session.scalar(
        select(User.id).where(
            User.clinic_id == person.clinic_id, User.email == person.email
        )
    ):
        email_taken()
    db.session.add(person)
    try:
        db.session.flush()
        link = issue(person, creator) if invite else {}
        if link:
            send(person, creator, link)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        email_taken()
    return link


def email_taken() -> None:
    abort(409, errors={"json": {"email": [_("This email is already in use.")]}})


def issue(person: User, inviter: User) -> dict:
    """A new invitation link for `person` (earlier ones stop working): the
    answer's `invite_token`, `invite_url` and `invite_expires_at`. A patient's
    is kept sealed too, for their handout. The caller calls `send` (which
    queues the email) and commits."""
    valid_for = timedelta(days=current_app.config["INVITE_VALID_DAYS"])
    token, expires_at = invitations.issue(
        person.id, inviter.id, now_utc(), valid_for, seal=person.role == "patient"
    )
    return _answer(token, expires_at)


def for_handout(patient: User, printer: User) -> dict:
    """The patient's live invitation link for a printed handout (the emailed
    one, an earlier paper's), or a new one when none is live; the others keep
    working. Fields as `issue`'s; the caller commits."""
    valid_for = timedelta(days=current_app.config["INVITE_VALID_DAYS"])
    token, expires_at = invitations.for_handout(
        patient.id, printer.id, now_utc(), valid_for
    )
    return _answer(token, expires_at)


def _answer(token: str, expires_at: datetime) -> dict:
    return {
        "invite_token": token,
        "invite_url": public_url(f"/#/invite/{token}"),
        "invite_expires_at": expires_at,
    }


def send(person: User, inviter: User, invite: dict) -> bool:
    """Queue the invitation's email (the link is also shown to whoever made
    it, for a patient without email or a mail that does not arrive); the
    caller commits. Someone with an account at another clinic is told that
    this one is separate (not which clinic that is)."""
    clinic = person.clinic.name
    common = {
        "name": person.name,
        "clinic_name": clinic,
        "link": invite["invite_url"],
        "expires": invite["invite_expires_at"],
        "elsewhere": _has_account_elsewhere(person),
    }
    if person.role == "patient":
        subject = _l("Your home exercises at %(clinic)s", clinic=clinic)
        return mail.queue(person, subject, "invitation", kind="invitation", **common)
    role = _l("an admin") if person.role == "admin" else _l("a therapist")
    subject = _l("You have been added to %(clinic)s in Homeward", clinic=clinic)
    return mail.queue(
        person,
        subject,
        "staff_invitation",
        kind="invitation",
        **common,
        invited_by=inviter.name,
        role=role,
    )


def _has_account_elsewhere(person: User) -> bool:
    return (
        db.session.scalar(
            select(User.id)
            .where(User.email == person.email, User.clinic_id != person.clinic_id)
            .limit(1)
        )
        is not None
    )
