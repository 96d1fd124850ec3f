"""Messages: one thread per patient, idempotent writes, who writes and who
reads, unread counts, and the notice the other side gets (without the words)."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, select

from backend import mail
from backend.extensions import db
from backend.models import Message, OutboxMail, OutboxPush, PushSubscription
from backend.models.base import now_utc
from tests.conftest import new_id
from tests.serving import free_port

SECRET = "My sciatica flared after the wedding"


def thread_url(world, patient="patient_a"):
    return f"/api/patients/{getattr(world, patient)}/messages"


def write(client, world, body="Hello", message_id=None):
    response = client.post(
        thread_url(world), json={"id": message_id or new_id(), "body": body}
    )
    assert response.status_code == 201, response.json
    return response.json


def stored(app) -> list[Message]:
    with app.app_context():
        found = db.session.scalars(select(Message).order_by(Message.sent_at)).all()
        db.session.expunge_all()
        return found


def unread(client, world) -> int:
    response = client.get(thread_url(world) + "/unread")
    assert response.status_code == 200
    return response.json["unread"]


def listed_unread(client) -> dict[int, int]:
    return {p["id"]: p["unread_messages"] for p in client.get("/api/patients").json}


def test_a_message_is_stored_once_replayed_and_refused_when_changed(
    app, world, patient, therapist
):
    message = {"id": new_id(), "body": "Is it fine to walk\nthe dog?"}
    created = patient.post(thread_url(world), json=message)
    assert created.status_code == 201
    assert created.json["body"] == message["body"]
    assert created.json["read_at"] is None
    assert created.json["author"] == {
        "id": world.patient_a,
        "email": "pat@a.test",
        "name": "pat",
        "role": "patient",
        "clinic_id": world.clinic_a,
    }
    replay = patient.post(thread_url(world), json=message)
    assert replay.status_code == 200 and replay.json == created.json
    changed = patient.post(thread_url(world), json=message | {"body": "Other words"})
    assert changed.status_code == 409
    # the same words under the same id from someone else are not a replay
    assert therapist.post(thread_url(world), json=message).status_code == 409
    assert [m.body for m in stored(app)] == [message["body"]]


def test_the_same_id_in_another_patients_thread_is_a_conflict(app, world, signed_in):
    message = {"id": new_id(), "body": "Hello"}
    assert signed_in("patient_a").post(thread_url(world), json=message).status_code == (
        201
    )
    other = signed_in("patient_a2").post(thread_url(world, "patient_a2"), json=message)
    assert other.status_code == 409
    assert len(stored(app)) == 1


@pytest.mark.parametrize(
    "body",
    ["x" * 2001, "", "   \n ", "bell\x07", "nul\x00", "escape\x1b[31m", None, 42],
)
def test_a_bad_message_is_a_422_naming_the_body_and_stores_nothing(
    app, world, patient, body
):
    response = patient.post(thread_url(world), json={"id": new_id(), "body": body})
    assert response.status_code == 422
    assert "body" in response.json["errors"]["json"]
    assert stored(app) == []


def test_a_message_of_2000_characters_with_line_breaks_and_tabs_is_fine(world, patient):
    body = ("Line\tone\r\n" + "y" * 1990)[:2000]
    assert len(body) == 2000
    assert write(patient, world, body)["body"] == body


def test_the_thread_is_oldest_first_with_each_author(world, patient, therapist, admin):
    first = write(patient, world, "Morning stiffness again")
    reply = write(therapist, world, "Try the cat-camel first")
    thread = admin.get(thread_url(world)).json
    assert [m["id"] for m in thread] == [first["id"], reply["id"]]
    assert [m["author"]["role"] for m in thread] == ["patient", "therapist"]
    assert thread[1]["author"]["id"] == world.therapist_a
    assert "second_factor" not in thread[1]["author"]
    assert patient.get(thread_url(world)).json == thread


def test_an_admin_reads_the_thread_but_does_not_write(app, world, admin):
    assert admin.get(thread_url(world)).status_code == 200
    response = admin.post(thread_url(world), json={"id": new_id(), "body": "Hi"})
    assert response.status_code == 403
    assert stored(app) == []


@pytest.mark.parametrize(
    "who", ["patient_a2", "therapist_a2", "admin_b", "therapist_b", "patient_b"]
)
def test_anyone_elses_thread_is_a_404(world, signed_in, who):
    client = signed_in(who)
    message = {"id": new_id(), "body": "Hello"}
    assert client.get(thread_url(world)).status_code == 404
    assert client.post(thread_url(world), json=message).status_code == 404
    assert client.get(thread_url(world) + "/unread").status_code == 404
    read = client.post(thread_url(world) + "/read", json={"up_to": new_id()})
    assert read.status_code == 404


def test_unread_counts_and_reading_per_role(app, world, patient, therapist, admin):
    first = write(patient, world, "One")
    second = write(patient, world, "Two")
    assert listed_unread(therapist) == {world.patient_a: 2}
    assert listed_unread(admin) == {world.patient_a: 2, world.patient_a2: 0}
    assert unread(therapist, world) == unread(admin, world) == 2
    one = therapist.get(f"/api/patients/{world.patient_a}").json
    assert one["unread_messages"] == 2
    assert unread(patient, world) == 0  # their own messages are not theirs to read

    # the admin's oversight marks nothing
    read = admin.post(thread_url(world) + "/read", json={"up_to": second["id"]})
    assert read.status_code == 204
    assert unread(therapist, world) == 2
    assert all(m.read_at is None for m in stored(app))

    # the therapist reads up to the first: that one only
    read = therapist.post(thread_url(world) + "/read", json={"up_to": first["id"]})
    assert read.status_code == 204
    assert unread(therapist, world) == 1
    assert [m.read_at is not None for m in stored(app)] == [True, False]
    assert listed_unread(therapist) == {world.patient_a: 1}

    # the patient reading does not mark their own messages read
    reply = write(therapist, world, "Three")
    assert unread(patient, world) == 1 and unread(therapist, world) == 1
    patient.post(thread_url(world) + "/read", json={"up_to": reply["id"]})
    assert unread(patient, world) == 0 and unread(therapist, world) == 1

    # reading up to their own reply marks what the patient wrote before it
    therapist.post(thread_url(world) + "/read", json={"up_to": reply["id"]})
    assert unread(therapist, world) == 0
    assert all(m.read_at is not None for m in stored(app))
    shown = patient.get(thread_url(world)).json
    assert all(m["read_at"] for m in shown)


def test_reading_up_to_a_message_of_no_thread_of_theirs_is_a_422(
    world, signed_in, patient
):
    other = signed_in("patient_a2")
    message = other.post(
        thread_url(world, "patient_a2"), json={"id": new_id(), "body": "Mine"}
    ).json
    for up_to in (new_id(), message["id"]):
        response = patient.post(thread_url(world) + "/read", json={"up_to": up_to})
        assert response.status_code == 422
        assert "up_to" in response.json["errors"]["json"]


def test_the_patient_list_counts_unread_in_a_constant_number_of_statements(
    app, world, admin, signed_in
):
    with app.app_context():
        engine = db.engine

    def statements() -> int:
        seen = []

        def count(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert admin.get("/api/patients").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    without = statements()
    write(signed_in("patient_a"), world, "One")
    other = signed_in("patient_a2")
    for body in ("Two", "Three"):
        other.post(thread_url(world, "patient_a2"), json={"id": new_id(), "body": body})
    assert statements() == without
    assert listed_unread(admin) == {world.patient_a: 1, world.patient_a2: 2}


def test_a_staff_read_of_the_thread_is_audited(world, therapist, admin):
    therapist.get(thread_url(world))
    events = admin.get("/api/audit", query_string={"action": "patient.read"}).json
    [read] = [e for e in events if e["actor_id"] == world.therapist_a]
    assert read["detail"] == {"read": "messages.list_messages"}
    assert read["sentence"].endswith("'s messages")


def test_writing_and_reading_are_audited_with_sentences(world, patient, admin):
    message = write(patient, world, SECRET)
    patient.post(thread_url(world) + "/read", json={"up_to": message["id"]})
    events = admin.get("/api/audit", query_string={"action": "messages."}).json
    assert {(e["action"], e["status"]) for e in events} == {
        ("messages.send_message", 201),
        ("messages.mark_read", 204),
    }
    assert all(SECRET not in str(e) for e in events)


def test_a_patients_message_emails_their_therapist_without_its_words(
    world, patient, mailbox
):
    message = {"id": new_id(), "body": SECRET}
    assert patient.post(thread_url(world), json=message).status_code == 201
    [sent] = mailbox.to("ther@a.test")
    assert sent["Subject"] == "You have a new message from a patient"
    text = mailbox.text(sent)
    html = sent.get_body(("html",)).get_content()
    assert "sciatica" not in text + html + str(sent)
    assert "pat@a.test" not in str(sent)  # nor who wrote it
    assert mailbox.link(sent, "/#/patients").endswith("/#/patients")
    # a replay is no new message
    assert patient.post(thread_url(world), json=message).status_code == 200
    assert len(mailbox) == 1


def test_a_therapists_message_is_pushed_to_the_patients_devices(
    app, world, patient, therapist, push, mailbox
):
    phone = push.browser("phone")
    assert (
        patient.post("/api/push-subscriptions", json=phone.subscription()).status_code
        == 201
    )
    write(therapist, world, SECRET)
    [received] = push.received
    assert received.payload == {
        "title": "Homeward",
        "body": "You have a new message from your therapist",
        "url": "/#/messages",
        "tag": "homeward-message",
    }
    assert push.refused == []
    assert mailbox.to("pat@a.test") == []


def test_a_device_the_push_service_forgot_is_deleted(
    app, world, patient, therapist, push
):
    phone = push.browser("gone")
    patient.post("/api/push-subscriptions", json=phone.subscription())
    push.answers["/push/gone"] = 410
    write(therapist, world, "Hello")
    assert push.received == []  # the worker's run: the service answered 410
    with app.app_context():
        assert db.session.scalars(select(PushSubscription)).all() == []


def test_a_message_notice_is_queued_by_the_request_and_pushed_by_the_worker(
    app, world, patient, therapist, push
):
    """The request never talks to a push service: it queues one notice,
    however many messages follow before the worker's run, which pushes it."""
    phone = push.browser("phone")
    patient.post("/api/push-subscriptions", json=phone.subscription())
    for words in ("Hello", "How is the back?", "Keep going"):
        write(therapist, world, words)
    assert push.arrived_so_far == []
    with app.app_context():
        queued = db.session.scalars(select(OutboxPush)).all()
        assert [(row.user_id, row.status, row.tag) for row in queued] == [
            (world.patient_a, "queued", "homeward-message")
        ]
        db.session.remove()
    assert [r.payload["tag"] for r in push.received] == ["homeward-message"]
    assert [r.payload["tag"] for r in push.received] == ["homeward-message"]  # once
    with app.app_context():
        assert db.session.scalar(select(OutboxPush.status)) == "sent"
        db.session.remove()


