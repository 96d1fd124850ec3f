"""Fixtures: one app and one migrated database per test session, emptied after
every test; a small world of two clinics; API clients signed in as each role.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
to run everything on PostgreSQL instead of the SQLite file under instance/.
"""

import email
import os
import shutil
import uuid
from dataclasses import dataclass
from email import policy
from pathlib import Path

import flask_migrate
import pyotp
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import make_url, text

from backend import create_app, mail, worker
from backend.extensions import db, limiter
from backend.models import Clinic, PatientProfile, User
from backend.models.oversight import APPEND_ONLY
from backend.push import public_key as vapid_public_key
from backend.services.library import sync_library
from config import TestConfig
from tests.push_service import PushService
from tests.serving import free_port
from tests.tcp_proxy import TcpProxy

PASSWORD = "correct-horse-battery"
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_collection_modifyitems(items):
    """tests/browser/ is marked `browser`; browser, serving and fuzz tests are
    all `slow`, so `pytest -m "not slow"` is the quick loop."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if any(
            item.get_closest_marker(kind) for kind in ("browser", "serving", "fuzz")
        ):
            item.add_marker(pytest.mark.slow)


def _empty_database(url: str) -> None:
    """Drop whatever a previous run left, so migrations start from nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    config = TestConfig()
    if not os.environ.get("TEST_DATABASE_URL"):  # a file of this run's own
        config.SQLALCHEMY_DATABASE_URI = (
            f"sqlite:///{tmp_path_factory.mktemp('db') / 'homeward-test.db'}"
        )
    config.MEDIA_DIR = str(tmp_path_factory.mktemp("media"))  # this run's own
    app = create_app(config)
    with app.app_context():
        _empty_database(app.config["SQLALCHEMY_DATABASE_URI"])
        db.session.remove()
        db.engine.dispose()
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(app):
    """make_app(**settings) → another app on the same database (as another host
    would be), its connections closed after the test."""
    made = []

    def make(**overrides):
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        for name, value in overrides.items():
            setattr(config, name, value)
        made.append(create_app(config))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def empty_tables() -> None:
    """Delete every row, the append-only audit trail's too (its triggers are
    lifted for the moment, as only a test's own database may)."""
    create, drop = APPEND_ONLY[db.session.get_bind().dialect.name]
    for statement in drop:
        db.session.execute(text(statement))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    for statement in create:
        db.session.execute(text(statement))
    db.session.commit()


@pytest.fixture(autouse=True)
def _fresh_data(request, app):
    """Every test starts from empty tables, no media files and fresh rate limits."""
    yield
    with app.app_context():
        db.session.rollback()
        empty_tables()
    shutil.rmtree(app.config["MEDIA_DIR"], ignore_errors=True)
    limiter.reset()


class Mailbox(list):
    """Messages an in-process SMTP server (aiosmtpd) received, oldest first.

    Requests only queue mail (backend/mail.py); reading the mailbox first
    makes one pass of the outbox, as the running worker would, so a test
    reads what has been delivered by then. `Mailbox(app=None)` (no pass) is
    for the outbox's own tests, which run the worker themselves."""

    def __init__(self, app=None):
        super().__init__()
        self.app = app

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd)
        self.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def deliver(self) -> None:
        if self.app is not None:
            with self.app.app_context():
                mail.send_queued()
                db.session.remove()

    def __len__(self):
        self.deliver()
        return super().__len__()

    def __iter__(self):
        self.deliver()
        return super().__iter__()

    def __getitem__(self, index):
        self.deliver()
        return super().__getitem__(index)

    def __bool__(self):
        return len(self) > 0

    def __eq__(self, other):
        self.deliver()
        return super().__eq__(other)

    def text(self, message) -> str:
        return message.get_body(("plain",)).get_content()

    def link(self, message, marker: str) -> str:
        """The first URL in the plain-text body that contains `marker`."""
        [found] = [word for word in self.text(message).split() if marker in word][
            :1
        ] or [None]
        assert found, self.text(message)
        return found

    def to(self, address: str) -> list:
        return [m for m in self if m["To"] == address]


@pytest.fixture
def mailbox(app):
    """A real SMTP server on a free port that the app sends its mail to."""
    box = Mailbox(app)
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False
    )
    try:
        yield box
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=587, MAIL_USE_TLS=True)
        controller.stop()


@pytest.fixture
def smtp(app):
    """aiosmtpd behind a proxy the test switches (tests/tcp_proxy.py): the
    app sends through the proxy. The mailbox is read raw: only the test (or
    the worker it starts) sends the outbox."""
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=free_port(), ready_timeout=30
    )
    controller.start()
    proxy = TcpProxy("127.0.0.1", controller.port)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=proxy.port, MAIL_USE_TLS=False)
    try:
        yield box, proxy
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=587, MAIL_USE_TLS=True)
        proxy.close()
        controller.stop()


@pytest.fixture
def push(app):
    """A local Web Push service (tests/push_service.py) that checks the VAPID
    signature and decrypts what the app sends. Reading `received` first runs
    the worker's push task once (queued notices go, as the running worker
    would have sent them by then); `arrived_so_far` reads without it."""
    with app.app_context():
        key = vapid_public_key()
    with PushService(key, deliver=lambda: worker.run_once(app, "push")) as service:
        yield service


@pytest.fixture
def ctx(app):
    """An app context for tests that read or write the database directly."""
    with app.app_context():
        yield
        db.session.remove()


