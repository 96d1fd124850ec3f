"""Outgoing email, through one outbox (backend/models/outbox.py).

- A request never talks to the mail server: `queue` renders the message in
  its recipient's language and adds an outbox row to the caller's
  transaction (the caller commits); `ask` adds a row the worker prepares
  (a password reset: the request costs the same whoever the address is).
- The worker (`send_queued`, every 5 s: the `mail` task of
  backend/worker.py) claims each row with a conditional UPDATE and a lease,
  sends it over one SMTP connection per batch, and marks it sent (the
  message is then cleared, as it may hold a single-use link). A server
  that is down or slow costs a batch one timeout; its rows are retried
  with back-off until `give_up_at` (24 hours by default), then marked
  failed and shown to the admin. A worker killed mid-send leaves its row
  `sending`; once the lease runs out, the next worker sends it.
- Coalescing: rows with a `coalesce_key` (a thread's message notices) are
  at most one unsent at a time and at most one per `COALESCE_EVERY`.

Settings: MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS (STARTTLS) or MAIL_USE_SSL
(implicit TLS, port 465), both verifying the server's certificate against
the system's CAs (or MAIL_CA_FILE); MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM.
Without MAIL_SERVER, outside production, the worker prints each message and
writes it to `instance/outbox/*.eml`; in production without one, mail is off.

Mails carry no health data beyond the person's own name: links, not content.
Templates live in backend/templates/mail/<name>.txt and <name>.html.
"""

import logging
import smtplib
import ssl
from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from backend.extensions import db
from backend.i18n import speaking
from backend.links import public_url
from backend.models import OutboxMail, User
from backend.models.base import DIALECT_INSERT
from backend.services import invitations
from backend.services.dates import now_utc

log = logging.getLogger(__name__)
COALESCE_EVERY = timedelta(minutes=15)
BATCH = 100  # rows one pass of the worker claims at most
MAX_BACKOFF = timedelta(hours=1)


def enabled() -> bool:
    config = current_app.config
    return bool(config.get("MAIL_SERVER")) or config["ENV_NAME"] != "production"


def compose(to: str, subject: str, template: str, **context) -> EmailMessage:
    subject = str(subject)
    message = EmailMessage()
    sender = current_app.config["MAIL_FROM"]
    clinic = context.get("clinic_name")
    message["From"] = (
        formataddr((f"{clinic} via Homeward", sender)) if clinic else sender
    )
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    context["subject"] = subject
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(
        render_template(f"mail/{template}.html", **context), subtype="html"
    )
    return message


def _wire(message: EmailMessage) -> bytes:
    """The message as SMTP sends it (CRLF line ends, lines of 78 at most)."""
    return message.as_bytes(policy=policy.SMTP)


# ---- what a request does: a row in its own transaction ----------------------


def queue(
    recipient: User,
    subject: str,
    template: str,
    *,
    kind: str,
    coalesce_key: str | None = None,
    give_up_at: datetime | None = None,
    send_at: datetime | None = None,
    **context,
) -> bool:
    """Put one message to `recipient`, in their language, in the outbox (the
    caller commits). With `coalesce_key`, nothing is added while a message
    with that key waits, and a new one waits until `COALESCE_EVERY` after the
    last. `send_at`: not before then (default: now). False when mail is off."""
    if not enabled():
        log.warning("mail is off (no MAIL_SERVER): not queueing %r", template)
        return False
    with speaking(recipient):
        message = compose(recipient.email, subject, template, **context)
    now = send_at or now_utc()
    values = {
        "kind": kind,
        "clinic_id": recipient.clinic_id,
        "recipient_id": recipient.id,
        "to_address": recipient.email,
        "subject": str(message["Subject"])[:300],
        "message": _wire(message),
        "created_at": now,
        "next_attempt_at": now,
        "give_up_at": give_up_at or now + _keep_trying(),
        "status": "queued",
        "attempts": 0,
    }
    if coalesce_key is None:
        db.session.add(OutboxMail(**values))
        return True
    last = db.session.scalar(
        select(func.max(OutboxMail.created_at)).where(
            OutboxMail.coalesce_key == coalesce_key
        )
    )
    if last is not None:
        values["next_attempt_at"] = max(now, last + COALESCE_EVERY)
        values["give_up_at"] = values["next_attempt_at"] + _keep_trying()
    insert = DIALECT_INSERT[db.session.get_bind().dialect.name]
    db.session.execute(
        insert(OutboxMail)
        .values(coalesce_key=coalesce_key, **values)
        .on_conflict_do_nothing(
            index_elements=["coalesce_key"],
            index_where=OutboxMail.status == "queued",
        )
    )
    return True


