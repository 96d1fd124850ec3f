"""Bounded work and clear refusals (the contract's "Limits"): every bad input
is a 4xx JSON error and changes nothing, on every endpoint."""

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import AuditEvent, ExerciseLog, FlareUp, Message, PainLog
from tests.conftest import exercise_id, item, new_id, prescribe


def count(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return found


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "path", ["/api/auth/login", "/api/sync", "/api/patients", "/api/auth/password"]
)
def test_deeply_nested_json_is_a_400_everywhere_even_at_sign_in(
    app, world, patient, path
):
    for depth in (33, 100_000):
        body = f'{{"email": {nested(depth)}}}'
        response = patient.post(
            path, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, depth, response.json)
        assert "nested" in response.json["message"]


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/password-reset"])
def test_deeply_nested_json_signed_out_is_a_400_where_limits_read_the_email(
    world, anonymous, path
):
    """The rate limiter's key and the audit trail read the email in the body
    of a sign-in or reset: 5,000 levels must not crash them after the guard."""
    for body in (nested(5000), f'{{"email": {nested(5000)}}}'):
        response = anonymous.post(
            path, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, response.json)
        assert "nested" in response.json["message"]


def test_json_sent_as_something_else_is_a_415(world, patient, today):
    tick = json.dumps({"id": new_id(), "exercise_id": 1, "performed_on": today})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = patient.post(
            f"/api/patients/{patient.user['id']}/exercise-logs",
            data=tick,
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 415
        assert response.is_json and "application/json" in response.json["message"]


def test_control_characters_are_refused_in_every_text_field(app, world, patient, today):
    url = f"/api/patients/{patient.user['id']}/pain-logs"
    for text in ("\x00", "a\x07b", "x\x1b[31m"):
        pain = {"id": new_id(), "logged_on": today, "score": 4, "note": text}
        response = patient.post(url, json=pain)
        assert response.status_code == 422, text
        assert "note" in response.json["errors"]["json"]
    newline = {"id": new_id(), "logged_on": today, "score": 4, "note": "a\nb"}
    assert patient.post(url, json=newline).status_code == 201  # notes may have lines
    one_line = {"id": new_id(), "logged_on": today, "score": 4, "location": "a\nb"}
    assert patient.post(url, json=one_line).status_code == 422
    assert count(app, PainLog) == 1
    in_query = patient.get("/api/exercises", query_string={"q": "knee\x00"})
    assert in_query.status_code == 422 and "q" in in_query.json["errors"]["query"]


def test_dates_outside_2000_to_2100_are_a_422_naming_the_limit(world, patient):
    url = f"/api/patients/{patient.user['id']}"
    for day in ("1999-12-31", "2101-01-01", "9999-12-31"):
        for path, args in (
            ("/routine", {"date": day}),
            ("/progress", {"from": day}),
            ("/exercise-logs", {"to": day}),
        ):
            response = patient.get(url + path, query_string=args)
            assert response.status_code == 422, (path, day)
            assert "2000-01-01 and 2100-12-31" in json.dumps(response.json)


def test_progress_ranges_over_366_days_and_reports_over_731_are_a_422(
    world, patient, admin
):
    url = f"/api/patients/{patient.user['id']}/progress"
    ok = patient.get(url, query_string={"from": "2024-01-01", "to": "2024-12-31"})
    assert ok.status_code == 200  # a leap year: 366 days
    long = patient.get(url, query_string={"from": "2024-01-01", "to": "2025-01-01"})
    assert long.status_code == 422 and "366 days" in json.dumps(long.json)
    report = admin.get(
        "/api/reports/adherence",
        query_string={"from": "2020-01-01", "to": "2022-01-02"},
    )
    assert report.status_code == 422 and "731 days" in json.dumps(report.json)
    far = admin.get("/api/reports/adherence.csv", query_string={"to": "9999-01-01"})
    assert far.status_code == 422
    # `to` left out means about today: a `from` decades back is just as long
    since = admin.get("/api/reports/adherence.csv", query_string={"from": "2000-01-03"})
    assert since.status_code == 422 and "731 days" in json.dumps(since.json)
    recent = (date.today() - timedelta(days=60)).isoformat()
    assert admin.get("/api/audit", query_string={"from": recent}).status_code == 200


def test_a_sync_of_more_than_500_records_is_a_413_and_stores_nothing(
    app, world, signed_in, patient, today
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist))])
    pains = [{"id": new_id(), "logged_on": today, "score": 3} for _ in range(501)]
    response = patient.post("/api/sync", json={"pain_logs": pains})
    assert response.status_code == 413
    assert "500" in response.json["message"]
    assert response.json["limits"]["records"] == 500
    assert count(app, PainLog) == 0
    assert patient.post("/api/sync", json={"pain_logs": pains[:500]}).status_code == 200
    assert count(app, PainLog) == 500


def test_messages_and_flare_ups_count_towards_the_500_records_of_a_sync(
    app, world, patient, today
):
    flare = {"started_on": today, "severity": 3, "triggers": [], "helped": []}
    batch = {
        "pain_logs": [{"id": new_id(), "logged_on": today, "score": 3}],
        "messages": [{"id": new_id(), "body": "Hi"} for _ in range(250)],
        "flare_ups": [flare | {"id": new_id()} for _ in range(250)],
    }
    response = patient.post("/api/sync", json=batch)
    assert response.status_code == 413 and "501 sent" in response.json["message"]
    assert count(app, Message) == count(app, FlareUp) == count(app, PainLog) == 0
    batch["pain_logs"] = []
    assert patient.post("/api/sync", json=batch).status_code == 200
    assert count(app, Message) == count(app, FlareUp) == 250


