"""The mail outbox (backend/mail.py): requests only queue; the worker sends
each message once, through a mail server that may be down, black-holed,
slow or lying about its certificate.

The mail server here is aiosmtpd behind tests/tcp_proxy.py, which the test
switches to refuse connections or to swallow them (a black hole)."""

import os
import signal
import ssl
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import trustme
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from backend import mail
from backend.extensions import db
from backend.models import OutboxMail, PainLog
from backend.services import alerts
from tests.conftest import EMAILS, ApiClient, Mailbox, add_patient, new_id
from tests.serving import BIN, ROOT, free_port


def send_queued(app, now=None) -> dict:
    with app.app_context():
        outcomes = dict(mail.send_queued(now))
        db.session.remove()
        return outcomes


def outbox(app) -> list[OutboxMail]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        db.session.expunge_all()
        return rows


def ask_reset(app, email) -> None:
    anonymous = ApiClient(app.test_client())
    answer = anonymous.post("/api/auth/password-reset", json={"email": email})
    assert answer.status_code == 202, answer.json


def test_requests_that_mail_never_wait_for_a_black_holed_server(
    app, world, smtp, therapist, admin
):
    box, proxy = smtp
    proxy.set_mode("drop")
    ask_reset(app, EMAILS["patient_a"])
    enrolled = therapist.post(
        "/api/patients",
        json={"name": "New Person", "email": "new@a.test", "timezone": "UTC"},
    )
    assert enrolled.status_code == 201, enrolled.json
    invited = admin.post(
        "/api/staff",
        json={"email": "new-ther@a.test", "name": "T", "role": "therapist"},
    )
    assert invited.status_code == 201, invited.json
    assert proxy.accepted == 0  # no request opened a connection to the server
    assert [row.status for row in outbox(app)] == ["queued"] * 3
    # the worker's pass costs one timeout, then leaves the rest for later
    app.config["MAIL_TIMEOUT"] = 1
    assert send_queued(app) == {"retry": 1}
    assert sorted(row.attempts for row in outbox(app)) == [0, 0, 1]
    assert list(box) == []


def test_mail_queued_while_the_server_refuses_arrives_once_when_it_returns(
    app, world, smtp, therapist
):
    box, proxy = smtp
    proxy.set_mode("refuse")
    for number in range(3):
        therapist.post(
            "/api/patients",
            json={
                "name": f"P{number}",
                "email": f"p{number}@a.test",
                "timezone": "UTC",
            },
        )
    assert send_queued(app) == {"retry": 1}  # a refused connection ends the pass
    [first, *_rest] = outbox(app)
    assert first.status == "queued" and "ConnectionRefused" in first.last_error
    proxy.set_mode("pass")
    assert send_queued(app) == {"sent": 2}  # the first waits for its back-off
    assert send_queued(app, first.next_attempt_at) == {"sent": 1}
    assert send_queued(app, first.next_attempt_at + timedelta(hours=1)) == {}
    assert sorted(m["To"] for m in box) == ["p0@a.test", "p1@a.test", "p2@a.test"]
    assert {row.status for row in outbox(app)} == {"sent"}
    assert {row.message for row in outbox(app)} == {None}  # its link is gone


def test_security_mail_is_retried_for_a_day_then_failed_and_shown_to_the_admin(
    app, world, smtp, admin
):
    _box, proxy = smtp
    proxy.set_mode("refuse")
    ask_reset(app, EMAILS["therapist_a"])
    start = outbox(app)[0].created_at
    moment, passes = start, 0
    while outbox(app)[0].status == "queued":
        assert send_queued(app, moment) in ({"retry": 1}, {"failed": 1})
        moment, passes = outbox(app)[0].next_attempt_at, passes + 1
    [row] = outbox(app)
    assert row.status == "failed" and row.message is None
    assert moment - start >= timedelta(hours=23)  # tried for about a day
    assert 10 < passes < 60  # with back-off, not every minute
    state = admin.get("/api/clinic/mail").json
    assert (state["failed"], state["waiting"]) == (1, 0)
    [shown] = state["undelivered"]
    assert shown["to"] == EMAILS["therapist_a"] and shown["kind"] == "security"
    assert "ConnectionRefused" in shown["last_error"]
    # another clinic's admin sees none of it
    other = ApiClient(app.test_client()).login(EMAILS["admin_b"])
    assert other.get("/api/clinic/mail").json["undelivered"] == []


def test_a_reset_costs_the_same_for_any_email_and_mails_only_an_account(
    app, world, smtp
):
    box, _proxy = smtp
    ask_reset(app, "nobody@nowhere.test")
    ask_reset(app, EMAILS["patient_a"])
    # each request did the same thing: one row with the address, nothing else
    first, second = outbox(app)
    assert (first.message, second.message) == (None, None)
    assert (first.recipient_id, second.recipient_id) == (None, None)
    assert send_queued(app) == {"dropped": 1, "sent": 1}
    assert [m["To"] for m in box] == [EMAILS["patient_a"]]
    assert "#/reset/" in box.text(box[0])


