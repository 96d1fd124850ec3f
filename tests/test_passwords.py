"""Passwords: strength, change, a forgotten one (by email), and staff who are
invited to set their own. Mail goes to a real SMTP server (aiosmtpd)."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from backend.extensions import db
from backend.models import Invitation, User
from tests.conftest import EMAILS, PASSWORD, ApiClient, add_patient

NEW = "seven green lanterns hum"


def test_common_and_guessable_passwords_are_refused_with_a_reason(world, patient):
    for weak in ("1234567890", "password12345", "pat@a.test", "qwertyuiop"):
        refused = patient.post(
            "/api/auth/password",
            json={"current_password": PASSWORD, "new_password": weak},
        )
        assert refused.status_code == 422, weak
        [reason] = refused.json["errors"]["json"]["new_password"]
        assert "guess" in reason.lower() or "common" in reason.lower(), reason
    too_long = patient.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "x" * 129},
    )
    assert too_long.status_code == 422


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    app, world, patient, mailbox
):
    other_phone = ApiClient(app.test_client()).login(EMAILS["patient_a"])
    wrong = patient.post(
        "/api/auth/password",
        json={"current_password": "not-my-password", "new_password": NEW},
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.json["errors"]["json"]
    assert other_phone.get("/api/auth/me").status_code == 200

    changed = patient.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert changed.status_code == 204
    assert patient.get("/api/auth/me").status_code == 200  # this one stays
    assert other_phone.get("/api/auth/me").status_code == 401
    ApiClient(app.test_client()).login(EMAILS["patient_a"], NEW)
    [notice] = mailbox.to(EMAILS["patient_a"])
    assert "password was changed" in mailbox.text(notice)


def test_wrong_current_passwords_count_as_failed_sign_ins_of_the_account(
    app, world, patient
):
    for n in range(10):
        wrong = patient.post(
            "/api/auth/password",
            json={"current_password": f"guess-number-{n}", "new_password": NEW},
        )
        assert wrong.status_code == 422
    for current in ("guess-number-10", PASSWORD):
        held = patient.post(
            "/api/auth/password",
            json={"current_password": current, "new_password": NEW},
        )
        assert held.status_code == 429
        assert 1 <= int(held.headers["Retry-After"]) <= 60
    # the same account-wide back-off as sign-in: a new browser waits too
    signing = ApiClient(app.test_client()).post(
        "/api/auth/login", json={"email": EMAILS["patient_a"], "password": PASSWORD}
    )
    assert signing.status_code == 429


def test_forgot_password_mails_a_link_that_works_once(app, world, mailbox):
    anonymous = ApiClient(app.test_client())
    asked = anonymous.post("/api/auth/password-reset", json={"email": "PAT@a.test "})
    assert asked.status_code == 202
    [message] = mailbox.to(EMAILS["patient_a"])
    assert "Clinic A" in message["Subject"]
    link = mailbox.link(message, "#/reset/")
    token = link.rsplit("/", 1)[1]
    with app.app_context():  # only its hash is kept
        assert db.session.scalar(select(Invitation.token_hash)) != token

    body = {"token": token, "password": NEW}
    assert (
        anonymous.post("/api/auth/password-reset/confirm", json=body).status_code == 204
    )
    again = anonymous.post(
        "/api/auth/password-reset/confirm", json=body | {"password": "another long one"}
    )
    assert again.status_code == 400
    ApiClient(app.test_client()).login(EMAILS["patient_a"], NEW)
    assert any("reset" in m["Subject"].lower() for m in mailbox.to(EMAILS["patient_a"]))


def test_forgot_password_answers_the_same_for_an_unknown_email(app, world, mailbox):
    client = ApiClient(app.test_client())
    known = client.post("/api/auth/password-reset", json={"email": "pat@a.test"})
    unknown = client.post("/api/auth/password-reset", json={"email": "no@one.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert [m["To"] for m in mailbox] == ["pat@a.test"]


def test_a_reset_link_expires_after_an_hour_and_ends_every_session(
    app, world, patient, mailbox
):
    client = ApiClient(app.test_client())
    client.post("/api/auth/password-reset", json={"email": EMAILS["patient_a"]})
    token = mailbox.link(mailbox[0], "#/reset/").rsplit("/", 1)[1]
    body = {"token": token, "password": NEW}
    with time_machine.travel(timedelta(minutes=61)):
        late = client.post("/api/auth/password-reset/confirm", json=body)
        assert late.status_code == 400
    client.post("/api/auth/password-reset", json={"email": EMAILS["patient_a"]})
    token = mailbox.link(mailbox[-1], "#/reset/").rsplit("/", 1)[1]
    assert (
        client.post("/api/auth/password-reset/confirm", json=body | {"token": token})
    ).status_code == 204
    assert patient.get("/api/auth/me").status_code == 401


def test_password_reset_requests_are_rate_limited(app, world, mailbox):
    client = ApiClient(app.test_client())
    codes = [
        client.post(
            "/api/auth/password-reset", json={"email": "pat@a.test"}
        ).status_code
        for _ in range(6)
    ]
    assert codes == [202] * 5 + [429]
    assert len(mailbox) == 5


def test_a_weak_password_from_a_reset_link_is_refused_and_the_link_still_works(
    app, world, mailbox
):
    client = ApiClient(app.test_client())
    client.post("/api/auth/password-reset", json={"email": EMAILS["patient_a"]})
    token = mailbox.link(mailbox[0], "#/reset/").rsplit("/", 1)[1]
    weak = client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "password": "1234567890"},
    )
    assert weak.status_code == 422
    good = client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW}
    )
    assert good.status_code == 204


def test_staff_are_invited_by_email_and_set_their_own_password(
    app, world, admin, mailbox
):
    created = admin.post(
        "/api/staff",
        json={"email": "nina@a.test", "name": "Nina Nurse", "role": "therapist"},
    )
    assert created.status_code == 201, created.json
    assert created.json["invite_pending"] is True
    with app.app_context():
        assert (
            db.session.scalar(
                select(User.password_hash).where(User.email == "nina@a.test")
            )
            is None
        )
    [message] = mailbox.to("nina@a.test")
    assert "Clinic A" in message["Subject"]
    token = mailbox.link(message, "#/invite/").rsplit("/", 1)[1]
    assert token == created.json["invite_token"]
    accepted = ApiClient(app.test_client()).post(
        "/api/auth/accept-invite", json={"token": token, "password": NEW}
    )
    assert accepted.status_code == 200
    ApiClient(app.test_client()).login("nina@a.test", NEW)


def test_invited_staff_enrol_a_second_factor_after_setting_the_password(
    app, world, admin, mailbox
):
    app.config["SECOND_FACTOR_FOR_STAFF"] = True
    try:
        token = admin.post(
            "/api/staff",
            json={"email": "nina@a.test", "name": "Nina Nurse", "role": "therapist"},
        ).json["invite_token"]
        accepted = ApiClient(app.test_client()).post(
            "/api/auth/accept-invite", json={"token": token, "password": NEW}
        )
        assert accepted.status_code == 200
        assert accepted.json["second_factor"] == "enrol"
    finally:
        app.config["SECOND_FACTOR_FOR_STAFF"] = False


def test_a_script_may_still_create_staff_with_a_strong_password(world, admin):
    weak = admin.post(
        "/api/staff",
        json={
            "email": "s@a.test",
            "name": "Script",
            "role": "admin",
            "password": "1234567890",
        },
    )
    assert weak.status_code == 422
    strong = admin.post(
        "/api/staff",
        json={"email": "s@a.test", "name": "Script", "role": "admin", "password": NEW},
    )
    assert strong.status_code == 201
    assert strong.json["invite_pending"] is False and "invite_token" not in strong.json


def test_patient_invitations_are_mailed_and_still_shown(world, therapist, mailbox):
    enrolled = therapist.post(
        "/api/patients",
        json={"name": "Rosa Ruiz", "email": "rosa@a.test", "timezone": "Europe/Madrid"},
    )
    assert enrolled.status_code == 201
    [message] = mailbox.to("rosa@a.test")
    assert mailbox.link(message, "#/invite/") == enrolled.json["invite_url"]
    html = message.get_body(("html",)).get_content()
    assert "Clinic A" in html and enrolled.json["invite_url"] in html


def test_mailed_links_start_with_public_url_whatever_host_a_request_names(
    app, make_app, world, mailbox
):
    """A forged Host, or X-Forwarded-Host through the one trusted proxy, must
    not put an attacker's site into a reset or invitation mail."""
    mail_settings = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")
    behind = make_app(
        PUBLIC_URL="https://homeward.example.org",
        PROXY_FIX_HOPS=1,
        **{name: app.config[name] for name in mail_settings},
    )
    mailbox.app = behind  # that deployment's worker sends (same settings)
    forgeries = ({"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"})
    for forged in forgeries:
        attacker = behind.test_client()
        csrf = attacker.get("/api/auth/csrf", headers=forged).json["csrf_token"]
        asked = attacker.post(
            "/api/auth/password-reset",
            json={"email": "pat@a.test"},
            headers=forged | {"X-CSRF-Token": csrf},
        )
        assert asked.status_code == 202
    for message in mailbox.to(EMAILS["patient_a"]):
        link = mailbox.link(message, "#/reset/")
        assert link.startswith("https://homeward.example.org/#/reset/"), link
    assert len(mailbox.to(EMAILS["patient_a"])) == len(forgeries)

    # the therapist's own request, through a proxy passing a forged host on
    therapist = ApiClient(behind.test_client()).login(EMAILS["therapist_a"])
    enrolled = therapist.post(
        "/api/patients",
        json={"name": "Rosa Ruiz", "email": "rosa@a.test", "timezone": "Europe/Madrid"},
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert enrolled.status_code == 201
    url = enrolled.json["invite_url"]
    assert url.startswith("https://homeward.example.org/#/invite/"), url
    [message] = mailbox.to("rosa@a.test")
    assert mailbox.link(message, "#/invite/") == url


def test_a_reset_for_an_email_at_two_clinics_mails_a_link_for_each(app, world, mailbox):
    with app.app_context():
        add_patient(
            world.clinic_b,
            "pat@a.test",
            world.therapist_b,
            password_hash=app.extensions["homeward_passwords"].hash(PASSWORD),
        )
        db.session.commit()
    anonymous = ApiClient(app.test_client())
    asked = anonymous.post("/api/auth/password-reset", json={"email": "pat@a.test"})
    assert asked.status_code == 202
    messages = mailbox.to("pat@a.test")
    assert sorted(m["Subject"] for m in messages) == [
        "Reset your Homeward password (Clinic A)",
        "Reset your Homeward password (Clinic B)",
    ]
    for message in messages:  # each link sets its own clinic's password
        token = mailbox.link(message, "#/reset/").rsplit("/", 1)[1]
        body = {"token": token, "password": f"{NEW} {message['Subject'][-2]}"}
        confirmed = anonymous.post("/api/auth/password-reset/confirm", json=body)
        assert confirmed.status_code == 204
    signed_in_a = ApiClient(app.test_client()).login("pat@a.test", f"{NEW} A")
    assert signed_in_a.user["clinic_id"] == world.clinic_a
    signed_in_b = ApiClient(app.test_client()).login("pat@a.test", f"{NEW} B")
    assert signed_in_b.user["clinic_id"] == world.clinic_b
