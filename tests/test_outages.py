"""Outages: the database or Redis cut off by a proxy the test controls
(tests/tcp_proxy.py), refusing connections or dropping them into a black hole.

Every request answers within the configured timeouts (a 503 with Retry-After
when the database is gone; sign-in still works when Redis is), /healthz and
/readyz tell the truth, and the app recovers by itself once the network does.
"""

import logging
import time
import uuid

import pytest
from sqlalchemy import make_url

from backend.extensions import limiter
from tests.conftest import EMAILS, PASSWORD, ApiClient
from tests.tcp_proxy import TcpProxy

ANSWER_WITHIN = 8  # seconds: a bound on hanging (the timeouts are 1-3 s), not speed
REDIS = "redis://127.0.0.1:6379/0"
NO_MAIL_WAITING = {"mail_oldest_unsent_seconds": None}
UNAVAILABLE = {
    "code": 503,
    "status": "Service Unavailable",
    "message": "Homeward is briefly unavailable: try again in a moment.",
}


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def wait_for(predicate, seconds=15):
    """Polls `predicate` until it is true: the app's own recovery, not a reset."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


# -- PostgreSQL cut off -------------------------------------------------------


@pytest.fixture
def database_behind_proxy(app, make_app, world):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("a database server to cut off: set TEST_DATABASE_URL to PostgreSQL")
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    try:
        yield (
            proxy,
            make_app(
                SQLALCHEMY_DATABASE_URI=proxied.render_as_string(hide_password=False),
                DB_CONNECT_TIMEOUT=2,
                PROPAGATE_EXCEPTIONS=False,  # as in production: errors get answers
            ),
        )
    finally:
        proxy.close()


def outage_answers(proxied_app, therapist, patient):
    """(status, seconds, body) of a read, a write, /healthz and /readyz."""
    calls = {
        "read": lambda: therapist.get("/api/patients"),
        "write": lambda: therapist.post(
            "/api/patients",
            json={"name": "Nia Jones", "email": "nia@a.test", "timezone": "UTC"},
        ),
        "patient": lambda: patient.get("/api/auth/me"),
        "healthz": lambda: proxied_app.test_client().get("/healthz"),
        "readyz": lambda: proxied_app.test_client().get("/readyz"),
    }
    answers = {}
    for name, call in calls.items():
        response, seconds = timed(call)
        answers[name] = (response.status_code, seconds, response)
    return answers


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_without_the_database_every_request_is_a_quick_503_and_then_recovers(
    database_behind_proxy, mode
):
    proxy, proxied_app = database_behind_proxy
    therapist = ApiClient(proxied_app.test_client()).login(EMAILS["therapist_a"])
    patient = ApiClient(proxied_app.test_client()).login(EMAILS["patient_a"])
    assert therapist.get("/api/patients").status_code == 200

    # a userspace proxy cannot make the kernel's tcp_user_timeout fire on an
    # open connection (tests/tcp_proxy.py): those are cut, new ones vanish
    proxy.set_mode(mode, existing="close")
    answers = outage_answers(proxied_app, therapist, patient)
    for name, (status, seconds, response) in answers.items():
        assert status == 503, (name, response.json)
        assert seconds < ANSWER_WITHIN, (name, seconds)
        if name in ("read", "write", "patient"):
            assert response.json == UNAVAILABLE
            assert response.headers["Retry-After"] == "5"
    assert answers["healthz"][2].json["database"] == "down"
    print(mode, {name: round(answer[1], 2) for name, answer in answers.items()})

    proxy.set_mode("pass")
    assert wait_for(lambda: therapist.get("/api/patients").status_code == 200)
    assert proxied_app.test_client().get("/readyz").status_code == 200
    health = proxied_app.test_client().get("/healthz")
    assert health.status_code == 200 and health.json["database"] == "ok"


def test_a_database_outage_is_a_503_on_sqlite_too(make_app, world, tmp_path):
    """No server to cut on SQLite: a database file that cannot be opened is the
    outage, and it gets the same answer as PostgreSQL's."""
    missing = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/none/x.db",
        PROPAGATE_EXCEPTIONS=False,
    )
    client = ApiClient(missing.test_client())
    health, ready = client.get("/healthz"), client.get("/readyz")
    assert health.status_code == 503 and health.json["database"] == "down"
    assert ready.status_code == 503
    for response in (
        client.post("/api/auth/login", json={"email": "pat@a.test", "password": "x"}),
        client.get("/api/patients", headers={"Cookie": "session=forged"}),
    ):
        assert response.status_code in (401, 503), response.json
    response = client.post(
        "/api/auth/login", json={"email": "pat@a.test", "password": PASSWORD}
    )
    assert response.status_code == 503 and response.json == UNAVAILABLE
    assert response.headers["Retry-After"] == "5"


