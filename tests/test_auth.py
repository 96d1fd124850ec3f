"""Sign-in, sessions, CSRF, rate limits and invitations."""

from datetime import timedelta

import time_machine

from backend.extensions import db
from backend.models import Invitation, User
from backend.services.dates import now_utc
from tests.conftest import PASSWORD, ApiClient, add_patient


def test_login_returns_user_and_sets_an_httponly_lax_session_cookie(world, anonymous):
    response = anonymous.post(
        "/api/auth/login", json={"email": "PAT@a.test ", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json["user"] == {
        "id": world.patient_a,
        "email": "pat@a.test",
        "name": "pat",
        "role": "patient",
        "clinic_id": world.clinic_a,
        "second_factor": False,
        "language": None,
    }
    assert response.json["csrf_token"]
    [cookie] = [
        c for c in response.headers.getlist("Set-Cookie") if "homeward_session=" in c
    ]
    assert cookie.startswith("homeward_session=")  # plain http in tests
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_over_https_the_session_cookie_is_a_secure_host_cookie(app, world):
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    csrf = client.get("/api/auth/csrf", **https).json["csrf_token"]
    # over https Flask-WTF also checks that the Referer is this origin
    response = client.post(
        "/api/auth/login",
        json={"email": "pat@a.test", "password": PASSWORD},
        headers={"X-CSRF-Token": csrf, "Referer": "https://localhost/"},
        **https,
    )
    assert response.status_code == 200
    [cookie] = [
        c for c in response.headers.getlist("Set-Cookie") if "homeward_session=" in c
    ]
    assert cookie.startswith("__Host-homeward_session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie


def test_wrong_password_and_unknown_email_get_the_same_401(world, anonymous):
    wrong = anonymous.post(
        "/api/auth/login", json={"email": "pat@a.test", "password": "not-the-password"}
    )
    unknown = anonymous.post(
        "/api/auth/login", json={"email": "nobody@a.test", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_inactive_user_cannot_sign_in(app, world, anonymous):
    with app.app_context():
        db.session.get(User, world.therapist_a).active = False
        db.session.commit()
    response = anonymous.post(
        "/api/auth/login", json={"email": "ther@a.test", "password": PASSWORD}
    )
    assert response.status_code == 401


def test_login_without_csrf_header_is_refused(world, anonymous):
    response = anonymous.post(
        "/api/auth/login",
        csrf=False,
        json={"email": "pat@a.test", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "CSRF" in response.json["message"]
    assert anonymous.get("/api/auth/me").status_code == 401


def test_write_without_csrf_header_changes_nothing(world, patient):
    response = patient.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        csrf=False,
        json={
            "id": "0b9d5f2e-1111-4a4a-8a8a-000000000001",
            "logged_on": "2026-01-01",
            "score": 3,
        },
    )
    assert response.status_code == 400
    logs = patient.get(
        f"/api/patients/{world.patient_a}/pain-logs",
        query_string={"from": "2025-12-01", "to": "2026-02-01"},
    ).json
    assert logs == []


def test_write_with_a_forged_csrf_token_is_refused(world, patient):
    patient.csrf_token = "forged"
    response = patient.patch(
        f"/api/patients/{world.patient_a}", json={"name": "Mallory"}
    )
    assert response.status_code == 400
    assert patient.get(f"/api/patients/{world.patient_a}").json["name"] == "pat"


def test_me_and_logout(world, patient):
    assert patient.get("/api/auth/me").json["user"]["id"] == world.patient_a
    assert patient.post("/api/auth/logout").status_code == 204
    assert patient.get("/api/auth/me").status_code == 401
    assert patient.get(f"/api/patients/{world.patient_a}").status_code == 401


def test_unauthenticated_api_call_is_a_json_401_not_a_redirect(world, anonymous):
    response = anonymous.get(f"/api/patients/{world.patient_a}/routine")
    assert response.status_code == 401
    assert response.is_json and "Location" not in response.headers


def attempt(app, address: str, password: str = "wrong-guess", email="pat@a.test"):
    return ApiClient(app.test_client()).post(
        "/api/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_five_failures_from_one_address_block_that_address_for_the_account(app, world):
    codes = [attempt(app, "10.0.0.1").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # the same address may not try the right password either, for now
    assert attempt(app, "10.0.0.1", PASSWORD).status_code == 429


def test_wrong_passwords_from_forty_addresses_back_the_account_off(app, world):
    """An attacker spreads guesses over addresses: past 10 failures the
    account itself waits, whatever the address, the right password too."""
    codes = [attempt(app, f"10.{n}.1.1").status_code for n in range(40)]
    assert codes == [401] * 10 + [429] * 30
    refused = attempt(app, "192.0.2.7", PASSWORD)  # a browser never signed in
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Try again in" in refused.json["message"]


def test_forty_addresses_of_one_ipv6_prefix_are_one_address(app, world):
    codes = [attempt(app, f"2001:db8:1:2::{n + 1:x}").status_code for n in range(40)]
    assert codes == [401] * 5 + [429] * 35
    # another subscriber's /64 is another address
    assert attempt(app, "2001:db8:1:3::1").status_code == 401


def test_two_addresses_of_one_ipv6_prefix_share_the_address_limit(app, world):
    for n in range(20):
        guess = attempt(app, "2001:db8:5:6::1", email=f"guess{n}@a.test")
        assert guess.status_code == 401
    neighbour = attempt(app, "2001:db8:5:6:ffff::2", email="guess99@a.test")
    assert neighbour.status_code == 429
    elsewhere = attempt(app, "2001:db8:5:7::1", email="guess99@a.test")
    assert elsewhere.status_code == 401


def test_the_accounts_back_off_grows_with_each_failure(app, world):
    with time_machine.travel("2026-06-01 09:00Z", tick=False) as clock:
        for n in range(10):
            assert attempt(app, f"10.0.2.{n}").status_code == 401
        assert int(attempt(app, "10.0.3.1").headers["Retry-After"]) == 60
        clock.shift(timedelta(seconds=61))
        assert attempt(app, "10.0.3.2").status_code == 401  # the 11th failure
        assert int(attempt(app, "10.0.3.3").headers["Retry-After"]) == 120
        clock.shift(timedelta(seconds=121))
        assert attempt(app, "10.0.3.4").status_code == 401
        assert int(attempt(app, "10.0.3.5").headers["Retry-After"]) == 240


def test_the_owner_signs_in_from_a_known_device_during_the_back_off(app, world):
    owner = ApiClient(app.test_client()).login("pat@a.test")  # leaves the cookie
    cookie = owner.client.get_cookie("homeward_device")
    assert cookie is not None and cookie.http_only
    assert owner.post("/api/auth/logout").status_code == 204
    owner.csrf_token = owner.get("/api/auth/csrf").json["csrf_token"]
    for n in range(12):
        attempt(app, f"10.0.4.{n}")
    assert attempt(app, "192.0.2.7", PASSWORD).status_code == 429
    back = owner.post(
        "/api/auth/login", json={"email": "pat@a.test", "password": PASSWORD}
    )
    assert back.status_code == 200, back.json
    owner.csrf_token = back.json["csrf_token"]
    # the cookie names its user: it opens no back-off for another account
    for n in range(12):
        attempt(app, f"10.0.5.{n}", email="pat2@a.test")
    other = owner.post(
        "/api/auth/login", json={"email": "pat2@a.test", "password": PASSWORD}
    )
    assert other.status_code == 429


def test_repeated_failures_from_one_address_are_rate_limited(app, world):
    client = ApiClient(app.test_client())
    codes = [
        client.post(
            "/api/auth/login",
            json={"email": f"guess{n}@a.test", "password": "wrong-guess"},
        ).status_code
        for n in range(21)
    ]
    assert codes == [401] * 20 + [429]


def test_successful_logins_do_not_count_against_the_limit(app, world):
    for _ in range(8):
        ApiClient(app.test_client()).login("pat@a.test")


def _enrol(therapist, email="new@a.test"):
    response = therapist.post(
        "/api/patients",
        json={"name": "New Patient", "email": email, "timezone": "Europe/London"},
    )
    assert response.status_code == 201
    return response.json


def test_invited_patient_sets_a_password_and_is_signed_in(app, world, therapist):
    enrolled = _enrol(therapist)
    assert enrolled["invite_pending"] is True
    assert enrolled["invite_token"] in enrolled["invite_url"]
    client = ApiClient(app.test_client())
    response = client.post(
        "/api/auth/accept-invite",
        json={"token": enrolled["invite_token"], "password": "my-new-password"},
    )
    assert response.status_code == 200
    assert response.json["user"]["id"] == enrolled["id"]
    assert client.get("/api/auth/me").json["user"]["email"] == "new@a.test"
    ApiClient(app.test_client()).login("new@a.test", "my-new-password")


def test_invitation_works_only_once(app, world, therapist):
    token = _enrol(therapist)["invite_token"]
    body = {"token": token, "password": "my-new-password"}
    assert (
        ApiClient(app.test_client())
        .post("/api/auth/accept-invite", json=body)
        .status_code
        == 200
    )
    again = ApiClient(app.test_client()).post(
        "/api/auth/accept-invite", json=body | {"password": "another-one!!"}
    )
    assert again.status_code == 400
    ApiClient(app.test_client()).login("new@a.test", "my-new-password")


def test_invitation_expires_after_14_days(app, world, therapist):
    token = _enrol(therapist)["invite_token"]
    with time_machine.travel(timedelta(days=14, minutes=1)):
        response = ApiClient(app.test_client()).post(
            "/api/auth/accept-invite",
            json={"token": token, "password": "my-new-password"},
        )
    assert response.status_code == 400


def test_a_reissued_invitation_replaces_the_old_one(app, world, therapist):
    enrolled = _enrol(therapist)
    fresh = therapist.post(f"/api/patients/{enrolled['id']}/invite")
    assert fresh.status_code == 201
    old = ApiClient(app.test_client()).post(
        "/api/auth/accept-invite",
        json={"token": enrolled["invite_token"], "password": "my-new-password"},
    )
    assert old.status_code == 400
    new = ApiClient(app.test_client()).post(
        "/api/auth/accept-invite",
        json={"token": fresh.json["invite_token"], "password": "my-new-password"},
    )
    assert new.status_code == 200


def test_invitation_token_is_stored_only_as_a_hash(app, world, therapist):
    token = _enrol(therapist)["invite_token"]
    with app.app_context():
        stored = db.session.query(Invitation.token_hash).scalar()
    assert token not in stored and len(stored) == 64


def test_short_password_is_refused_and_the_invitation_stays_usable(
    app, world, therapist
):
    token = _enrol(therapist)["invite_token"]
    client = ApiClient(app.test_client())
    short = client.post(
        "/api/auth/accept-invite", json={"token": token, "password": "short"}
    )
    assert short.status_code == 422
    assert "password" in short.json["errors"]["json"]
    ok = client.post(
        "/api/auth/accept-invite", json={"token": token, "password": "long-enough-now"}
    )
    assert ok.status_code == 200


def test_uninvited_patient_cannot_sign_in_before_setting_a_password(
    app, world, therapist
):
    _enrol(therapist)
    response = ApiClient(app.test_client()).post(
        "/api/auth/login", json={"email": "new@a.test", "password": "anything-at-all"}
    )
    assert response.status_code == 401


def test_guessing_invitation_tokens_is_rate_limited(app, world):
    client = ApiClient(app.test_client())
    codes = [
        client.post(
            "/api/auth/accept-invite",
            json={"token": f"guess-{n}", "password": "long-enough-pw"},
        ).status_code
        for n in range(21)
    ]
    assert codes == [400] * 20 + [429]


def test_a_tampered_session_cookie_is_refused_every_time(app, world, patient):
    cookie = patient.client.get_cookie("homeward_session")
    assert patient.get("/api/auth/me").status_code == 200
    # a character inside the signature (the last one also holds padding bits)
    flipped = "A" if cookie.value[-5] != "A" else "B"
    forged = cookie.value[:-5] + flipped + cookie.value[-4:]
    other = ApiClient(app.test_client())
    other.client.set_cookie("homeward_session", forged)
    for _ in range(2):
        assert other.get("/api/auth/me").status_code == 401
    assert patient.get("/api/auth/me").status_code == 200


OTHER_PASSWORD = "another clinic's long password"


def second_account(app, world, password=OTHER_PASSWORD) -> int:
    """pat@a.test at clinic B too (a person treated at both clinics)."""
    with app.app_context():
        hashed = app.extensions["homeward_passwords"].hash(password)
        patient = add_patient(
            world.clinic_b, "pat@a.test", world.therapist_b, password_hash=hashed
        )
        db.session.commit()
        return patient.id


def sign_in(app, password):
    return ApiClient(app.test_client()).post(
        "/api/auth/login", json={"email": "pat@a.test", "password": password}
    )


def test_one_email_at_two_clinics_signs_in_to_the_account_its_password_opens(
    app, world
):
    at_b = second_account(app, world)
    assert sign_in(app, PASSWORD).json["user"]["id"] == world.patient_a
    assert sign_in(app, OTHER_PASSWORD).json["user"]["id"] == at_b
    wrong = sign_in(app, "neither of the two")
    assert wrong.status_code == 401
    assert wrong.json["message"] == "Wrong email or password."


def test_one_password_for_two_accounts_opens_the_last_signed_in_else_the_oldest(
    app, world
):
    at_b = second_account(app, world, password=PASSWORD)
    assert sign_in(app, PASSWORD).json["user"]["id"] == world.patient_a  # oldest
    with app.app_context():
        db.session.get(User, world.patient_a).last_signed_in_at = None
        db.session.get(User, at_b).last_signed_in_at = now_utc()
        db.session.commit()
    assert sign_in(app, PASSWORD).json["user"]["id"] == at_b


def test_a_deactivated_account_leaves_the_email_to_the_others(app, world):
    at_b = second_account(app, world, password=PASSWORD)
    with app.app_context():
        db.session.get(User, world.patient_a).active = False
        db.session.commit()
    assert sign_in(app, PASSWORD).json["user"]["id"] == at_b
