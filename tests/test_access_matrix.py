"""Every endpoint × every role: who may, who is refused (403) and for whom the
object does not exist (404). The target patient is `patient_a` of clinic A,
whose therapist is `therapist_a`."""

import logging

import pytest

from tests.conftest import ApiClient, exercise_id, item, new_id, prescribe

ACTORS = [
    "anonymous",
    "patient_a",
    "patient_a2",
    "therapist_a",
    "therapist_a2",
    "admin_a",
    "admin_b",
    "therapist_b",
    "patient_b",
]


SUBSCRIPTION = {
    "endpoint": "http://127.0.0.1:9/push/matrix",
    "keys": {"p256dh": "BExample", "auth": "c2VjcmV0"},
}


PATIENTS_403 = {"patient_a": 403, "patient_a2": 403, "patient_b": 403}


def viewers(ok):
    """Who may read patient_a: the patient, their therapist, their clinic's admin."""
    return {
        "anonymous": 401,
        "patient_a": ok,
        "patient_a2": 404,
        "therapist_a": ok,
        "therapist_a2": 404,
        "admin_a": ok,
        "admin_b": 404,
        "therapist_b": 404,
        "patient_b": 404,
    }


def staff_of_patient(ok):
    """Staff actions on patient_a: the patient gets 403 on their own record."""
    return viewers(ok) | {"patient_a": 403}


def patient_only(ok):
    """Only the patient records their own logs; their carers get 403."""
    return viewers(403) | {"patient_a": ok}


def staff_only(ok, admin_only=False):
    return {
        "anonymous": 401,
        "patient_a": 403,
        "patient_a2": 403,
        "patient_b": 403,
        "therapist_a": 403 if admin_only else ok,
        "therapist_a2": 403 if admin_only else ok,
        "therapist_b": 403 if admin_only else ok,
        "admin_a": ok,
        "admin_b": ok,
    }


def everyone_signed_in(ok):
    return {actor: ok for actor in ACTORS} | {"anonymous": 401}


def tick(ctx):
    return {
        "json": {
            "id": new_id(),
            "exercise_id": ctx["exercise"],
            "performed_on": ctx["today"],
        }
    }


def pain(ctx):
    return {"json": {"id": new_id(), "logged_on": ctx["today"], "score": 4}}


def message(ctx):
    return {"json": {"id": new_id(), "body": "How many sets today?"}}


def flare_up(ctx):
    return {
        "json": {
            "id": new_id(),
            "started_on": ctx["today"],
            "severity": 6,
            "triggers": ["lifting"],
            "helped": ["heat"],
        }
    }


def psfs(ctx):
    return {"json": {"activities": [{"name": "Gardening", "score": 4}]}}


def correspondents(ok):
    """Who writes in patient_a's thread or fills in their questionnaires: the
    patient and their therapist; their clinic's admin only reads (403)."""
    return viewers(ok) | {"admin_a": 403}


def new_patient(ctx):
    return {
        "json": {
            "name": "New Patient",
            "email": f"{new_id()}@new.test",
            "timezone": "Europe/Dublin",
        }
    }