def test_a_killed_workers_mail_is_sent_once_by_the_next(app, world, smtp, tmp_path):
    box, proxy = smtp
    ask_reset(app, EMAILS["patient_a"])
    proxy.set_mode("drop")  # the worker will hang in the greeting
    env = os.environ | {
        "HOMEWARD_ENV": "development",
        "SECRET_KEY": "a-worker-of-the-tests",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(proxy.port),
        "MAIL_USE_TLS": "0",
        "MAIL_TIMEOUT": "60",
    }
    worker = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker", "run-once", "mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1200):  # until it has claimed the row (at most 2 min)
            if outbox(app)[0].status == "sending" and proxy.accepted:
                break
            time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    [held] = outbox(app)
    assert held.status == "sending" and held.message is not None
    proxy.set_mode("pass")
    assert send_queued(app) == {}  # its lease still holds
    after_lease = held.next_attempt_at + timedelta(seconds=1)
    assert send_queued(app, after_lease) == {"sent": 1}
    assert send_queued(app, after_lease + timedelta(hours=1)) == {}
    assert [m["To"] for m in box] == [EMAILS["patient_a"]]


def test_a_patient_cannot_mail_bomb_their_therapist(app, world, smtp, patient):
    box, _proxy = smtp
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for number in range(60):
            sent = patient.post(
                f"/api/patients/{world.patient_a}/messages",
                json={"id": new_id(), "body": f"Message {number}"},
            )
            assert sent.status_code == 201
        assert send_queued(app) == {"sent": 1}
        clock.move_to(start + timedelta(minutes=5))
        patient.post(
            f"/api/patients/{world.patient_a}/messages",
            json={"id": new_id(), "body": "Still there?"},
        )
        assert send_queued(app) == {}  # waits for the quarter of an hour
        clock.move_to(start + timedelta(minutes=15, seconds=1))
        assert send_queued(app) == {"sent": 1}
    assert [m["To"] for m in box] == [EMAILS["therapist_a"]] * 2
    assert "Message" not in box.text(box[0])  # never the words


def test_healthz_says_how_long_the_oldest_unsent_mail_has_waited(app, world):
    client = app.test_client()
    assert client.get("/healthz").json["mail_oldest_unsent_seconds"] is None
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        ask_reset(app, EMAILS["patient_a"])
        clock.move_to(start + timedelta(minutes=7))
        assert client.get("/healthz").json["mail_oldest_unsent_seconds"] == 420


@pytest.fixture
def tls_smtp(app, tmp_path):
    """aiosmtpd offering STARTTLS, and another speaking implicit TLS, both
    with a certificate of a CA no system trusts (trustme)."""
    authority = trustme.CA()
    served = authority.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.configure_cert(context)
    box = Mailbox()
    starttls = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        ready_timeout=30,
    )
    implicit = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="127.0.0.1",
        ssl_context=context,
        ready_timeout=30,
    )
    starttls.start()
    implicit.start()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    try:
        yield box, starttls.port, implicit.port, str(ca_file)
    finally:
        app.config.update(
            MAIL_SERVER=None,
            MAIL_PORT=587,
            MAIL_USE_TLS=True,
            MAIL_USE_SSL=False,
            MAIL_CA_FILE=None,
        )
        starttls.stop()
        implicit.stop()


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_mail_goes_only_to_a_server_whose_certificate_verifies(
    app, world, tls_smtp, tls
):
    box, starttls_port, implicit_port, ca_file = tls_smtp
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=starttls_port if tls == "starttls" else implicit_port,
        MAIL_USE_TLS=tls == "starttls",
        MAIL_USE_SSL=tls == "implicit",
        MAIL_CA_FILE=None,
    )
    ask_reset(app, EMAILS["patient_a"])
    assert send_queued(app) == {"retry": 1}  # self-signed: refused
    [row] = outbox(app)
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert list(box) == []
    app.config["MAIL_CA_FILE"] = ca_file  # the clinic's own CA, configured
    assert send_queued(app, row.next_attempt_at) == {"sent": 1}
    assert [m["To"] for m in box] == [EMAILS["patient_a"]]


def test_the_hourly_sweep_sends_each_therapist_one_email_with_a_count(app, world, smtp):
    """Pain of 8 two days running (stored as an import or a restore would,
    without the arrival that judges it) is critical for each patient."""
    box, _proxy = smtp
    today = datetime.now(UTC).date()
    with app.app_context():
        third = add_patient(world.clinic_a, "pat3@a.test", world.therapist_a)
        for patient_id in (world.patient_a, world.patient_a2, third.id):
            for days_ago in (1, 0):
                db.session.add(
                    PainLog(
                        id=uuid.uuid4(),
                        patient_id=patient_id,
                        logged_on=today - timedelta(days=days_ago),
                        score=8,
                    )
                )
        db.session.commit()
        raised = alerts.sweep()
        waiting = db.session.scalar(select(func.count()).select_from(OutboxMail))
        db.session.remove()
    assert raised >= 3 and waiting == 2  # therapist_a (2 patients), therapist_a2
    assert send_queued(app) == {"sent": 2}
    [mine] = box.to(EMAILS["therapist_a"])
    assert mine["Subject"] == "2 patients need your attention"
    assert "2 patients need your attention." in box.text(mine)
    [theirs] = box.to(EMAILS["therapist_a2"])
    assert theirs["Subject"] == "A patient needs your attention"