def ask(purpose: str, to_address: str, *, kind: str = "security") -> None:
    """A message the worker prepares (`PREPARERS[purpose]`): one INSERT, the
    same whoever `to_address` belongs to. The caller commits."""
    now = now_utc()
    db.session.add(
        OutboxMail(
            kind=kind,
            purpose=purpose,
            to_address=to_address[:254],
            created_at=now,
            next_attempt_at=now,
            give_up_at=now + _keep_trying(),
        )
    )


def _keep_trying() -> timedelta:
    return timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"])


# ---- what the worker prepares ------------------------------------------------


def _password_reset(row: OutboxMail, now: datetime) -> EmailMessage | None:
    """A reset link for each active account with a password at this address
    (one per clinic it is known at), now issued: this row carries the first
    account's, and a row is queued for each other one (sent in this same
    pass); None (the row is dropped) when there is none."""
    accounts = db.session.scalars(
        select(User)
        .where(
            User.email == row.to_address,
            User.active.is_(True),
            User.password_hash.is_not(None),
        )
        .order_by(User.id)
    ).all()
    if not accounts:
        return None
    first, *others = accounts
    for user in others:
        subject, template, context = _reset_mail(user, now)
        queue(user, subject, template, kind=row.kind, send_at=now, **context)
    row.recipient_id, row.clinic_id = first.id, first.clinic_id
    with speaking(first):
        subject, template, context = _reset_mail(first, now)
        return compose(first.email, subject, template, **context)


def _reset_mail(user: User, now: datetime) -> tuple:
    """The subject, template and context of `user`'s reset mail, with a link
    issued now."""
    token, _expires = invitations.issue(
        user.id,
        None,
        now,
        current_app.config["PASSWORD_RESET_VALID"],
        invitations.RESET,
    )
    clinic = user.clinic.name
    return (
        _l("Reset your Homeward password (%(clinic)s)", clinic=clinic),
        "password_reset",
        {
            "name": user.name,
            "clinic_name": clinic,
            "link": public_url(f"/#/reset/{token}"),
        },
    )


PREPARERS = {"password_reset": _password_reset}


# ---- what the worker sends ---------------------------------------------------


def send_queued(now: datetime | None = None, batch: int = BATCH) -> Counter:
    """One pass of the worker: claim and send what may go now (oldest first),
    over one connection; the counts by outcome ("sent", "retry", "failed",
    "dropped"). A connection that fails ends the pass: the rest waits. Rows
    a preparer queues (a reset for each clinic of one address) go in the same
    pass."""
    now = now or now_utc()
    outcomes: Counter = Counter()
    seen: set[int] = set()
    with _Connection(current_app.config) as connection:
        while len(seen) < batch and not connection.broken:
            ids = [i for i in _due(now, batch) if i not in seen][: batch - len(seen)]
            if not ids:
                break
            for row_id in ids:
                seen.add(row_id)
                row = _claim(row_id, now)
                if row is None:
                    continue  # another worker has it
                outcome = _send_one(row, connection, now)
                outcomes[outcome] += 1
                if connection.broken:
                    break
    return outcomes


def _due(now: datetime, batch: int) -> list[int]:
    return db.session.scalars(
        select(OutboxMail.id)
        .where(OutboxMail.may_go(now))
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(batch)
    ).all()


def _claim(row_id: int, now: datetime) -> OutboxMail | None:
    """Take one row for `MAIL_LEASE_SECONDS`: one worker wins the UPDATE."""
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    return OutboxMail.claim(row_id, now, lease)


