"""A write's trip, in one place: what a transaction stored, its commit, and the
one signal after it.

A write to a patient's data goes like this (docs/ARCHITECTURE.md):

1. The view checks who may write (backend/access.py) and loads the body (its
   schema); the service (services/logs.py, services/questionnaires.py,
   services/programmes.py) adds the rows to the session and says what it
   stored with `stored(...)` and, for ticks and programmes, which days'
   sessions done may change (`adherence.note_changed`). Services never commit.
2. The view adds its audit row (api/audit.py `stage`) and calls `commit()`:
   the noted patients' stored sessions done are recounted, then the records,
   the recount and the audit row commit as one transaction.
3. After the commit, `data_stored` is sent once per patient with the kinds
   newly stored ("exercise_log", "pain_log", "message", "flare_up",
   "deleted_exercise_log" for an undone tick, "odi", "psfs", "programme" for
   a new programme version). A replay stores nothing and sends nothing. Its
   receivers, connected in the app factory, are the alert rules
   (services/alerts.py `judge_new_data`) and the message notices
   (services/notices.py `tell_about_messages`). A receiver never sends mail
   or push itself: it queues them (backend/mail.py, backend/push.py) for the
   worker, and commits what it queued. A receiver that fails is logged and
   rolled back; the stored records stay stored (a 500 would only make the
   phone send them again).
"""

import logging
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app
from sqlalchemy import event

from backend.extensions import db
from backend.services import adherence

log = logging.getLogger(__name__)

_signals = Namespace()

data_stored = _signals.signal("data-stored")
"""Sent after a commit that stored new records for a patient; receivers get
the app as sender and `news`, a `News`."""

_STORED = "homeward_stored"  # session.info: {patient_id: News}


@dataclass
class News:
    """What one commit newly stored for one patient."""

    patient_id: int
    kinds: set[str]
    # who wrote it (the patient, or staff writing in the thread)
    author_id: int | None


def stored(patient_id: int, kinds, author_id: int | None = None) -> None:
    """Note, in the current transaction, that it stores new records of
    `kinds` for the patient (sent with `data_stored` once it commits)."""
    kinds = set(kinds)
    if not kinds:
        return
    news = db.session.info.setdefault(_STORED, {})
    if patient_id in news:
        news[patient_id].kinds |= kinds
    else:
        news[patient_id] = News(patient_id, kinds, author_id)


def commit() -> None:
    """Recount the noted sessions done, commit, then send `data_stored` for
    what the transaction stored. Every write of a patient's data ends here."""
    adherence.recount_noted()
    news = db.session.info.pop(_STORED, {})
    db.session.commit()
    app = current_app._get_current_object()
    for item in news.values():
        # one failing receiver neither stops the others nor fails the write
        for receiver in data_stored.receivers_for(app):
            try:
                receiver(app, news=item)
            except Exception:
                db.session.rollback()
                log.exception(
                    "%s failed after a write for patient %s (%s)",
                    getattr(receiver, "__qualname__", receiver),
                    item.patient_id,
                    sorted(item.kinds),
                )


def forget(session, _previous_transaction=None) -> None:
    """A rolled-back transaction stored nothing to tell of, nor to recount."""
    session.info.pop(_STORED, None)
    adherence.forget_noted(session)


def _committed_elsewhere(session) -> None:
    if session.info.get(_STORED) or adherence.noted(session):
        raise RuntimeError(
            "a write of a patient's data commits through services.writes.commit()"
        )


def init_app(session) -> None:
    """On db.session: forget the notes of a transaction that rolls back, and
    refuse a commit that would skip `commit()` (its recount and signal): a
    programming error, caught by any test of that write."""
    if not event.contains(session, "after_soft_rollback", forget):
        event.listen(session, "after_soft_rollback", forget)
        event.listen(session, "before_commit", _committed_elsewhere)
