"""Accounts: which account a password opens, sign-in throttling, passwords
set and the notices that tell of it, and new accounts with their invitations.

No request in here: the views (api/auth.py, api/staff.py, api/patients.py,
api/programmes.py) read the request, call these, and turn the exceptions
below into their answers (`WeakPassword` a 422, `EmailTaken` a 409).

Throttling (ASVS V2.2.1, V6.3.1) counts in the limiter's storage (Redis in
production, so every worker and server shares the counts):

- Passwords: after ACCOUNT_BACKOFF_AFTER failures on one account within an
  hour, whatever the address, each try waits 1, 2, 4 ... minutes (capped at
  ACCOUNT_BACKOFF_CAP): `count_failure`, `account_wait`. The per-address
  limits are the limiter's decorators on the views, and a known device
  (a cookie, so the view's) skips the wait.
- Codes: SECOND_FACTOR_ACCOUNT_LIMIT wrong codes within SECOND_STEP_WINDOW
  minutes pause an account's second step, and its owner is told by email:
  `count_wrong_code`, `second_step_wait`.

Invitation links themselves (tokens, stored hashed, redeemed once) are
services/invitations.py's; here they are issued for the clinic's validity,
shown (`invite_url`) and mailed.
"""

import math
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import mail
from backend.extensions import db, limiter
from backend.links import public_url
from backend.models import User
from backend.services import invitations
from backend.services.dates import now_utc
from backend.services.passwords import weakness

FAILURES_REMEMBERED = 3600  # seconds a failed password counts towards back-off
SECOND_STEP_WINDOW = 15  # minutes an account's wrong codes are counted over