def _send_one(row: OutboxMail, connection: "_Connection", now: datetime) -> str:
    if row.message is None:
        message = PREPARERS[row.purpose](row, now)
        if message is None:
            return _finish(row, "dropped")
        row.subject = str(message["Subject"])[:300]
        row.message = _wire(message)
        db.session.commit()  # the link issued is kept with its message
    if now >= row.give_up_at:
        return _finish(row, "failed", f"too late; last problem: {row.last_error}")
    try:
        connection.send(row.to_address, row.message)
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500 and not connection.broken:
            return _finish(row, "failed", f"{error.smtp_code} {error.smtp_error!r}")
        return _retry(row, now, f"{error.smtp_code} {error.smtp_error!r}")
    except (OSError, smtplib.SMTPException) as error:
        connection.broken = True
        return _retry(row, now, f"{type(error).__name__}: {error}")
    row.sent_at = now_utc()
    row.message = None  # sent: the link it held lives only in the mailbox now
    return _finish(row, "sent")


def _retry(row: OutboxMail, now: datetime, problem: str) -> str:
    wait = min(MAX_BACKOFF, timedelta(minutes=2 ** min(row.attempts - 1, 10)))
    if now + wait >= row.give_up_at:
        return _finish(row, "failed", problem)
    row.status = "queued"
    row.next_attempt_at = now + wait
    row.last_error = problem[:1000]
    db.session.commit()  # then the log line: it tells what is stored
    log.warning("mail %s not sent (%s): retrying", row.id, problem)
    return "retry"


def _finish(row: OutboxMail, status: str, problem: str | None = None) -> str:
    row.status = status
    if problem is not None:
        row.last_error = problem[:1000]
        if status == "failed":
            row.message = None
    db.session.commit()
    if status == "failed":
        log.warning("mail %s failed for good: %s", row.id, problem)
    return status


class _Connection:
    """One SMTP connection for a pass, opened at the first message; or, with
    no MAIL_SERVER outside production, the development outbox folder."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.broken = False

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.get("MAIL_CA_FILE"))

    def _open(self) -> smtplib.SMTP:
        config = self.config
        server, port = config["MAIL_SERVER"], config["MAIL_PORT"]
        if config.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(
                server, port, timeout=self.config["MAIL_TIMEOUT"], context=self._tls()
            )
        else:
            smtp = smtplib.SMTP(server, port, timeout=self.config["MAIL_TIMEOUT"])
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=self._tls())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        return smtp

    def send(self, to: str, message: bytes) -> None:
        if not self.config.get("MAIL_SERVER"):
            return _keep_in_folder(message)
        if self.smtp is None:
            self.smtp = self._open()
        self.smtp.sendmail(self.config["MAIL_FROM"], [to], message)


def _keep_in_folder(message: bytes) -> None:
    """Development: print the message and keep it as a .eml file."""
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = now_utc().strftime("%Y%m%dT%H%M%S%f") + ".eml"
    (outbox / name).write_bytes(message)
    parsed = message_from_bytes(message, policy=policy.default)
    print(f"--- mail (kept in {outbox / name}) ---\n{parsed.get_body(('plain',))}")


# ---- what the admin and /healthz see -----------------------------------------


WAITING = ("queued", "sending")


def oldest_unsent_age(now: datetime | None = None) -> int | None:
    """Seconds the oldest message still to send has waited; None when none."""
    oldest = db.session.scalar(
        select(func.min(OutboxMail.created_at)).where(OutboxMail.status.in_(WAITING))
    )
    return _age(oldest, now)


def _age(moment: datetime | None, now: datetime | None = None) -> int | None:
    if moment is None:
        return None
    return max(0, round(((now or now_utc()) - moment).total_seconds()))


def clinic_state(clinic_id: int, now: datetime | None = None) -> dict:
    """What the clinic's admin sees of its email: what waits (and since
    when), what failed for good in the last 30 days, and the newest 20
    messages not sent (waiting or failed)."""
    now = now or now_utc()
    recent = and_(
        OutboxMail.clinic_id == clinic_id,
        OutboxMail.created_at >= now - timedelta(days=30),
    )
    waiting, oldest, failed = db.session.execute(
        select(
            func.count().filter(OutboxMail.status.in_(WAITING)),
            func.min(OutboxMail.created_at).filter(OutboxMail.status.in_(WAITING)),
            func.count().filter(OutboxMail.status == "failed"),
        ).where(recent)
    ).one()
    undelivered = db.session.scalars(
        select(OutboxMail)
        .where(recent, OutboxMail.status.in_((*WAITING, "failed")))
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
        .limit(20)
    ).all()
    return {
        "waiting": waiting,
        "failed": failed,
        "oldest_waiting_seconds": _age(oldest, now),
        "undelivered": undelivered,
    }