def test_a_push_service_that_fails_is_retried_by_the_worker(
    app, world, patient, therapist, push
):
    phone = push.browser("phone")
    patient.post("/api/push-subscriptions", json=phone.subscription())
    push.answers["/push/phone"] = 503
    write(therapist, world, "Hello")
    assert push.received == []
    with app.app_context():
        row = db.session.scalar(select(OutboxPush))
        assert (row.status, row.attempts) == ("queued", 1)
        assert "503" in row.last_error
        db.session.remove()
    del push.answers["/push/phone"]
    with time_machine.travel(now_utc() + timedelta(minutes=1), tick=False):
        assert [r.payload["tag"] for r in push.received] == ["homeward-message"]


def test_when_no_device_takes_the_notice_an_email_goes_instead(
    app, world, patient, therapist, push, mailbox
):
    """A patient with email reminders whose only device is gone: the
    worker's run finds no device and emails the notice instead."""
    settings = {"times": ["18:00"], "days_of_week": [0, 1, 2], "channel": "email"}
    patient.put(f"/api/patients/{world.patient_a}/reminders", json=settings)
    phone = push.browser("gone")
    patient.post("/api/push-subscriptions", json=phone.subscription())
    push.answers["/push/gone"] = 410
    write(therapist, world, SECRET)
    assert mailbox.to("pat@a.test") == []  # nothing yet: the push is queued
    assert push.received == []
    [sent] = mailbox.to("pat@a.test")
    assert sent["Subject"] == "You have a new message from your therapist"
    assert SECRET not in str(sent)