# -- Redis cut off ------------------------------------------------------------


@pytest.fixture
def redis_behind_proxy(make_app, world):
    proxy = TcpProxy("127.0.0.1", 6379)
    try:
        proxied_app = make_app(
            RATELIMIT_STORAGE_URI=proxy.url_for(REDIS),
            RATELIMIT_KEY_PREFIX=f"homeward-test-{uuid.uuid4().hex}",
        )
        assert type(limiter.storage).__name__ == "RedisStorage"
        if not limiter.storage.check():
            pytest.fail("Redis must run on 127.0.0.1:6379 (see .ci/run)")
        yield proxy, proxied_app
    finally:
        proxy.close()
        make_app()  # back to in-memory limits for the rest of the run


def sign_in(proxied_app):
    client = ApiClient(proxied_app.test_client())
    return client.post(
        "/api/auth/login", json={"email": EMAILS["patient_a"], "password": PASSWORD}
    )


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_without_redis_sign_in_works_on_in_memory_limits_and_then_recovers(
    redis_behind_proxy, mode
):
    proxy, proxied_app = redis_behind_proxy
    assert sign_in(proxied_app).status_code == 200
    health = proxied_app.test_client().get("/healthz")
    assert health.json == {"database": "ok", "redis": "ok", **NO_MAIL_WAITING}

    proxy.set_mode(mode)  # a black hole freezes open connections too
    timings = []
    for _attempt in range(6):  # six sign-ins froze an instance before
        response, seconds = timed(lambda: sign_in(proxied_app))
        assert response.status_code == 200, response.json
        assert seconds < ANSWER_WITHIN
        timings.append(round(seconds, 2))
    wrong, _ = timed(
        lambda: ApiClient(proxied_app.test_client()).post(
            "/api/auth/login", json={"email": EMAILS["patient_a"], "password": "nope"}
        )
    )
    assert wrong.status_code == 401  # still counted, in this process's memory
    health, seconds = timed(lambda: proxied_app.test_client().get("/healthz"))
    assert seconds < ANSWER_WITHIN
    assert health.status_code == 200
    assert health.json == {"database": "ok", "redis": "degraded", **NO_MAIL_WAITING}
    assert proxied_app.test_client().get("/readyz").status_code == 200
    print(mode, "sign-in seconds", timings, "healthz", round(seconds, 2))

    proxy.set_mode("pass")
    assert wait_for(
        lambda: proxied_app.test_client().get("/healthz").json["redis"] == "ok"
    )
    # the limiter goes back to Redis by itself (it probes with a backoff)
    assert wait_for(
        lambda: (
            sign_in(proxied_app).status_code == 200
            and type(limiter.limiter.storage).__name__ == "RedisStorage"
        ),
        seconds=40,
    )


def test_each_503_logs_one_warning_and_no_traceback(
    database_behind_proxy, caplog, monkeypatch
):
    # migrations' logging config (fileConfig) disabled the loggers that existed
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
    proxy, proxied_app = database_behind_proxy
    therapist = ApiClient(proxied_app.test_client()).login(EMAILS["therapist_a"])
    proxy.set_mode("refuse", existing="close")
    for call in (
        lambda: therapist.get("/api/patients"),
        lambda: therapist.post("/api/patients", json={"name": "Nia Jones"}),
    ):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert call().status_code == 503
        logged = [(r.name, r.levelname, r.getMessage()[:80]) for r in caplog.records]
        assert [r.levelname for r in caplog.records] == ["WARNING"], logged
        assert not [r for r in caplog.records if r.exc_info or r.exc_text], logged
    proxy.set_mode("pass")
