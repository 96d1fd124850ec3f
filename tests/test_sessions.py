"""Server-side sessions: sign-out, deactivation and expiry end them for good."""

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import User, UserSession
from tests.conftest import EMAILS, PASSWORD, ApiClient


def session_count(app, user_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).where(UserSession.user_id == user_id)
        )
        db.session.remove()
        return count


def copy_of(app, client: ApiClient) -> ApiClient:
    """Another browser holding a copy of `client`'s session cookie."""
    thief = ApiClient(app.test_client())
    cookie = client.client.get_cookie("homeward_session")
    thief.client.set_cookie("homeward_session", cookie.value)
    thief.csrf_token = client.csrf_token
    return thief


def test_the_cookie_holds_only_a_token_whose_hash_is_stored(app, world, patient):
    token = patient.client.get_cookie("homeward_session").value
    assert len(token) >= 40 and "." not in token  # random, not signed data
    with app.app_context():
        [row] = db.session.scalars(select(UserSession)).all()
        assert row.user_id == world.patient_a
        assert row.token_hash != token and len(row.token_hash) == 64


def test_a_cookie_copied_before_sign_out_gets_401_after_it(app, world, patient):
    thief = copy_of(app, patient)
    routine = f"/api/patients/{world.patient_a}/routine"
    assert thief.get(routine).status_code == 200
    assert patient.post("/api/auth/logout").status_code == 204
    assert thief.get(routine).status_code == 401
    assert thief.get("/api/auth/me").status_code == 401
    assert session_count(app, world.patient_a) == 0


def test_reactivation_does_not_revive_old_sessions(app, world, admin, therapist):
    staff = f"/api/staff/{world.therapist_a}"
    assert admin.patch(staff, json={"active": False}).status_code == 200
    assert session_count(app, world.therapist_a) == 0
    assert admin.patch(staff, json={"active": True}).status_code == 200
    assert therapist.get("/api/patients").status_code == 401
    fresh = ApiClient(app.test_client()).login(EMAILS["therapist_a"])
    assert fresh.get("/api/patients").status_code == 200


def test_a_patient_session_runs_out_after_30_idle_days(app, world):
    with time_machine.travel("2026-05-01 09:00Z", tick=False) as clock:
        patient = ApiClient(app.test_client()).login(EMAILS["patient_a"])
        clock.shift(timedelta(days=29, hours=23))
        assert patient.get("/api/auth/me").status_code == 200  # and seen again
        clock.shift(timedelta(days=29, hours=23))
        assert patient.get("/api/auth/me").status_code == 200
        clock.shift(timedelta(days=30))
        assert patient.get("/api/auth/me").status_code == 401
    assert session_count(app, world.patient_a) == 0


def test_a_staff_session_runs_out_after_30_idle_minutes_and_12_hours(app, world):
    with time_machine.travel("2026-05-01 08:00Z", tick=False) as clock:
        therapist = ApiClient(app.test_client()).login(EMAILS["therapist_a"])
        clock.shift(timedelta(minutes=29))
        assert therapist.get("/api/patients").status_code == 200
        clock.shift(timedelta(minutes=31))
        assert therapist.get("/api/patients").status_code == 401

        therapist = ApiClient(app.test_client()).login(EMAILS["therapist_a"])
        for _ in range(28):  # busy all day, never idle for long: 11 h 40 min
            clock.shift(timedelta(minutes=25))
            assert therapist.get("/api/patients").status_code == 200
        clock.shift(timedelta(minutes=25))  # 12 h 5 min after signing in
        assert therapist.get("/api/patients").status_code == 401


def test_limits_are_settings(make_app, world):
    app = make_app(
        SESSION_LIMITS={
            "staff": (timedelta(minutes=5), timedelta(hours=1)),
            "patient": (timedelta(minutes=5), timedelta(hours=1)),
        }
    )
    with time_machine.travel("2026-05-01 08:00Z", tick=False) as clock:
        patient = ApiClient(app.test_client()).login(EMAILS["patient_a"])
        clock.shift(timedelta(minutes=6))
        assert patient.get("/api/auth/me").status_code == 401


def test_a_deactivated_patient_is_signed_out_on_their_next_request(app, world, patient):
    routine = f"/api/patients/{world.patient_a}/routine"
    assert patient.get(routine).status_code == 200
    with app.app_context():
        db.session.get(User, world.patient_a).active = False
        db.session.commit()
    assert patient.get(routine).status_code == 401


