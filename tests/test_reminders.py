"""Reminders, sent for real: pywebpush posts to a local push service that
checks the VAPID signature and decrypts the payload (tests/push_service.py),
email goes to aiosmtpd, and the clock is moved with time-machine."""

import re
import signal
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, select

from backend.extensions import db
from backend.models import AuditEvent, PatientProfile, PushSubscription, ReminderSend
from backend.push import public_key as vapid_public_key
from backend.services import reminders
from tests.conftest import ApiClient, exercise_id, item, prescribe
from tests.serving import BIN, ROOT, app_env

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def at(day: str, hhmm: str, zone=LONDON) -> datetime:
    """A local time as an aware datetime."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=zone)


def send_due(app):
    with app.app_context():
        outcomes = reminders.send_due()
        db.session.remove()
    return outcomes


def sends(app, patient_id):
    with app.app_context():
        rows = db.session.scalars(
            select(ReminderSend)
            .where(ReminderSend.patient_id == patient_id)
            .order_by(ReminderSend.id)
        ).all()
        found = [(r.kind, r.slot, r.outcome, r.channel) for r in rows]
        db.session.remove()
    return found


def set_up(signed_in, world, push=None, times=("18:00",), channel="push", items=3):
    """patient_a on `items` exercises, reminders at `times`, one subscribed phone."""
    therapist = signed_in("therapist_a")
    names = ["knee-to-chest", "cat-camel", "bird", "glute", "pelvic"][:items]
    prescribe(
        therapist,
        world.patient_a,
        [item(exercise_id(therapist, name)) for name in names],
    )
    patient = signed_in("patient_a")
    if push is not None:
        phone = push.browser("phone")
        subscribed = patient.post("/api/push-subscriptions", json=phone.subscription())
        assert subscribed.status_code == 201, subscribed.json
    answer = patient.put(
        f"/api/patients/{world.patient_a}/reminders",
        json={"times": list(times), "days_of_week": list(range(7)), "channel": channel},
    )
    assert answer.status_code == 200, answer.json
    return patient, therapist


def test_a_due_reminder_is_pushed_signed_and_says_only_what_is_left(
    app, world, signed_in, push
):
    with time_machine.travel(at("2026-11-30", "17:50"), tick=False) as clock:
        patient, _ = set_up(signed_in, world, push, times=("18:00", "20:00"))
        assert send_due(app) == {}  # not yet
        clock.move_to(at("2026-11-30", "18:04"))
        assert send_due(app) == {"sent": 1}
        [received] = push.received
        assert received.payload == {
            "title": "Homeward",
            "body": "3 exercises left today",
            "url": "/#/today",
            "tag": "homeward-reminder",
        }
        assert received.ttl == 1800 and received.urgency == "normal"
        assert push.refused == []

        # one done: the next slot says two are left
        knee = patient.get(f"/api/patients/{world.patient_a}/routine").json
        first = knee["items"][0]["exercise_id"]
        tick = patient.post(
            f"/api/patients/{world.patient_a}/exercise-logs",
            json={
                "id": "0b0e5b1e-0000-4000-8000-000000000001",
                "exercise_id": first,
                "performed_on": "2026-11-30",
            },
        )
        assert tick.status_code == 201, tick.json
        clock.move_to(at("2026-11-30", "20:00"))
        send_due(app)
        assert push.texts() == ["3 exercises left today", "2 exercises left today"]
        shown = patient.get(f"/api/patients/{world.patient_a}/reminders").json
        assert shown["last_sent"]["outcome"] == "sent"
        assert shown["push_devices"] == 1


def test_nothing_is_sent_once_the_routine_is_done(app, world, signed_in, push):
    with time_machine.travel(at("2026-11-30", "09:00"), tick=False) as clock:
        patient, _ = set_up(signed_in, world, push, items=1)
        routine = patient.get(f"/api/patients/{world.patient_a}/routine").json
        tick = patient.post(
            f"/api/patients/{world.patient_a}/exercise-logs",
            json={
                "id": "0b0e5b1e-0000-4000-8000-000000000002",
                "exercise_id": routine["items"][0]["exercise_id"],
                "performed_on": "2026-11-30",
            },
        )
        assert tick.status_code == 201
        clock.move_to(at("2026-11-30", "18:01"))
        assert send_due(app) == {"skipped": 1}
    assert push.received == []
    assert sends(app, world.patient_a) == [("reminder", "18:00", "skipped", None)]


def test_a_rerun_and_two_concurrent_senders_send_once(app, world, signed_in, push):
    with time_machine.travel(at("2026-11-30", "18:02"), tick=False):
        set_up(signed_in, world, push)
        barrier = threading.Barrier(2)

        def sender():
            with app.app_context():
                barrier.wait()
                reminders.send_due()
                db.session.remove()

        workers = [threading.Thread(target=sender) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        send_due(app)  # and a rerun
    assert push.texts() == ["3 exercises left today"]
    assert sends(app, world.patient_a) == [("reminder", "18:00", "sent", "push")]


def test_a_slot_more_than_30_minutes_late_is_skipped(app, world, signed_in, push):
    with time_machine.travel(at("2026-11-30", "12:00"), tick=False) as clock:
        set_up(signed_in, world, push)
        clock.move_to(at("2026-11-30", "18:31"))  # the worker was down
        assert send_due(app) == {}
        clock.move_to(at("2026-11-30", "23:00"))
        assert send_due(app) == {}
    assert push.received == [] and sends(app, world.patient_a) == []


@pytest.mark.parametrize(
    "day,slot,sent_at_utc",
    [
        # spring forward: 02:30 does not exist; it comes at 03:30 EDT
        ("2027-03-14", "02:30", "2027-03-14T07:30"),
        # fall back: 01:30 happens twice; one reminder, at the first
        ("2026-11-01", "01:30", "2026-11-01T05:30"),
        # and an ordinary slot keeps its local time on both days
        ("2027-03-14", "18:00", "2027-03-14T22:00"),
        ("2026-11-01", "18:00", "2026-11-01T23:00"),
    ],
)
def test_a_daylight_saving_day_neither_skips_nor_doubles_a_reminder(
    app, world, signed_in, push, monkeypatch, day, slot, sent_at_utc
):
    monkeypatch.setitem(app.config, "REMINDER_QUIET_HOURS", ("04:00", "05:00"))
    with app.app_context():
        profile = db.session.get(PatientProfile, world.patient_a)
        profile.timezone = "America/New_York"
        db.session.commit()
        db.session.remove()
    start = at(day, "00:00", NEW_YORK)
    sent_at = []
    with time_machine.travel(start, tick=False) as clock:
        set_up(signed_in, world, push, times=(slot,))
        moment = start
        while moment < start + timedelta(hours=25):  # the whole (25-hour) day
            clock.move_to(moment)
            if send_due(app).get("sent"):
                sent_at.append(moment.astimezone(UTC))
            moment += timedelta(minutes=5)
    assert [f"{t:%Y-%m-%dT%H:%M}" for t in sent_at] == [sent_at_utc]
    assert len(push.received) == 1


def test_quiet_hours_hold(app, world, signed_in, push):
    with time_machine.travel(at("2026-11-30", "23:10"), tick=False) as clock:
        patient, therapist = set_up(signed_in, world, push)
        refused = patient.put(
            f"/api/patients/{world.patient_a}/reminders",
            json={"times": ["07:30"], "days_of_week": [0], "channel": "push"},
        )
        assert refused.status_code == 422
        assert refused.json["errors"]["json"]["times"]["0"] == [
            "07:30 is in quiet hours (21:00–08:00): pick a time outside them."
        ]
        nudged = therapist.post(f"/api/patients/{world.patient_a}/nudge")
        assert nudged.status_code == 202, nudged.json
        assert nudged.json["held_for_quiet_hours"] is True
        assert nudged.json["deliver_at"] == "2026-12-01T08:00:00+00:00"
        assert push.received == []
        clock.move_to(at("2026-12-01", "07:55"))
        send_due(app)
        assert push.received == []
        clock.move_to(at("2026-12-01", "08:00"))
        send_due(app)
    assert push.texts() == [reminders.NUDGE_TEXT]


def test_the_nudge_is_once_a_day_reaches_only_those_who_chose_and_is_audited(
    app, world, signed_in, push
):
    with time_machine.travel(at("2026-11-30", "12:00"), tick=False) as clock:
        therapist = signed_in("therapist_a")
        off = therapist.post(f"/api/patients/{world.patient_a}/nudge")
        assert off.status_code == 409  # reminders off: nothing may reach them
        assert "reminders off" in off.json["message"]
        set_up(signed_in, world, push)
        first = therapist.post(f"/api/patients/{world.patient_a}/nudge")
        assert first.status_code == 202
        assert first.json["held_for_quiet_hours"] is False
        assert push.arrived_so_far == []  # a request never pushes: it queues
        send_due(app)  # the worker's next run (within a minute)
        assert push.texts() == [reminders.NUDGE_TEXT]
        again = therapist.post(f"/api/patients/{world.patient_a}/nudge")
        assert again.status_code == 429
        assert "today already" in again.json["message"]
        assert (
            signed_in("patient_a")
            .post(f"/api/patients/{world.patient_a}/nudge")
            .status_code
            == 403
        )
        assert (
            signed_in("therapist_b")
            .post(f"/api/patients/{world.patient_a}/nudge")
            .status_code
            == 404
        )
        clock.move_to(at("2026-12-01", "12:00"))
        tomorrow = signed_in("admin_a").post(f"/api/patients/{world.patient_a}/nudge")
        assert tomorrow.status_code == 202
        send_due(app)
    assert len(push.received) == 2
    with app.app_context():
        nudges = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reminders.nudge_patient")
        ).all()
        assert [(e.actor_id, e.target_id, e.status) for e in nudges] == [
            (world.therapist_a, str(world.patient_a), 202),
            (world.admin_a, str(world.patient_a), 202),
        ]
        db.session.remove()
    trail = signed_in("admin_a").get(
        "/api/audit", query_string={"from": "2026-11-30", "to": "2026-12-01"}
    )
    assert trail.status_code == 200, trail.json
    assert any(
        re.fullmatch(r".+ sent .+ a reminder", e.get("sentence", ""))
        for e in trail.json
    )


def test_a_gone_subscription_is_deleted_and_a_failing_one_retried(
    app, world, signed_in, push
):
    with time_machine.travel(at("2026-11-30", "17:00"), tick=False) as clock:
        patient, _ = set_up(signed_in, world, push)
        laptop = push.browser("laptop")
        assert (
            patient.post(
                "/api/push-subscriptions", json=laptop.subscription()
            ).status_code
            == 201
        )
        push.answers["/push/phone"] = 410  # the phone's subscription has gone
        push.answers["/push/laptop"] = 500  # the laptop's service is down
        clock.move_to(at("2026-11-30", "18:00"))
        assert send_due(app) == {"retry": 1}
        with app.app_context():
            left = db.session.scalars(select(PushSubscription.endpoint)).all()
            db.session.remove()
        assert left == [laptop.endpoint]
        assert send_due(app) == {}  # the backoff: not again at once
        del push.answers["/push/laptop"]
        clock.move_to(at("2026-11-30", "18:01"))
        assert send_due(app) == {"sent": 1}
    assert [r.path for r in push.received] == ["/push/laptop"]


def test_email_reminders_reach_smtp_with_a_link_that_stops_them(
    app, world, signed_in, mailbox
):
    with time_machine.travel(at("2026-11-30", "17:00"), tick=False) as clock:
        set_up(signed_in, world, times=("18:00", "19:00"), channel="email")
        clock.move_to(at("2026-11-30", "18:00"))
        assert send_due(app) == {"sent": 1}
        [message] = mailbox
        assert message["To"] == "pat@a.test"
        assert message["Subject"] == "3 exercises left today"
        text = mailbox.text(message)
        token = re.search(r"#/reminders/stop/(\S+)", text).group(1)
        # a browser that opens the link: its CSRF token is signed on this clock
        # (one made before the travel could lie in the clock's future)
        anonymous = ApiClient(app.test_client())
        assert (
            anonymous.post(
                "/api/reminders/stop", json={"token": token + "x"}
            ).status_code
            == 404
        )
        stopped = anonymous.post("/api/reminders/stop", json={"token": token})
        assert stopped.status_code == 200 and stopped.json == {"channel": "off"}
        clock.move_to(at("2026-11-30", "19:00"))
        assert send_due(app) == {}
    assert len(mailbox) == 1
    settings = signed_in("patient_a").get(f"/api/patients/{world.patient_a}/reminders")
    assert settings.json["channel"] == "off"


def test_subscriptions_only_to_allowed_services_and_gone_with_the_session(
    app, world, signed_in, push, monkeypatch
):
    patient = signed_in("patient_a")
    phone = push.browser("phone")
    elsewhere = phone.subscription() | {"endpoint": "https://attacker.example/push/1"}
    refused = patient.post("/api/push-subscriptions", json=elsewhere)
    assert refused.status_code == 422
    assert "endpoint" in refused.json["errors"]["json"]
    assert (
        signed_in("therapist_a")
        .post("/api/push-subscriptions", json=phone.subscription())
        .status_code
        == 403
    )
    assert (
        patient.post("/api/push-subscriptions", json=phone.subscription()).status_code
        == 201
    )
    assert (
        patient.post("/api/push-subscriptions", json=phone.subscription()).status_code
        == 200
    )
    other_device = signed_in("patient_a")
    tablet = push.browser("tablet")
    other_device.post("/api/push-subscriptions", json=tablet.subscription())

    def endpoints():
        with app.app_context():
            found = sorted(db.session.scalars(select(PushSubscription.endpoint)))
            db.session.remove()
        return found

    assert endpoints() == sorted([phone.endpoint, tablet.endpoint])
    assert patient.post("/api/auth/logout").status_code == 204
    assert endpoints() == [tablet.endpoint]  # this device's only
    assert (
        other_device.delete(
            "/api/push-subscriptions", json={"endpoint": tablet.endpoint}
        ).status_code
        == 204
    )
    assert endpoints() == []


def test_the_public_key_or_a_404_when_push_is_off(
    app, anonymous, monkeypatch, tmp_path
):
    key = anonymous.get("/api/push/public-key")
    assert key.status_code == 200
    with app.app_context():
        assert key.json["public_key"] == vapid_public_key()
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    monkeypatch.setitem(app.config, "VAPID_FILE", str(tmp_path / "none.json"))
    off = anonymous.get("/api/push/public-key")
    assert (
        off.status_code == 404
        and off.json["message"] == "Push reminders are off on this server."
    )


def test_the_patient_chooses_staff_read_and_bad_choices_are_422(world, signed_in):
    patient = signed_in("patient_a")
    url = f"/api/patients/{world.patient_a}/reminders"
    shown = patient.get(url).json
    assert shown["channel"] == "off" and shown["last_sent"] is None
    assert shown["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    cases = [
        ({"times": ["09:00", "12:00", "15:00", "18:00"]}, "times"),
        ({"times": ["9am"]}, "times"),
        ({"times": ["09:00", "09:00"]}, "times"),
        ({"days_of_week": []}, "days_of_week"),
        ({"days_of_week": [7]}, "days_of_week"),
        ({"channel": "sms"}, "channel"),
    ]
    good = {"times": ["09:00"], "days_of_week": [0, 2, 4], "channel": "push"}
    for change, field in cases:
        answer = patient.put(url, json=good | change)
        assert answer.status_code == 422, change
        assert field in answer.json["errors"]["json"], change
    assert patient.get(url).json["channel"] == "off"  # nothing changed
    saved = patient.put(url, json=good | {"paused_until": "2026-12-07"})
    assert saved.status_code == 200
    assert saved.json["days_of_week"] == [0, 2, 4]
    assert saved.json["paused_until"] == "2026-12-07"
    therapist = signed_in("therapist_a")
    assert therapist.get(url).json["channel"] == "push"
    assert therapist.put(url, json=good).status_code == 403
    assert signed_in("therapist_b").get(url).status_code == 404
    assert signed_in("patient_a2").get(url).status_code == 404


def test_a_paused_patient_gets_nothing_until_the_pause_ends(
    app, world, signed_in, push
):
    with time_machine.travel(at("2026-11-30", "12:00"), tick=False) as clock:
        patient, _ = set_up(signed_in, world, push)
        patient.put(
            f"/api/patients/{world.patient_a}/reminders",
            json={
                "times": ["18:00"],
                "days_of_week": list(range(7)),
                "channel": "push",
                "paused_until": "2026-12-01",
            },
        )
        for day in ("2026-11-30", "2026-12-01", "2026-12-02"):
            clock.move_to(at(day, "18:05"))
            send_due(app)
    assert len(push.received) == 1  # 2 December only


def taken_and_abandoned(app, now):
    """What a worker killed mid-send leaves: the slot claimed, taken, "sending"."""
    with app.app_context():
        reminders.claim_due(now)
        row = db.session.scalar(select(ReminderSend))
        assert reminders._take(row, now)
        db.session.remove()


def test_a_reminder_whose_worker_died_mid_send_is_sent_once_its_lease_ends(
    app, world, signed_in, push
):
    with time_machine.travel(at("2026-11-30", "18:01"), tick=False) as clock:
        set_up(signed_in, world, push)
        taken_and_abandoned(app, reminders.now_utc())
        clock.move_to(at("2026-11-30", "18:02"))
        assert send_due(app) == {}  # its worker may still be sending it
        clock.move_to(at("2026-11-30", "18:05"))
        assert send_due(app) == {"sent": 1}
        assert send_due(app) == {}
    assert push.texts() == ["3 exercises left today"]
    assert sends(app, world.patient_a) == [("reminder", "18:00", "sent", "push")]


def test_a_reminder_whose_worker_died_is_missed_once_its_slot_passed(
    app, world, signed_in, push
):
    with time_machine.travel(at("2026-11-30", "18:20"), tick=False) as clock:
        set_up(signed_in, world, push)
        taken_and_abandoned(app, reminders.now_utc())
        clock.move_to(at("2026-11-30", "18:31"))
        assert send_due(app) == {"missed": 1}
        therapist = signed_in("therapist_a")
        shown = therapist.get(f"/api/patients/{world.patient_a}/reminders").json
    assert push.received == []
    assert shown["last_sent"]["outcome"] == "missed"


def test_claiming_a_claimed_slot_is_no_database_error(app, world):
    errors = []
    now = at("2026-11-30", "18:01").astimezone(UTC)
    with app.app_context():
        engine = db.engine

        def count(context):
            errors.append(context.original_exception)

        event.listen(engine, "handle_error", count)
        try:
            first = reminders._claim(
                world.patient_a, "reminder", now.date(), "18:00", now
            )
            again = reminders._claim(
                world.patient_a, "reminder", now.date(), "18:00", now
            )
            rows = db.session.scalars(select(ReminderSend.id)).all()
        finally:
            event.remove(engine, "handle_error", count)
            db.session.remove()
    assert first is not None and again is None
    assert len(rows) == 1
    assert errors == []  # the server logged no duplicate key either


@pytest.mark.serving
def test_a_worker_killed_mid_send_leaves_a_reminder_sent_once_after_its_lease(
    app, world, signed_in, push, tmp_path, monkeypatch
):
    """A real `flask worker run-once reminders` whose push hangs is SIGKILLed; the
    next run after the lease sends the reminder, once."""
    monkeypatch.setitem(app.config, "REMINDER_QUIET_HOURS", ("00:00", "00:00"))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    slot = now.astimezone(LONDON).strftime("%H:%M")
    set_up(signed_in, world, push, times=(slot,))
    env = app_env(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path / "run",
        VAPID_PRIVATE_KEY=app.config["VAPID_PRIVATE_KEY"],
        PUSH_ENDPOINT_ALLOW=push.url,
        REMINDER_QUIET_START="00:00",
        REMINDER_QUIET_END="00:00",
    )
    push.holding.set()
    worker = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker", "run-once", "reminders"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert push.arrived.wait(timeout=120), "the worker never pushed"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.kill()
        worker.wait()
        push.holding.clear()
    assert sends(app, world.patient_a) == [("reminder", slot, "sending", None)]
    assert push.received == []

    killed_at = datetime.now(UTC)
    with time_machine.travel(killed_at, tick=False) as clock:
        assert send_due(app) == {}  # within the lease: it may still be sending
        clock.move_to(killed_at + timedelta(minutes=3))  # reminders.SEND_LEASE
        assert send_due(app) == {"sent": 1}
        assert send_due(app) == {}
    assert push.texts() == ["3 exercises left today"]
