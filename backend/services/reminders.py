"""Reminders: when they are due, and sending them by Web Push or email.

Rules (the worker's `reminders` task runs `send_due` every minute:
backend/worker.py):

- A reminder is one patient × time slot × day, claimed by inserting its row
  (`ReminderSend`, unique on those) before anything is sent: a rerun or a
  second worker finds the row and sends nothing. Delivering is claimed again
  by a conditional UPDATE, so a retry is made by one worker only.
- A slot is due from its local time for `REMINDER_LATEST` (30 minutes); a
  worker that was down longer skips it. Local times come from the patient's
  timezone through zoneinfo: a time that does not exist on a spring-forward
  day is sent an hour later, one that happens twice on a fall-back day once.
- Nothing is sent inside quiet hours (the settings refuse such times; a
  therapist's nudge then waits for their end). A nudge is queued by the
  request and delivered by the next run, like a reminder.
- Only while something in the day's routine is undone; the text says how many
  exercises are left and nothing else about the patient's health.
- Push goes through backend/push.py (the VAPID key, pywebpush): a
  subscription answered 404 or 410 is deleted; other failures are retried
  with backoff while the slot is still due, then recorded as failed.
- Taking a send to deliver leases it for SEND_LEASE (`next_attempt_at`): a
  worker killed mid-send leaves it "sending", and once the lease has run out
  the next run sends it again while the slot is still due, else records it
  as "missed" (the therapist sees it on the patient's reminders).
"""

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, or_, select, update

from backend import mail, push
from backend.extensions import db
from backend.i18n import speaking
from backend.links import public_url
from backend.models import (
    PatientProfile,
    ReminderSend,
    ReminderSettings,
    User,
)
from backend.models.base import DIALECT_INSERT
from backend.push import Message
from backend.services.dates import now_utc
from backend.services.routine import routine_for

log = logging.getLogger(__name__)

DEFAULT_TIMES = ["18:00"]
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]
MAX_ATTEMPTS = 4
SEND_LEASE = timedelta(minutes=3)  # a send still "sending" after this lost its worker
REMINDER_TTL = 30 * 60  # seconds a push service may hold a reminder
NUDGE_TTL = 12 * 3600
NUDGE_LATEST = timedelta(seconds=NUDGE_TTL)  # an emailed nudge goes by then
OPEN = ("pending", "sending", "retry")
ONCE = ["patient_id", "kind", "local_date", "slot"]  # uq_reminder_sends_once
NUDGE_TEXT = _l(
    "Your therapist sent you a reminder: "
    "a few minutes of your exercises today will help."
)


# ---- channels -----------------------------------------------------------------


def email_available() -> bool:
    return mail.enabled()


# ---- settings -----------------------------------------------------------------


def settings_of(patient_id: int) -> ReminderSettings:
    """The patient's settings; an unsaved default ("off") when they never chose."""
    found = db.session.get(ReminderSettings, patient_id)
    return found or ReminderSettings(
        patient_id=patient_id,
        channel="off",
        times=DEFAULT_TIMES,
        days_of_week=EVERY_DAY,
    )


def quiet_hours() -> tuple[time, time]:
    start, end = current_app.config["REMINDER_QUIET_HOURS"]
    return time.fromisoformat(start), time.fromisoformat(end)


def is_quiet(moment: time) -> bool:
    """Whether a local time of day is inside quiet hours (which may span midnight)."""
    start, end = quiet_hours()
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def quiet_words() -> str:
    start, end = quiet_hours()
    return f"{start:%H:%M}–{end:%H:%M}"


def last_sent(patient_id: int) -> ReminderSend | None:
    """The latest reminder or nudge that got as far as an outcome."""
    return db.session.scalar(
        select(ReminderSend)
        .where(
            ReminderSend.patient_id == patient_id,
            ReminderSend.outcome.not_in(OPEN),
        )
        .order_by(ReminderSend.due_at.desc(), ReminderSend.id.desc())
        .limit(1)
    )


def device_count(patient_id: int) -> int:
    return len(push.subscriptions(patient_id))


# ---- the stop link -----------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reminders-stop")


def stop_token(patient_id: int) -> str:
    return _serializer().dumps(patient_id)


def patient_of_stop_token(token: str) -> int | None:
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


# ---- when --------------------------------------------------------------------