def test_a_patient_with_email_reminders_and_no_device_gets_an_email(
    world, patient, therapist, mailbox
):
    settings = {"times": ["18:00"], "days_of_week": [0, 1, 2], "channel": "email"}
    assert (
        patient.put(
            f"/api/patients/{world.patient_a}/reminders", json=settings
        ).status_code
        == 200
    )
    write(therapist, world, SECRET)
    [sent] = mailbox.to("pat@a.test")
    assert sent["Subject"] == "You have a new message from your therapist"
    assert "sciatica" not in str(sent)
    assert mailbox.link(sent, "/#/messages").endswith("/#/messages")
    assert mailbox.to("ther@a.test") == []


def test_a_patient_without_device_or_email_reminders_is_not_told(
    world, therapist, mailbox
):
    write(therapist, world, "Hello")
    assert len(mailbox) == 0


def test_a_mail_server_that_refuses_never_fails_the_message(app, world, patient):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody
    try:
        write(patient, world, "Still stored")
        with app.app_context():
            assert mail.send_queued() == {"retry": 1}
            [waiting] = db.session.scalars(select(OutboxMail)).all()
            assert (waiting.status, waiting.to_address) == ("queued", "ther@a.test")
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=587)
    assert [m.body for m in stored(app)] == ["Still stored"]