CASES = [
    ("GET", "/api/auth/me", None, everyone_signed_in(200)),
    (
        "PATCH",
        "/api/auth/me",
        lambda c: {"json": {"language": "es"}},
        everyone_signed_in(200),
    ),
    ("GET", "/api/patients", None, staff_only(200)),
    ("POST", "/api/patients", new_patient, staff_only(201)),
    ("GET", "/api/patients/{a}", None, viewers(200)),
    (
        "PATCH",
        "/api/patients/{a}",
        lambda c: {"json": {"timezone": "Europe/Paris"}},
        viewers(200),
    ),
    (
        "PATCH",
        "/api/patients/{a}",
        lambda c: {"json": {"condition": "Sciatica"}},
        staff_of_patient(200),
    ),
    ("POST", "/api/patients/{a}/invite", None, staff_of_patient(409)),
    ("GET", "/api/patients/{a}/programme", None, viewers(200)),
    (
        "PUT",
        "/api/patients/{a}/programme",
        lambda c: {"json": {"items": [item(c["exercise"])]}},
        staff_of_patient(201),
    ),
    ("GET", "/api/patients/{a}/programme/history", None, viewers(200)),
    ("GET", "/api/patients/{a}/programme.pdf", None, viewers(200)),
    ("GET", "/api/patients/{a}/routine", None, viewers(200)),
    ("GET", "/api/patients/{a}/exercise-logs", None, viewers(200)),
    ("POST", "/api/patients/{a}/exercise-logs", tick, patient_only(201)),
    ("DELETE", "/api/patients/{a}/exercise-logs/{log}", None, patient_only(204)),
    ("GET", "/api/patients/{a}/pain-logs", None, viewers(200)),
    ("POST", "/api/patients/{a}/pain-logs", pain, patient_only(201)),
    (
        "POST",
        "/api/sync",
        lambda c: {"json": {"pain_logs": [pain(c)["json"]]}},
        everyone_signed_in(403)
        | {"patient_a": 200, "patient_a2": 200, "patient_b": 200},
    ),
    ("GET", "/api/exercises", None, everyone_signed_in(200)),
    ("GET", "/api/exercises/{exercise}", None, everyone_signed_in(200)),
    (  # a shipped exercise: read-only for everyone
        "PATCH",
        "/api/exercises/{exercise}",
        lambda c: {"json": {"name": "Renamed"}},
        everyone_signed_in(403),
    ),
    (
        "POST",
        "/api/exercises",
        lambda c: {
            "json": {
                "name": "Wall angel",
                "category": "mobility",
                "body_region": "upper back",
                "instructions": "Slowly.",
            }
        },
        staff_only(201),
    ),
    ("GET", "/api/staff", None, staff_only(200)),
    (
        "POST",
        "/api/staff",
        lambda c: {
            "json": {
                "email": f"{new_id()}@staff.test",
                "name": "New Therapist",
                "role": "therapist",
                "password": "long-enough-pw",
            }
        },
        staff_only(201, admin_only=True),
    ),
    (
        "PATCH",
        "/api/staff/{a_therapist2}",
        lambda c: {"json": {"name": "Renamed"}},
        staff_only(200, admin_only=True) | {"admin_b": 404},
    ),
    (
        "POST",
        "/api/staff/{a_therapist2}/reset-second-factor",
        None,
        staff_only(204, admin_only=True) | {"admin_b": 404},
    ),
    ("GET", "/api/auth/sessions", None, everyone_signed_in(200)),
    ("GET", "/api/clinic", None, staff_only(200, admin_only=True)),
    ("GET", "/api/clinic/mail", None, staff_only(200, admin_only=True)),
    (
        "PATCH",
        "/api/clinic",
        lambda c: {"json": {"paper_size": "Letter"}},
        staff_only(200, admin_only=True),
    ),
    ("GET", "/api/patients/{a}/reminders", None, viewers(200)),
    (
        "PUT",
        "/api/patients/{a}/reminders",
        lambda c: {"json": {"times": ["18:00"], "days_of_week": [0], "channel": "off"}},
        patient_only(200),
    ),
    # allowed staff reach the check that the patient has reminders off
    ("POST", "/api/patients/{a}/nudge", None, staff_of_patient(409)),
    (
        "POST",
        "/api/push-subscriptions",
        lambda c: {"json": SUBSCRIPTION},
        staff_only(403) | {"patient_a": 201, "patient_a2": 201, "patient_b": 201},
    ),
    (
        "DELETE",
        "/api/push-subscriptions",
        lambda c: {"json": {"endpoint": SUBSCRIPTION["endpoint"]}},
        staff_only(403) | {"patient_a": 204, "patient_a2": 204, "patient_b": 204},
    ),
    ("GET", "/api/push/public-key", None, everyone_signed_in(200) | {"anonymous": 200}),
    ("GET", "/api/alerts", None, staff_only(200)),
    (
        "POST",
        "/api/alerts/{alert}/acknowledge",
        None,
        staff_of_patient(200) | PATIENTS_403,
    ),
    (
        "POST",
        "/api/alerts/{alert}/resolve",
        lambda c: {"json": {"note": "Called."}},
        staff_of_patient(200) | PATIENTS_403,
    ),
    ("GET", "/api/patients/{a}/messages", None, viewers(200)),
    ("POST", "/api/patients/{a}/messages", message, correspondents(201)),
    (
        "POST",
        "/api/patients/{a}/messages/read",
        lambda c: {"json": {"up_to": c["message"]}},
        viewers(204),
    ),
    ("GET", "/api/patients/{a}/messages/unread", None, viewers(200)),
    ("GET", "/api/patients/{a}/flare-ups", None, viewers(200)),
    ("POST", "/api/patients/{a}/flare-ups", flare_up, patient_only(201)),
    ("GET", "/api/patients/{a}/flare-ups/summary", None, viewers(200)),
    (
        "POST",
        "/api/sync",
        lambda c: {
            "json": {
                "messages": [message(c)["json"]],
                "flare_ups": [flare_up(c)["json"]],
            }
        },
        everyone_signed_in(403)
        | {"patient_a": 200, "patient_a2": 200, "patient_b": 200},
    ),
    ("GET", "/api/patients/{a}/questionnaires/psfs", None, viewers(200)),
    ("POST", "/api/patients/{a}/questionnaires/psfs", psfs, correspondents(201)),
    ("GET", "/api/patients/{a}/questionnaires/odi", None, viewers(200)),
    (
        "POST",
        "/api/patients/{a}/questionnaires/odi",
        lambda c: {"json": {"answers": [1] * 10}},
        correspondents(201),
    ),
]