class WeakPassword(Exception):
    """The new password will not do; `reason` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailTaken(Exception):
    """The email is in use at this clinic already."""


def _passwords():
    return current_app.extensions["homeward_passwords"]


# --- which account a password opens -------------------------------------


def opened_by(accounts: list[User], password: str) -> User | None:
    """The active account among one email's `accounts` that `password` opens.
    The password is checked against every one (none skipped once one
    matches; an unknown email costs one check against a dummy hash). When it
    opens several (the same password at two clinics), the one signed in to
    most recently wins, else the oldest account (lowest id)."""
    passwords = _passwords()
    if not accounts:
        passwords.verify(None, password)
        return None
    opened = [
        account
        for account in accounts  # a list, not any(): every hash is checked
        if passwords.verify(account.password_hash, password) and account.active
    ]
    if not opened:
        return None
    never = datetime.min.replace(tzinfo=UTC)
    return max(opened, key=lambda a: (a.last_signed_in_at or never, -a.id))


def is_current_password(user: User, given: str) -> bool:
    """Whether `given` is `user`'s password; a wrong one counts as a failed
    sign-in of the account."""
    if _passwords().verify(user.password_hash, given):
        return True
    count_failure(user.email)
    return False


# --- throttling -----------------------------------------------------------


def _counter_key(*parts) -> str:
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"] or "homeward"
    return "/".join((prefix, *map(str, parts)))


def account_wait(email: str) -> int | None:
    """Seconds `email` must still wait before its password may be tried
    again (after many failures, from any address); None when it may now."""
    storage = limiter.limiter.storage
    key = _counter_key("sign-in-wait", email)
    if storage.get(key) <= 0:
        return None
    return max(1, math.ceil(storage.get_expiry(key) - time.time()))


def count_failure(email: str) -> None:
    """A wrong password for `email`: from the tenth within the hour on, the
    account waits 1, 2, 4 ... minutes (capped) before the next try."""
    storage = limiter.limiter.storage
    failures = storage.incr(
        _counter_key("sign-in-failures", email), FAILURES_REMEMBERED
    )
    beyond = failures - current_app.config["ACCOUNT_BACKOFF_AFTER"]
    if beyond < 0:
        return
    cap = current_app.config["ACCOUNT_BACKOFF_CAP"].total_seconds()
    wait = min(60 * 2 ** min(beyond, 20), cap)
    key = _counter_key("sign-in-wait", email)
    storage.clear(key)
    storage.incr(key, wait)


def _second_step_limit():
    return parse(
        f"{current_app.config['SECOND_FACTOR_ACCOUNT_LIMIT']} per "
        f"{SECOND_STEP_WINDOW} minutes"
    )


def second_step_wait(user: User) -> int | None:
    """Seconds until `user`'s second step takes codes again after too many
    wrong ones (from any address); None when it takes them now."""
    keys = ("second-step", str(user.id))
    limit = _second_step_limit()
    if limiter.limiter.test(limit, _counter_key(), *keys):
        return None
    reset, _left = limiter.limiter.get_window_stats(limit, _counter_key(), *keys)
    return max(1, math.ceil(reset - time.time()))


def count_wrong_code(user: User) -> None:
    """A wrong code for `user`: the one that pauses their second step tells
    them by email (once per pause; queued and committed here, as the answer
    is a refusal that stores nothing else)."""
    keys = (_counter_key(), "second-step", str(user.id))
    limit = _second_step_limit()
    limiter.limiter.hit(limit, *keys)
    _reset, left = limiter.limiter.get_window_stats(limit, *keys)
    if left == 0:
        notify(user, _l("Many wrong sign-in codes were entered"), signed_out=False)
        db.session.commit()


# --- passwords and security notices --------------------------------------


def set_password(user: User, password: str) -> None:
    """`user`'s new password, hashed (the caller commits): from a link, a
    change, or a script adding staff. `WeakPassword`, with nothing set, when
    it is too easy to guess."""
    reason = weakness(password, user.name, user.email)
    if reason is not None:
        raise WeakPassword(reason)
    user.password_hash = _passwords().hash(password)
    user.password_changed_at = now_utc()


def notify(user: User, what: str, signed_out: bool = True) -> None:
    """Queue an email telling the user that their password or second factor
    changed (and whether their other sessions were ended); the caller
    commits."""
    mail.queue(
        user,
        _l("%(what)s (%(clinic)s)", what=what, clinic=user.clinic.name),
        "security_notice",
        kind="security",
        name=user.name,
        clinic_name=user.clinic.name,
        what=what,
        when=now_utc(),
        signed_out=signed_out,
    )


# --- new accounts and their invitations ----------------------------------


def create_account(person: User, creator: User, invite: bool = True) -> dict:
    """Store a new person (with their profile, for a patient) and, unless
    `invite` is false, mail them an invitation link, committed: the answer's
    invitation fields ({} without one). `EmailTaken`, with nothing stored,
    when the email is in use at this clinic, also by someone added at the
    same moment (the unique index); an email in use at another clinic is a
    new account like any other (README, Security)."""
    if db.session.scalar(
        select(User.id).where(
            User.clinic_id == person.clinic_id, User.email == person.email
        )
    ):
        raise EmailTaken
    db.session.add(person)
    try:
        db.session.flush()
        link = invitation(person, creator) if invite else {}
        if link:
            send_invitation(person, creator, link)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken from None
    return link


def invitation(person: User, inviter: User) -> dict:
    """A new invitation link for `person` (earlier ones stop working): the
    answer's `invite_token`, `invite_url` and `invite_expires_at`. A patient's
    is kept sealed too, for their handout. The caller calls `send_invitation`
    (which queues the email) and commits."""
    token, expires_at = invitations.issue(
        person.id,
        inviter.id,
        now_utc(),
        _invite_valid_for(),
        seal=person.role == "patient",
    )
    return _answer(token, expires_at)


def handout_invitation(patient: User, printer: User) -> dict:
    """The patient's live invitation link for a printed handout (the emailed
    one, an earlier paper's), or a new one when none is live; the others keep
    working. Fields as `invitation`'s; the caller commits."""
    token, expires_at = invitations.for_handout(
        patient.id, printer.id, now_utc(), _invite_valid_for()
    )
    return _answer(token, expires_at)


def _invite_valid_for() -> timedelta:
    return timedelta(days=current_app.config["INVITE_VALID_DAYS"])


def _answer(token: str, expires_at: datetime) -> dict:
    return {
        "invite_token": token,
        "invite_url": public_url(f"/#/invite/{token}"),
        "invite_expires_at": expires_at,
    }


def send_invitation(person: User, inviter: User, invite: dict) -> bool:
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