def test_a_sync_judges_control_characters_record_by_record(app, world, patient, today):
    """One bad record (an old app's, a corrupted one) never holds back the rest."""
    bad, good = new_id(), new_id()
    response = patient.post(
        "/api/sync",
        json={
            "pain_logs": [
                {"id": bad, "logged_on": today, "score": 3, "note": "a\x00b"},
                {"id": good, "logged_on": today, "score": 3, "note": "line\nbreak"},
                {"id": new_id(), "logged_on": today, "score": 3, "location": "a\nb"},
            ]
        },
    )
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == ["invalid", "created", "invalid"]
    assert "Control characters" in results[0]["errors"]["note"][0]
    assert "one line" in results[2]["errors"]["location"][0]
    assert count(app, PainLog) == 1


def test_the_limits_a_client_checks_are_the_openapi_documents(world, anonymous):
    """GET /api/limits: the record schemas exactly as /api/openapi.json has
    them (one source), and the sync's limits; no sign-in needed."""
    limits = anonymous.get("/api/limits")
    assert limits.status_code == 200
    components = anonymous.get("/api/openapi.json").json["components"]["schemas"]
    assert limits.json["records"] == {
        "exercise_log": components["ExerciseLogIn"],
        "pain_log": components["PainLogIn"],
        "message": components["MessageIn"],
        "flare_up": components["FlareUpIn"],
    }
    body = limits.json["records"]["message"]["properties"]["body"]
    assert (body["minLength"], body["maxLength"]) == (1, 2000)
    assert re.fullmatch(body["pattern"], "two\nlines") and not re.fullmatch(
        body["pattern"], "a\x1bb"
    )
    flare_up = limits.json["records"]["flare_up"]["properties"]
    assert flare_up["triggers"]["items"]["enum"] == [
        "lifting",
        "impact",
        "sitting",
        "dehydration",
        "stress",
        "other",
    ]
    assert flare_up["helped"]["items"]["enum"][-1] == "nothing"
    assert (flare_up["severity"]["minimum"], flare_up["severity"]["maximum"]) == (0, 10)
    assert flare_up["note"]["maxLength"] == 1000
    spasms = limits.json["records"]["pain_log"]["properties"]["spasms"]
    assert (spasms["minimum"], spasms["maximum"]) == (0, 1000)
    note = limits.json["records"]["pain_log"]["properties"]["note"]
    # the pattern a client tests with is the one the server validates with
    assert re.fullmatch(note["pattern"], "two\nlines") and not re.fullmatch(
        note["pattern"], "a\x00b"
    )
    assert limits.json["sync_records"] == 500
    assert limits.json["body_bytes"] == 1024 * 1024
    assert (limits.json["first_day"], limits.json["last_day"]) == (
        "2000-01-01",
        "2100-12-31",
    )


def test_a_body_over_one_mebibyte_says_the_limit(world, patient, today):
    pain = {"id": new_id(), "logged_on": today, "score": 4, "note": "é" * 600_000}
    response = patient.post(f"/api/patients/{patient.user['id']}/pain-logs", json=pain)
    assert response.status_code == 413
    assert response.json["limits"]["bytes"] == 1024 * 1024


def test_every_405_carries_allow(world, patient):
    for method, path in (
        ("DELETE", "/api/auth/me"),
        ("PUT", "/api/sync"),
        ("POST", f"/api/patients/{patient.user['id']}/routine"),
    ):
        response = patient._send(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["Allow"], (method, path)
        assert method not in response.headers["Allow"]


def test_ids_a_database_cannot_hold_are_a_404_not_a_500(world, patient, admin):
    for path in (
        "/api/patients/99999999999999999999",
        "/api/patients/0/progress",
        "/api/exercises/99999999999999999999",
        "/api/staff/99999999999999999999",
    ):
        client = admin if "staff" in path else patient
        assert client.get(path).status_code in (404, 405), path
    big = 10**20
    tick = {"id": new_id(), "exercise_id": big, "performed_on": "2026-01-01"}
    response = patient.post(
        f"/api/patients/{patient.user['id']}/exercise-logs", json=tick
    )
    assert (
        response.status_code == 422 and "exercise_id" in response.json["errors"]["json"]
    )
    report = admin.get("/api/reports/adherence", query_string={"therapist_id": big})
    assert report.status_code == 422


def test_a_patients_writes_are_limited_generously(app, world, signed_in, today):
    app.config["WRITE_LIMIT"] = "5 per minute"
    try:
        patient = signed_in("patient_a")
        url = f"/api/patients/{world.patient_a}/pain-logs"
        replies = [
            patient.post(url, json={"id": new_id(), "logged_on": today, "score": 2})
            for _ in range(6)
        ]
        assert [reply.status_code for reply in replies] == [201] * 5 + [429]
        # when to try again: within the minute's window
        assert 1 <= int(replies[-1].headers["Retry-After"]) <= 60
        assert "message" in replies[-1].json
        other = signed_in("patient_a2")  # per person, not for everyone
        other_url = f"/api/patients/{world.patient_a2}/pain-logs"
        pain = {"id": new_id(), "logged_on": today, "score": 2}
        assert other.post(other_url, json=pain).status_code == 201
    finally:
        app.config["WRITE_LIMIT"] = "600 per minute"


def test_nothing_is_audited_or_stored_for_refused_input(app, world, patient, today):
    before = count(app, AuditEvent)
    patient.post(
        f"/api/patients/{world.patient_a}/exercise-logs",
        json={"id": new_id(), "exercise_id": 1, "performed_on": "1999-01-01"},
    )
    assert count(app, ExerciseLog) == 0
    assert count(app, AuditEvent) == before


@pytest.fixture
def today(patient, world):
    """patient_a's own today."""
    return patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
