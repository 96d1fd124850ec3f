"""Two-step sign-in for staff: TOTP enrolment, codes, replays, recovery codes,
an admin's reset of a lost phone, and patients who opt in."""

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pyotp
import pytest
import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from backend.extensions import db
from backend.models import AuditEvent, Clinic, RecoveryCode, User, UserSession
from tests.conftest import EMAILS, PASSWORD, ApiClient


@pytest.fixture(autouse=True)
def second_factor_on(app):
    """Staff need a second factor here, as in production."""
    app.config["SECOND_FACTOR_FOR_STAFF"] = True
    yield
    app.config["SECOND_FACTOR_FOR_STAFF"] = False


def password_step(app, email: str) -> tuple[ApiClient, dict]:
    client = ApiClient(app.test_client())
    response = client.post(
        "/api/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.json
    client.csrf_token = response.json["csrf_token"]
    return client, response.json


def enrol(client: ApiClient) -> tuple[str, list[str]]:
    """Set up TOTP on this half-signed-in client; (secret, recovery codes)."""
    enrolment = client.post("/api/auth/totp/enrol")
    assert enrolment.status_code == 200, enrolment.json
    secret = enrolment.json["secret"]
    assert enrolment.json["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in enrolment.json["otpauth_uri"]
    assert enrolment.json["qr_svg"].startswith("<svg")
    confirmed = client.post(
        "/api/auth/totp/enrol/confirm", json={"code": pyotp.TOTP(secret).now()}
    )
    assert confirmed.status_code == 200, confirmed.json
    client.csrf_token = confirmed.json["csrf_token"]
    return secret, confirmed.json["recovery_codes"]


def test_an_admin_must_enrol_and_then_signs_in_with_a_code(app, world):
    client, first = password_step(app, EMAILS["admin_a"])
    assert first == {"second_factor": "enrol", "csrf_token": first["csrf_token"]}
    assert client.get("/api/patients").status_code == 401  # only half signed in
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/api/patients").status_code == 200

    with time_machine.travel(timedelta(seconds=60)):
        again, step = password_step(app, EMAILS["admin_a"])
        assert step["second_factor"] == "totp"
        assert again.get("/api/auth/me").status_code == 401
        code = pyotp.TOTP(secret).now()
        signed = again.post("/api/auth/totp", json={"code": code})
        assert signed.status_code == 200
        assert signed.json["user"]["email"] == EMAILS["admin_a"]
        again.csrf_token = signed.json["csrf_token"]
        assert again.get("/api/patients").status_code == 200


def cookie_expires(response) -> datetime:
    [cookie] = [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith("homeward_session=")
    ]
    [expires] = [part for part in cookie.split("; ") if part.startswith("Expires=")]
    return parsedate_to_datetime(expires.removeprefix("Expires="))


def test_the_cookie_lasts_as_long_as_the_session_once_the_second_step_is_done(
    app, world
):
    """The password step's cookie lasts the few minutes of the half-signed
    session; after the code it must last the staff session's hours, or the
    browser drops it while the session still lives."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    full = app.config["SESSION_LIMITS"]["staff"][1]
    with time_machine.travel(now, tick=False):
        client = ApiClient(app.test_client())
        half = client.post(
            "/api/auth/login",
            json={"email": EMAILS["admin_a"], "password": PASSWORD},
        )
        assert cookie_expires(half) == now + timedelta(minutes=10)
        client.csrf_token = half.json["csrf_token"]
        secret = client.post("/api/auth/totp/enrol").json["secret"]
        enrolled = client.post(
            "/api/auth/totp/enrol/confirm", json={"code": pyotp.TOTP(secret).now()}
        )
        assert enrolled.status_code == 200
        assert cookie_expires(enrolled) == now + full
    later = now + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        again, _ = password_step(app, EMAILS["admin_a"])
        signed = again.post("/api/auth/totp", json={"code": pyotp.TOTP(secret).now()})
        assert signed.status_code == 200
        assert cookie_expires(signed) == later + full
        again.csrf_token = signed.json["csrf_token"]
        assert again.get("/api/patients").status_code == 200  # the same token


def test_a_code_is_never_accepted_twice(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _codes = enrol(client)  # its code is used now
    with time_machine.travel(timedelta(seconds=45)):
        code = pyotp.TOTP(secret).now()
        first, _ = password_step(app, EMAILS["admin_a"])
        assert first.post("/api/auth/totp", json={"code": code}).status_code == 200
        replay, _ = password_step(app, EMAILS["admin_a"])
        refused = replay.post("/api/auth/totp", json={"code": code})
        assert refused.status_code == 401
        assert replay.get("/api/auth/me").status_code == 401


def test_codes_one_step_either_side_are_accepted_but_not_two(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _codes = enrol(client)
    totp = pyotp.TOTP(secret)
    with time_machine.travel(timedelta(minutes=5), tick=False):
        now = time.time()
        late, _ = password_step(app, EMAILS["admin_a"])
        too_old = totp.at(now - 60)
        assert late.post("/api/auth/totp", json={"code": too_old}).status_code == 401
        just_old = totp.at(now - 30)
        assert late.post("/api/auth/totp", json={"code": just_old}).status_code == 200


def test_a_wrong_code_is_refused_and_audited(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    enrol(client)
    with time_machine.travel(timedelta(seconds=60)):
        other, _ = password_step(app, EMAILS["admin_a"])
        assert other.post("/api/auth/totp", json={"code": "000000"}).status_code == 401
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_email == EMAILS["admin_a"])
        ).all()
    assert "auth.totp_failed" in actions


def wrong(secret: str) -> str:
    """A 6-digit code that is none of the codes accepted now."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + 30 * step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)


def test_a_half_signed_session_ends_after_five_wrong_codes_from_one_prefix(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _codes = enrol(client)
    with time_machine.travel(timedelta(seconds=60)):
        guesser, _ = password_step(app, EMAILS["admin_a"])
        for n in range(5):
            refused = guesser.post(
                "/api/auth/totp",
                json={"code": wrong(secret)},
                environ_base={"REMOTE_ADDR": f"2001:db8:7:8::{n + 1}"},
            )
            assert refused.status_code == 401
        assert refused.json["message"] == "Too many wrong codes. Sign in again."
        guesser.csrf_token = guesser.get("/api/auth/csrf").json["csrf_token"]
        right = guesser.post(
            "/api/auth/totp",
            json={"code": pyotp.TOTP(secret).now()},
            environ_base={"REMOTE_ADDR": "2001:db8:7:8::99"},
        )
        assert right.status_code == 401  # back to the password
        assert "email and password first" in right.json["message"]
    with app.app_context():
        waiting = db.session.scalars(
            select(UserSession).where(UserSession.second_factor.is_not(None))
        ).all()
        assert waiting == []


def test_ten_wrong_codes_pause_the_accounts_second_step_and_tell_its_owner(
    app, world, mailbox
):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _codes = enrol(client)
    with time_machine.travel(timedelta(seconds=60)):
        for attempt in range(2):
            guesser, _ = password_step(app, EMAILS["admin_a"])
            for n in range(5):
                refused = guesser.post(
                    "/api/auth/totp",
                    json={"code": wrong(secret)},
                    environ_base={"REMOTE_ADDR": f"10.{attempt}.{n}.1"},
                )
                assert refused.status_code == 401
        owner, _ = password_step(app, EMAILS["admin_a"])
        paused = owner.post(
            "/api/auth/totp",
            json={"code": pyotp.TOTP(secret).now()},
            environ_base={"REMOTE_ADDR": "192.0.2.44"},
        )
        assert paused.status_code == 429
        assert 1 <= int(paused.headers["Retry-After"]) <= 15 * 60
        [notice] = [  # queued on the travelled clock: the worker sends it then
            m
            for m in mailbox.to(EMAILS["admin_a"])
            if "wrong sign-in codes" in m["Subject"]
        ]
    with time_machine.travel(timedelta(minutes=16)):
        later, _ = password_step(app, EMAILS["admin_a"])
        code = pyotp.TOTP(secret).now()
        assert later.post("/api/auth/totp", json={"code": code}).status_code == 200


def test_codes_without_a_half_signed_session_count_against_no_one(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _codes = enrol(client)
    stranger = ApiClient(app.test_client())
    for _ in range(10):
        cold = stranger.post("/api/auth/totp", json={"code": "123456"})
        assert cold.status_code == 401
    with time_machine.travel(timedelta(seconds=60)):
        staff, _ = password_step(app, EMAILS["admin_a"])
        code = pyotp.TOTP(secret).now()
        assert staff.post("/api/auth/totp", json={"code": code}).status_code == 200


def test_a_recovery_code_works_once(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    _secret, codes = enrol(client)
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
    assert not any(code in h for code in codes for h in stored)
    lost_phone, _ = password_step(app, EMAILS["admin_a"])
    used = lost_phone.post("/api/auth/totp", json={"code": codes[3].upper()})
    assert used.status_code == 200
    again, _ = password_step(app, EMAILS["admin_a"])
    assert again.post("/api/auth/totp", json={"code": codes[3]}).status_code == 401


def test_an_admin_resets_a_therapists_lost_second_factor(app, world, signed_in):
    therapist, _ = password_step(app, EMAILS["therapist_a"])
    enrol(therapist)
    admin, _ = password_step(app, EMAILS["admin_a"])
    enrol(admin)
    reset = admin.post(f"/api/staff/{world.therapist_a}/reset-second-factor")
    assert reset.status_code == 204
    assert therapist.get("/api/patients").status_code == 401  # signed out
    back, step = password_step(app, EMAILS["therapist_a"])
    assert step["second_factor"] == "enrol"  # enrols again
    enrol(back)
    assert back.get("/api/patients").status_code == 200
    with app.app_context():
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.reset_second_factor")
        ).all()
        assert (event.target_type, event.target_id) == ("user", str(world.therapist_a))


def test_only_an_admin_of_the_clinic_resets_a_second_factor(app, world, signed_in):
    path = f"/api/staff/{world.therapist_a}/reset-second-factor"
    assert signed_in("patient_a").post(path).status_code == 403
    for outsider in ("admin_b",):
        client, _ = password_step(app, EMAILS[outsider])
        enrol(client)
        assert client.post(path).status_code == 404


def test_a_clinic_may_let_its_therapists_sign_in_with_a_password(app, world):
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).require_therapist_mfa = False
        db.session.commit()
    client, step = password_step(app, EMAILS["therapist_a"])
    assert step["user"]["email"] == EMAILS["therapist_a"]
    assert client.get("/api/patients").status_code == 200
    _admin, admin_step = password_step(app, EMAILS["admin_a"])
    assert admin_step["second_factor"] == "enrol"  # admins always


def test_a_patient_may_opt_in_and_then_needs_a_code(app, world, patient):
    assert patient.post("/api/auth/totp/enrol/confirm", json={"code": "1"}).status_code
    secret, codes = enrol(patient)
    assert len(codes) == 10
    with time_machine.travel(timedelta(seconds=60)):
        client, step = password_step(app, EMAILS["patient_a"])
        assert step["second_factor"] == "totp"
        code = pyotp.TOTP(secret).now()
        assert client.post("/api/auth/totp", json={"code": code}).status_code == 200


def test_the_half_signed_in_session_runs_out_in_minutes(app, world):
    with time_machine.travel("2026-06-01 09:00Z", tick=False) as clock:
        client, _ = password_step(app, EMAILS["admin_a"])
        clock.shift(timedelta(minutes=9))
        assert client.post("/api/auth/totp/enrol").status_code == 200
        clock.shift(timedelta(minutes=2))
        client.csrf_token = client.get("/api/auth/csrf").json["csrf_token"]
        late = client.post("/api/auth/totp/enrol")
        assert late.status_code == 401
        assert late.json["message"] == "Sign in first."


def stored_secret(app, user_id: int) -> str:
    """The users.totp_secret column as the database holds it."""
    with app.app_context():
        return db.session.execute(
            text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()


def test_the_secret_stays_on_the_server_encrypted(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _ = enrol(client)
    with app.app_context():
        admin = db.session.get(User, world.admin_a)
        assert admin.totp_secret == secret and admin.totp_enrolled_at is not None
    stored = stored_secret(app, world.admin_a)
    assert secret not in stored
    key = Fernet(app.config["FIELD_ENCRYPTION_KEYS"][0])
    assert key.decrypt(stored.encode()).decode() == secret
    assert secret not in str(client.get("/api/auth/me").json)


def test_rotating_the_keys_encrypts_every_secret_with_the_newest(app, world, make_app):
    client, _ = password_step(app, EMAILS["admin_a"])
    secret, _ = enrol(client)
    before = stored_secret(app, world.admin_a)
    newest = Fernet.generate_key().decode()
    rotated = make_app(
        FIELD_ENCRYPTION_KEYS=[newest, *app.config["FIELD_ENCRYPTION_KEYS"]],
        SECOND_FACTOR_FOR_STAFF=True,
    )
    result = rotated.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "1 user" in result.output
    after = stored_secret(app, world.admin_a)
    assert after != before
    assert Fernet(newest).decrypt(after.encode()).decode() == secret
    with time_machine.travel(timedelta(seconds=60)):
        signing = ApiClient(rotated.test_client())
        step = signing.post(
            "/api/auth/login", json={"email": EMAILS["admin_a"], "password": PASSWORD}
        )
        signing.csrf_token = step.json["csrf_token"]
        code = pyotp.TOTP(secret).now()
        assert signing.post("/api/auth/totp", json={"code": code}).status_code == 200


def replace_authenticator(client, **proof) -> object:
    return client.post("/api/auth/totp/enrol", json=proof)


def test_replacing_the_authenticator_needs_the_password_and_a_code(app, world):
    with time_machine.travel("2026-06-01 09:00Z", tick=False) as clock:
        client, _ = password_step(app, EMAILS["admin_a"])
        secret, codes = enrol(client)
        clock.shift(timedelta(seconds=60))
        code = pyotp.TOTP(secret).now()
        for proof, field in (
            ({}, "password"),
            ({"password": PASSWORD}, "code"),
            ({"password": "not-my-password", "code": code}, "password"),
            ({"password": PASSWORD, "code": wrong(secret)}, "code"),
        ):
            refused = replace_authenticator(client, **proof)
            assert refused.status_code == 422, proof
            assert field in refused.json["errors"]["json"], proof
        with app.app_context():
            admin = db.session.get(User, world.admin_a)
            assert admin.totp_secret == secret and admin.totp_pending_secret is None
        clock.shift(timedelta(seconds=60))
        again, _ = password_step(app, EMAILS["admin_a"])
        code = pyotp.TOTP(secret).now()
        assert again.post("/api/auth/totp", json={"code": code}).status_code == 200


def test_a_replaced_authenticator_is_in_force_only_once_confirmed(app, world, mailbox):
    with time_machine.travel("2026-06-01 09:00Z", tick=False) as clock:
        client, _ = password_step(app, EMAILS["admin_a"])
        old, codes = enrol(client)
        clock.shift(timedelta(seconds=60))
        started = replace_authenticator(
            client, password=PASSWORD, code=pyotp.TOTP(old).now()
        )
        assert started.status_code == 200, started.json
        new = started.json["secret"]
        assert new != old
        clock.shift(timedelta(seconds=60))
        meanwhile, _ = password_step(app, EMAILS["admin_a"])
        code = pyotp.TOTP(old).now()
        assert meanwhile.post("/api/auth/totp", json={"code": code}).status_code == 200
        clock.shift(timedelta(seconds=30))
        confirmed = client.post(
            "/api/auth/totp/enrol/confirm", json={"code": pyotp.TOTP(new).now()}
        )
        assert confirmed.status_code == 200, confirmed.json
        assert meanwhile.get("/api/auth/me").status_code == 401  # signed out
        clock.shift(timedelta(seconds=60))
        after, _ = password_step(app, EMAILS["admin_a"])
        stale = pyotp.TOTP(old).now()
        assert after.post("/api/auth/totp", json={"code": stale}).status_code == 401
        fresh = pyotp.TOTP(new).now()
        assert after.post("/api/auth/totp", json={"code": fresh}).status_code == 200
        # the old recovery codes went with the old authenticator
        lost, _ = password_step(app, EMAILS["admin_a"])
        assert lost.post("/api/auth/totp", json={"code": codes[0]}).status_code == 401


def test_a_recovery_code_proves_it_is_them_when_the_phone_is_lost(app, world):
    client, _ = password_step(app, EMAILS["admin_a"])
    _secret, codes = enrol(client)
    started = replace_authenticator(client, password=PASSWORD, code=codes[0])
    assert started.status_code == 200, started.json