def slot_time(day: date, slot: str, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local HH:MM on `day` (a time skipped by a clock
    change falls an hour later; a repeated one is its first occurrence)."""
    local = datetime.combine(day, time.fromisoformat(slot), tzinfo=zone)  # fold=0
    return local.astimezone(UTC)


def _claim(patient_id: int, kind: str, day: date, slot: str, due_at: datetime, **extra):
    """Insert the send's row; None when another run already has it. ON
    CONFLICT DO NOTHING: a slot claimed already is no error in the server's
    log (each worker run finds the slots of the last 30 minutes again)."""
    values = dict(
        patient_id=patient_id,
        kind=kind,
        local_date=day,
        slot=slot,
        due_at=due_at,
        outcome="pending",
        attempts=0,
        created_at=now_utc(),
        **extra,
    )
    insert = DIALECT_INSERT[db.session.get_bind().dialect.name]
    row_id = db.session.scalar(
        insert(ReminderSend)
        .values(**values)
        .on_conflict_do_nothing(index_elements=ONCE)
        .returning(ReminderSend.id)
    )
    db.session.commit()
    return None if row_id is None else db.session.get(ReminderSend, row_id)


def claim_due(now: datetime) -> int:
    """Claim every reminder slot due now; returns how many were claimed."""
    latest = current_app.config["REMINDER_LATEST"]
    rows = db.session.execute(
        select(ReminderSettings, PatientProfile.timezone)
        .join(User, User.id == ReminderSettings.patient_id)
        .join(PatientProfile, PatientProfile.user_id == User.id)
        .where(ReminderSettings.channel != "off", User.active.is_(True))
    ).all()
    claimed = 0
    for settings, timezone in rows:
        zone = ZoneInfo(timezone)
        local_today = now.astimezone(zone).date()
        for day in (local_today - timedelta(days=1), local_today):
            if settings.paused_until is not None and day <= settings.paused_until:
                continue
            if day.weekday() not in settings.days_of_week:
                continue
            for slot in settings.times:
                due_at = slot_time(day, slot, zone)
                if not due_at <= now < due_at + latest:
                    continue
                if is_quiet(time.fromisoformat(slot)):
                    continue
                if _claim(settings.patient_id, "reminder", day, slot, due_at):
                    claimed += 1
    return claimed


# ---- sending -------------------------------------------------------------------


def exercises_left(patient_id: int, clinic_id: int, day: date) -> int:
    """How many of the day's exercises still have a session to do."""
    items = routine_for(patient_id, clinic_id, day)["items"]
    return sum(1 for item in items if item["sessions_done"] < item["sessions_due"])


def left_words(count: int) -> str:
    return ngettext(
        "%(num)d exercise left today", "%(num)d exercises left today", count
    )


def send_due(now: datetime | None = None) -> dict:
    """Claim what is due and deliver every open send; the counts by outcome."""
    now = now or now_utc()
    claim_due(now)
    latest = current_app.config["REMINDER_LATEST"]
    open_ids = db.session.scalars(
        select(ReminderSend.id).where(_open(now), ReminderSend.due_at <= now)
    ).all()
    outcomes: dict[str, int] = {}
    for send_id in open_ids:
        row = db.session.get(ReminderSend, send_id)
        orphaned = row.outcome == "sending"  # its worker died mid-send
        if orphaned and (
            row.attempts >= MAX_ATTEMPTS
            or (row.kind == "reminder" and now >= row.due_at + latest)
        ):
            _finish(row, "missed", "the worker stopped while sending it")
        elif row.kind == "reminder" and now >= row.due_at + latest:
            _finish(row, "failed", "too late: the slot has passed")
        elif row.kind == "nudge" and _quiet_now(row.patient_id, now):
            continue  # waits for the end of quiet hours
        elif not _take(row, now):
            continue  # another worker has it
        else:
            deliver(row, now)
        outcomes[row.outcome] = outcomes.get(row.outcome, 0) + 1
    return outcomes


def _quiet_now(patient_id: int, now: datetime) -> bool:
    zone = ZoneInfo(db.session.get(PatientProfile, patient_id).timezone)
    return is_quiet(now.astimezone(zone).time())


def _open(now: datetime):
    """Sends to deliver now: pending, a retry that is due, or "sending" whose
    worker's lease ran out."""
    due = or_(
        ReminderSend.next_attempt_at.is_(None), ReminderSend.next_attempt_at <= now
    )
    return or_(
        and_(ReminderSend.outcome.in_(("pending", "retry")), due),
        and_(ReminderSend.outcome == "sending", ReminderSend.next_attempt_at <= now),
    )


def _take(row: ReminderSend, now: datetime) -> bool:
    """Claim the delivery of an open send: one worker wins the UPDATE, and
    holds it for SEND_LEASE. A worker that dies while sending leaves it
    "sending" until then: sent again only once nobody can be sending it."""
    taken = db.session.execute(
        update(ReminderSend)
        .where(ReminderSend.id == row.id, ReminderSend.attempts == row.attempts)
        .where(_open(now))
        .values(
            outcome="sending",
            attempts=ReminderSend.attempts + 1,
            next_attempt_at=now + SEND_LEASE,
        )
    ).rowcount
    db.session.commit()
    if taken:
        db.session.refresh(row)
    return bool(taken)


def deliver(row: ReminderSend, now: datetime) -> None:
    """Send one claimed reminder or nudge by the patient's channel and record
    the outcome (the caller has taken it)."""
    patient = db.session.get(User, row.patient_id)
    settings = settings_of(row.patient_id)
    if not patient.active or settings.channel == "off":
        return _finish(row, "skipped", "reminders are off")
    if row.kind == "reminder":
        left = exercises_left(row.patient_id, patient.clinic_id, row.local_date)
        if not left:
            return _finish(row, "skipped", "nothing left today")
    row.channel = settings.channel
    with speaking(patient):
        if row.kind == "reminder":
            message = Message("Homeward", left_words(left))
        else:
            message = Message("Homeward", str(NUDGE_TEXT), tag="homeward-nudge")
        if settings.channel == "email":
            latest = current_app.config["REMINDER_LATEST"]
            late = row.due_at + latest if row.kind == "reminder" else now + NUDGE_LATEST
            sent = _email(patient, message, late)
            problem = None if sent else "mail is off"
        else:
            sent, problem = _push(row, message)
    if sent:
        row.sent_at = now
        return _finish(row, "sent")
    if problem is None:
        return _finish(row, "no-device", "no device with notifications")
    if row.attempts >= MAX_ATTEMPTS:
        return _finish(row, "failed", problem)
    row.outcome = "retry"
    row.detail = problem
    row.next_attempt_at = now + timedelta(minutes=2 ** (row.attempts - 1))
    log.warning("reminder %s not delivered (%s): retrying", row.id, problem)
    db.session.commit()


def _finish(row: ReminderSend, outcome: str, detail: str | None = None) -> None:
    row.outcome = outcome
    row.detail = detail
    row.next_attempt_at = None
    if outcome == "failed":
        log.warning("reminder %s failed: %s", row.id, detail)
    db.session.commit()


def _push(row: ReminderSend, message: Message) -> tuple[bool, str | None]:
    ttl = REMINDER_TTL if row.kind == "reminder" else NUDGE_TTL
    return push.push(row.patient_id, message, ttl)


def _email(patient: User, message: Message, give_up_at: datetime) -> bool:
    """Queue the reminder's email (the caller commits): it goes while it is
    still worth reading, else the outbox marks it failed."""
    token = stop_token(patient.id)
    nudged = message.tag == "homeward-nudge"
    return mail.queue(
        patient,
        _("A reminder from your therapist") if nudged else message.body,
        "reminder",
        kind="reminder",
        give_up_at=give_up_at,
        name=patient.name,
        clinic_name=patient.clinic.name,
        text=message.body,
        app_url=public_url("/#/today"),
        stop_url=public_url(f"/#/reminders/stop/{token}"),
    )


# ---- the therapist's nudge ------------------------------------------------------


def nudge(patient: User, staff: User, now: datetime) -> ReminderSend | None:
    """Queue today's nudge for the patient (held to the end of quiet hours
    when it is night for them): the worker's next `reminders` run delivers
    it (within a minute; a request never pushes nor mails). None when they
    already had one today (their day)."""
    zone = ZoneInfo(patient.profile.timezone)
    local = now.astimezone(zone)
    due_at = now
    if is_quiet(local.time()):
        _, end = quiet_hours()
        day = local.date() if local.time() < end else local.date() + timedelta(days=1)
        due_at = slot_time(day, f"{end:%H:%M}", zone)
    return _claim(patient.id, "nudge", local.date(), "", due_at, sent_by=staff.id)