@pytest.fixture
def setup(world, signed_in, app, caplog):
    """patient_a has a programme, one tick of today, a message to their
    therapist and a severe flare-up (so an alert); returns path values."""
    caplog.set_level(logging.INFO, logger="backend")
    therapist = signed_in("therapist_a")
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee)])
    patient = signed_in("patient_a")
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    log = new_id()
    response = patient.post(
        f"/api/patients/{world.patient_a}/exercise-logs",
        json={"id": log, "exercise_id": knee, "performed_on": today},
    )
    assert response.status_code == 201
    said = message(None)["json"]
    response = patient.post(f"/api/patients/{world.patient_a}/messages", json=said)
    assert response.status_code == 201
    severe = flare_up({"today": today})["json"] | {"severity": 9}
    response = patient.post(f"/api/patients/{world.patient_a}/flare-ups", json=severe)
    assert response.status_code == 201
    alerts = therapist.get("/api/alerts").json
    # what the write's receivers logged, should the alert be missing
    assert len(alerts) == 1, (alerts, caplog.text)
    [alert] = alerts
    return {
        "a": world.patient_a,
        "alert": alert["id"],
        "log": log,
        "message": said["id"],
        "exercise": knee,
        "today": today,
        "a_therapist2": world.therapist_a2,
    }


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    "method,path,body,expected",
    CASES,
    ids=[f"{method} {path}" for method, path, _, _ in CASES],
)
def test_role_endpoint_matrix(
    app, signed_in, setup, actor, method, path, body, expected
):
    client = ApiClient(app.test_client()) if actor == "anonymous" else signed_in(actor)
    url = path.format(**setup)
    kwargs = body(setup) if body else {}
    response = client._send(method, url, **kwargs)
    assert response.status_code == expected[actor], (actor, response.json)
    if response.status_code >= 400:
        assert response.is_json and response.json["code"] == response.status_code


def test_other_clinics_patient_looks_exactly_like_a_missing_one(world, signed_in):
    admin_b = signed_in("admin_b")
    theirs = admin_b.get(f"/api/patients/{world.patient_a}")
    missing = admin_b.get("/api/patients/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json == missing.json


def test_patient_list_holds_only_the_therapists_own_patients(world, signed_in):
    listed = {p["id"] for p in signed_in("therapist_a").get("/api/patients").json}
    assert listed == {world.patient_a}
    clinic = {p["id"] for p in signed_in("admin_a").get("/api/patients").json}
    assert clinic == {world.patient_a, world.patient_a2}


def test_clinic_private_exercise_is_invisible_to_another_clinic(world, signed_in):
    therapist = signed_in("therapist_a")
    created = therapist.post(
        "/api/exercises",
        json={
            "name": "Clinic A special",
            "category": "core",
            "body_region": "core",
            "instructions": "Brace gently.",
        },
    ).json
    other = signed_in("therapist_b")
    assert other.get(f"/api/exercises/{created['id']}").status_code == 404
    assert created["id"] not in {e["id"] for e in other.get("/api/exercises").json}
    assert created["id"] in {
        e["id"] for e in signed_in("patient_a").get("/api/exercises").json
    }