def test_sign_in_records_the_device_and_address(app, world):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
    )
    ApiClient(client).login(EMAILS["patient_a"], PASSWORD)
    with app.app_context():
        [row] = db.session.scalars(select(UserSession)).all()
        assert row.device == "Chrome Mobile on Android"
        assert row.address == "127.0.0.1"


def test_devices_list_and_ending_one_of_them(app, world):
    phone = ApiClient(app.test_client())
    phone.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    phone.login(EMAILS["patient_a"])
    laptop = ApiClient(app.test_client()).login(EMAILS["patient_a"])
    listed = laptop.get("/api/auth/sessions").json
    assert len(listed) == 2
    [mine] = [s for s in listed if s["current"]]
    [other] = [s for s in listed if not s["current"]]
    assert other["device"] == "Mobile Safari on iOS"
    assert set(other) == {
        "id",
        "device",
        "address",
        "created_at",
        "last_seen_at",
        "current",
    }

    assert laptop.delete(f"/api/auth/sessions/{other['id']}").status_code == 204
    assert phone.get("/api/auth/me").status_code == 401
    assert [s["id"] for s in laptop.get("/api/auth/sessions").json] == [mine["id"]]


def test_a_session_of_someone_else_is_a_404(app, world, patient, signed_in):
    other = signed_in("patient_a2")
    [theirs] = other.get("/api/auth/sessions").json
    assert patient.delete(f"/api/auth/sessions/{theirs['id']}").status_code == 404
    assert other.get("/api/auth/me").status_code == 200


def test_sign_out_everywhere_ends_every_session(app, world, patient):
    second = ApiClient(app.test_client()).login(EMAILS["patient_a"])
    assert patient.post("/api/auth/logout-everywhere").status_code == 204
    assert patient.get("/api/auth/me").status_code == 401
    assert second.get("/api/auth/me").status_code == 401
    assert session_count(app, world.patient_a) == 0


def test_sign_out_tells_the_browser_to_clear_its_cookies(world, patient):
    response = patient.post("/api/auth/logout")
    assert response.status_code == 204
    assert response.headers["Clear-Site-Data"] == '"cookies"'


def test_behind_one_proxy_hop_the_forwarded_address_is_the_clients(make_app, world):
    """PROXY_FIX_HOPS=1: the address nginx puts in X-Forwarded-For is the
    client's, for sign-in limits and the devices list."""
    app = make_app(PROXY_FIX_HOPS=1)
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    client = app.test_client()
    csrf = client.get("/api/auth/csrf", headers=forwarded).json["csrf_token"]
    signed = client.post(
        "/api/auth/login",
        json={"email": EMAILS["patient_a"], "password": PASSWORD},
        headers=forwarded | {"X-CSRF-Token": csrf, "Referer": "https://localhost/"},
    )
    assert signed.status_code == 200, signed.json
    cookies = signed.headers.getlist("Set-Cookie")
    assert any(c.startswith("__Host-homeward_session=") for c in cookies)  # https
    with app.app_context():
        [row] = db.session.scalars(select(UserSession)).all()
        assert row.address == "203.0.113.9"
        db.session.remove()

    direct = make_app()  # no proxy trusted: the header is the client's word only
    client = direct.test_client()
    csrf = client.get("/api/auth/csrf").json["csrf_token"]
    client.post(
        "/api/auth/login",
        json={"email": EMAILS["patient_a"], "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.1", "X-CSRF-Token": csrf},
    )
    with direct.app_context():
        addresses = set(db.session.scalars(select(UserSession.address)))
        db.session.remove()
    assert addresses == {"203.0.113.9", "127.0.0.1"}


def test_a_blocked_sign_in_is_audited_for_the_targets_clinic(app, world, admin):
    for _ in range(6):
        ApiClient(app.test_client()).post(
            "/api/auth/login",
            json={"email": EMAILS["patient_a"], "password": "nope-nope"},
        )
    events = admin.get("/api/audit").json
    blocked = [e for e in events if e["action"] == "auth.login_blocked"]
    assert blocked and blocked[0]["actor_email"] == EMAILS["patient_a"]
    assert blocked[0]["status"] == 429
