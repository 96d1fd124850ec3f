"""A patient's message thread with their care team: reading it, unread counts
and marking messages read. (Storing a message is idempotent by its UUID, as
for the logs: services/logs.py MESSAGE.)

Each patient has one thread. A message's "other side" is the one that reads
it: the patient reads the staff's messages, their therapist reads the
patient's. Who marks messages read by reading is auth.marks_messages_read's
rule (not an admin).
"""

import uuid
from datetime import datetime

from sqlalchemy import Select, func, select, update

from backend.extensions import db
from backend.models import Message, User
from backend.services.dates import now_utc


def as_wire(message, author: User) -> dict:
    """A stored message (a row or the model) with its author, for MessageSchema."""
    return {
        "id": message.id,
        "author": author.identity(),
        "body": message.body,
        "sent_at": message.sent_at,
        "read_at": message.read_at,
    }


def thread(patient_id: int) -> list[dict]:
    """The patient's messages with their authors, oldest first (one query)."""
    rows = db.session.execute(
        select(Message, User)
        .join(User, User.id == Message.author_id)
        .where(Message.patient_id == patient_id)
        .order_by(Message.sent_at, Message.id)
    )
    return [as_wire(message, author) for message, author in rows]


def _to(patient_id: int, reader_id: int):
    """The condition for the messages `reader` receives in the patient's
    thread: the staff's for the patient, the patient's for staff."""
    if reader_id == patient_id:
        return Message.author_id != patient_id
    return Message.author_id == patient_id


def sent_at(patient_id: int, message_id: uuid.UUID) -> datetime | None:
    """When a message of this thread was sent; None when the thread has no
    message with that id."""
    return db.session.scalar(
        select(Message.sent_at).where(
            Message.id == message_id, Message.patient_id == patient_id
        )
    )


def mark_read(patient_id: int, reader_id: int, until: datetime) -> int:
    """Mark the messages `reader` receives in the thread read, those sent
    until `until` (included); the caller commits. Returns how many."""
    return db.session.execute(
        update(Message)
        .where(
            Message.patient_id == patient_id,
            Message.read_at.is_(None),
            Message.sent_at <= until,
            _to(patient_id, reader_id),
        )
        .values(read_at=now_utc())
        .execution_options(synchronize_session=False)
    ).rowcount


def unread(patient_id: int, reader_id: int) -> int:
    """How many messages `reader` receives in the thread are unread."""
    return db.session.scalar(
        select(func.count()).where(
            Message.patient_id == patient_id,
            Message.read_at.is_(None),
            _to(patient_id, reader_id),
        )
    )


def unread_from_patients(patient_ids: Select) -> dict[int, int]:
    """{patient id: their messages their therapist has not read}, for the
    patients `patient_ids` selects, in one grouped query (patients without
    unread messages are left out)."""
    rows = db.session.execute(
        select(Message.patient_id, func.count())
        .where(
            Message.patient_id.in_(patient_ids),
            Message.author_id == Message.patient_id,
            Message.read_at.is_(None),
        )
        .group_by(Message.patient_id)
    )
    return dict(rows.all())
