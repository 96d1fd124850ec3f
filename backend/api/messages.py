"""Messages between a patient and their care team: one thread per patient.

The patient and their therapist write (idempotent by the client's UUID, as
the logs); the clinic's admin reads for oversight. The other side hears of a
new message without its words (services/notices.py).
"""

from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from backend.access import actor, marks_messages_read, message_writer, patient_or_404
from backend.api.common import documents, invalid
from backend.api.logs import STATUS, commit_one, write_limit, writer
from backend.extensions import db, limiter
from backend.schemas.clinical import (
    MessageInSchema,
    MessageSchema,
    ReadUpToSchema,
    UnreadSchema,
)
from backend.services import logs, messages
from backend.services.dates import today_in

blp = Blueprint(
    "messages",
    __name__,
    url_prefix="/api/patients/<int:patient_id>/messages",
    description="Messages between a patient and their care team",
)


@blp.route("", methods=["GET"])
@blp.response(200, MessageSchema(many=True))
@documents(blp, 401, 404)
def list_messages(patient_id):
    """The patient's thread, oldest first. Reading it marks nothing read:
    POST .../messages/read does."""
    patient = patient_or_404(patient_id)
    return messages.thread(patient.id)


@blp.route("", methods=["POST"])
@limiter.limit(write_limit, key_func=writer)
@blp.arguments(MessageInSchema())
@blp.response(201, MessageSchema)
@blp.alt_response(
    200,
    schema=MessageSchema,
    success=True,
    description="A replay of a message already stored (same author and body).",
)
@documents(blp, 401, 403, 404, 409, 422, 429)
def send_message(body, patient_id):
    """Write in the thread (the patient or their therapist; idempotent by the
    client's UUID). The other side is told there is a new message, never
    what it says."""
    author, patient = message_writer(patient_id)
    outcome = logs.record(
        patient.id,
        patient.clinic_id,
        today_in(patient.profile.timezone),
        logs.MESSAGE,
        body | {"author_id": author.id},
    )
    commit_one(outcome)
    if outcome.status == "conflict":
        abort(409, message=_("This id was already stored with different content."))
    return messages.as_wire(outcome.record, author), STATUS[outcome.status]


@blp.route("/read", methods=["POST"])
@limiter.limit(write_limit, key_func=writer)
@blp.arguments(ReadUpToSchema())
@blp.response(204)
@documents(blp, 401, 404, 422, 429)
def mark_read(body, patient_id):
    """The caller has read the thread up to `up_to`: the other side's messages
    sent until then (it included) are marked read. An admin's reading marks
    nothing."""
    patient = patient_or_404(patient_id)
    until = messages.sent_at(patient.id, body["up_to"])
    if until is None:
        invalid("up_to", _("No such message in this thread."))
    reader = actor()
    if marks_messages_read(reader):
        messages.mark_read(patient.id, reader.id, until)
        db.session.commit()


@blp.route("/unread", methods=["GET"])
@blp.response(200, UnreadSchema)
@documents(blp, 401, 404)
def unread_messages(patient_id):
    """How many of the other side's messages are unread: the staff's for the
    patient, the patient's for staff."""
    patient = patient_or_404(patient_id)
    return {"unread": messages.unread(patient.id, actor().id)}
