"""Outgoing email: plain text plus simple HTML, over SMTP (smtplib).

Settings: MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS (STARTTLS), MAIL_USERNAME,
MAIL_PASSWORD, MAIL_FROM. Without MAIL_SERVER, outside production, each
message is printed and written to `instance/outbox/*.eml`, so `make run`
works with no mail server; in production without one, mail is off.

Mails carry no health data beyond the person's own name: links, not content.
Templates live in backend/templates/mail/<name>.txt and <name>.html; each
mail is written in its recipient's language (backend/i18n.py), so subjects and
words given in the context are lazy translations, made text while rendering.
"""

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from flask import current_app, render_template

from backend.i18n import speaking
from backend.models import User
from backend.services.dates import now_utc

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 10  # seconds: a stuck mail server must not hold a worker


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


def send(recipient: User, subject: str, template: str, **context) -> bool:
    """Send one message to `recipient`, in their language; False (and logged)
    when it could not be sent."""
    if not enabled():
        log.warning("mail is off (no MAIL_SERVER): not sending %r", template)
        return False
    with speaking(recipient):
        message = compose(recipient.email, subject, template, **context)
    subject = message["Subject"]
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return _keep_in_outbox(message)
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send %r", subject)
        return False
    return True


def _keep_in_outbox(message: EmailMessage) -> bool:
    """Development: print the message and keep it as a .eml file."""
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = now_utc().strftime("%Y%m%dT%H%M%S%f") + ".eml"
    (outbox / name).write_bytes(message.as_bytes())
    print(f"--- mail (kept in {outbox / name}) ---\n{message.get_body(('plain',))}")
    return True