class ApiClient:
    """The Flask test client plus the CSRF header on writes, as the PWA sends it."""

    def __init__(self, client):
        self.client = client
        self.csrf_token = client.get("/api/auth/csrf").json["csrf_token"]
        self.user = None

    def _send(self, method, path, csrf=True, headers=None, **kwargs):
        headers = dict(headers or {})
        if csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf_token
        # buffered: read whole and closed (a file sent from disk included)
        kwargs.setdefault("buffered", True)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self._send("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self._send("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self._send("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self._send("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self._send("DELETE", path, **kwargs)

    def login(self, email, password=PASSWORD, totp_secret=None):
        """Sign in; with `totp_secret`, the second step too (a code from pyotp)."""
        response = self.post(
            "/api/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.json
        self.csrf_token = response.json["csrf_token"]
        if totp_secret is not None:
            assert response.json["second_factor"] == "totp", response.json
            response = self.post(
                "/api/auth/totp", json={"code": pyotp.TOTP(totp_secret).now()}
            )
            assert response.status_code == 200, response.json
            self.csrf_token = response.json["csrf_token"]
        self.user = response.json["user"]
        return self


@dataclass
class World:
    """Two clinics. In clinic A: an admin, two therapists, a patient of each.
    In clinic B: an admin, a therapist, a patient."""

    clinic_a: int
    clinic_b: int
    admin_a: int
    therapist_a: int
    therapist_a2: int
    patient_a: int
    patient_a2: int
    admin_b: int
    therapist_b: int
    patient_b: int


def add_user(clinic_id, email, role, name=None, password_hash=None):
    user = User(
        clinic_id=clinic_id,
        email=email,
        name=name or email.split("@")[0],
        role=role,
        password_hash=password_hash,
    )
    db.session.add(user)
    db.session.flush()
    return user


def add_patient(
    clinic_id, email, therapist_id, timezone="Europe/London", password_hash=None
):
    patient = add_user(clinic_id, email, "patient", password_hash=password_hash)
    patient.profile = PatientProfile(therapist_id=therapist_id, timezone=timezone)
    db.session.flush()
    return patient


@pytest.fixture
def world(app):
    with app.app_context():
        sync_library()
        hashed = app.extensions["homeward_passwords"].hash(PASSWORD)
        clinic_a, clinic_b = Clinic(name="Clinic A"), Clinic(name="Clinic B")
        db.session.add_all([clinic_a, clinic_b])
        db.session.flush()
        admin_a = add_user(clinic_a.id, "admin@a.test", "admin", password_hash=hashed)
        therapist_a = add_user(
            clinic_a.id, "ther@a.test", "therapist", password_hash=hashed
        )
        therapist_a2 = add_user(
            clinic_a.id, "ther2@a.test", "therapist", password_hash=hashed
        )
        patient_a = add_patient(
            clinic_a.id, "pat@a.test", therapist_a.id, password_hash=hashed
        )
        patient_a2 = add_patient(
            clinic_a.id, "pat2@a.test", therapist_a2.id, password_hash=hashed
        )
        admin_b = add_user(clinic_b.id, "admin@b.test", "admin", password_hash=hashed)
        therapist_b = add_user(
            clinic_b.id, "ther@b.test", "therapist", password_hash=hashed
        )
        patient_b = add_patient(
            clinic_b.id, "pat@b.test", therapist_b.id, password_hash=hashed
        )
        db.session.commit()
        world = World(
            clinic_a.id,
            clinic_b.id,
            admin_a.id,
            therapist_a.id,
            therapist_a2.id,
            patient_a.id,
            patient_a2.id,
            admin_b.id,
            therapist_b.id,
            patient_b.id,
        )
        db.session.remove()
    return world


EMAILS = {
    "admin_a": "admin@a.test",
    "therapist_a": "ther@a.test",
    "therapist_a2": "ther2@a.test",
    "patient_a": "pat@a.test",
    "patient_a2": "pat2@a.test",
    "admin_b": "admin@b.test",
    "therapist_b": "ther@b.test",
    "patient_b": "pat@b.test",
}


@pytest.fixture
def anonymous(app):
    return ApiClient(app.test_client())


@pytest.fixture
def signed_in(app, world):
    """signed_in("therapist_a") → an ApiClient signed in as that person of the world."""

    def sign_in(who):
        return ApiClient(app.test_client()).login(EMAILS[who])

    return sign_in


@pytest.fixture
def patient(signed_in):
    return signed_in("patient_a")


@pytest.fixture
def therapist(signed_in):
    return signed_in("therapist_a")


@pytest.fixture
def admin(signed_in):
    return signed_in("admin_a")


def new_id() -> str:
    return str(uuid.uuid4())


def exercise_id(client, name_part="knee-to-chest") -> int:
    """The id of the shipped exercise whose name starts with `name_part`."""
    found = client.get("/api/exercises", query_string={"q": name_part}).json
    [match] = [e for e in found if e["name"].lower().startswith(name_part.lower())]
    return match["id"]


def prescribe(therapist_client, patient_id, items, **extra):
    response = therapist_client.put(
        f"/api/patients/{patient_id}/programme", json={"items": items, **extra}
    )
    assert response.status_code == 201, response.json
    return response.json


def item(exercise, times=1, days=None, **dose):
    return {
        "exercise_id": exercise,
        "sets": dose.get("sets", 1),
        "reps": dose.get("reps", 10),
        "hold_seconds": dose.get("hold_seconds", 0),
        "times_per_day": times,
        "days_of_week": days if days is not None else [0, 1, 2, 3, 4, 5, 6],
        "notes": dose.get("notes", ""),
    }
