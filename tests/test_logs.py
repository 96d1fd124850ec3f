"""Exercise ticks and pain check-ins: idempotent writes, undo, the patient's today."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
import time_machine

from backend.extensions import db
from backend.models import ExerciseLog, PainLog
from tests.conftest import ApiClient, add_patient, exercise_id, item, new_id, prescribe


@pytest.fixture
def knee(world, therapist):
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee, times=2)])
    return knee


@pytest.fixture
def today(world, patient):
    return patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]


def ticks_url(world):
    return f"/api/patients/{world.patient_a}/exercise-logs"


def count(app, model):
    with app.app_context():
        return db.session.query(model).count()


def test_tick_then_identical_replay_then_conflict(app, world, patient, knee, today):
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today, "difficulty": 2}
    created = patient.post(ticks_url(world), json=tick)
    assert created.status_code == 201
    assert created.json["id"] == tick["id"] and created.json["difficulty"] == 2
    replay = patient.post(ticks_url(world), json=tick)
    assert replay.status_code == 200
    assert replay.json == created.json
    conflict = patient.post(ticks_url(world), json=tick | {"difficulty": 3})
    assert conflict.status_code == 409
    assert count(app, ExerciseLog) == 1
    stored = patient.get(ticks_url(world)).json
    assert [log["difficulty"] for log in stored] == [2]


def test_same_uuid_from_another_patient_is_a_conflict(
    app, world, signed_in, knee, today
):
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    assert signed_in("patient_a").post(ticks_url(world), json=tick).status_code == 201
    other = signed_in("patient_a2")
    response = other.post(f"/api/patients/{world.patient_a2}/exercise-logs", json=tick)
    assert response.status_code == 409
    assert count(app, ExerciseLog) == 1


def test_ticks_count_towards_the_days_sessions_capped_at_due(
    world, patient, knee, today
):
    routine_url = f"/api/patients/{world.patient_a}/routine"
    for expected in (1, 2, 2):
        patient.post(
            ticks_url(world),
            json={"id": new_id(), "exercise_id": knee, "performed_on": today},
        )
        [line] = patient.get(routine_url).json["items"]
        assert (line["sessions_done"], line["sessions_due"]) == (expected, 2)


def test_undo_removes_the_tick_and_a_late_replay_does_not_bring_it_back(
    world, patient, knee, today
):
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    patient.post(ticks_url(world), json=tick)
    assert patient.delete(f"{ticks_url(world)}/{tick['id']}").status_code == 204
    routine = patient.get(f"/api/patients/{world.patient_a}/routine").json
    assert routine["items"][0]["sessions_done"] == 0
    assert routine["exercise_logs"] == []
    replay = patient.post(ticks_url(world), json=tick)
    assert replay.status_code == 200 and replay.json["deleted_at"] is not None
    assert patient.get(ticks_url(world)).json == []
    assert patient.delete(f"{ticks_url(world)}/{tick['id']}").status_code == 204


def test_undo_of_an_unknown_tick_is_a_404(world, patient):
    assert patient.delete(f"{ticks_url(world)}/{new_id()}").status_code == 404
    assert patient.delete(f"{ticks_url(world)}/not-a-uuid").status_code == 404


def test_pain_replay_and_conflict(app, world, patient, today):
    url = f"/api/patients/{world.patient_a}/pain-logs"
    pain = {
        "id": new_id(),
        "logged_on": today,
        "score": 6,
        "spasms": 2,
        "location": "left lower back",
    }
    assert patient.post(url, json=pain).status_code == 201
    assert patient.post(url, json=pain).status_code == 200
    assert patient.post(url, json=pain | {"score": 5}).status_code == 409
    assert patient.post(url, json=pain | {"note": "worse"}).status_code == 409
    routine = patient.get(f"/api/patients/{world.patient_a}/routine").json
    assert [(p["score"], p["spasms"]) for p in routine["pain"]] == [(6, 2)]
    assert count(app, PainLog) == 1


def test_logs_of_an_exercise_not_due_are_kept_and_listed(world, patient, knee, today):
    bird = exercise_id(patient, "bird dog")
    response = patient.post(
        ticks_url(world),
        json={"id": new_id(), "exercise_id": bird, "performed_on": today},
    )
    assert response.status_code == 201
    assert [log["exercise_id"] for log in patient.get(ticks_url(world)).json] == [bird]


def test_log_ranges_filter_by_date(world, patient, knee, today):
    day = date.fromisoformat(today)
    for offset in (0, 3, 10):
        patient.post(
            ticks_url(world),
            json={
                "id": new_id(),
                "exercise_id": knee,
                "performed_on": (day - timedelta(days=offset)).isoformat(),
            },
        )
    listed = patient.get(
        ticks_url(world),
        query_string={"from": (day - timedelta(days=5)).isoformat(), "to": today},
    ).json
    assert len(listed) == 2
    reversed_range = patient.get(
        ticks_url(world),
        query_string={"from": today, "to": (day - timedelta(days=5)).isoformat()},
    )
    assert reversed_range.status_code == 422


# 10:30 UTC on 2 March 2026: already 3 March at UTC+14, still 1 March at UTC-11.
INSTANT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@pytest.fixture
def far_apart(app, world):
    """Two patients of therapist_a: one in Kiribati (UTC+14), one in Samoa (UTC-11)."""
    with app.app_context():
        hashed = app.extensions["homeward_passwords"].hash("kiritimati-pw")
        add_patient(
            world.clinic_a,
            "kiri@a.test",
            world.therapist_a,
            "Pacific/Kiritimati",
            hashed,
        )
        add_patient(
            world.clinic_a,
            "pago@a.test",
            world.therapist_a,
            "Pacific/Pago_Pago",
            hashed,
        )
        db.session.commit()
    with time_machine.travel(INSTANT, tick=False):
        yield {
            "east": ApiClient(app.test_client()).login("kiri@a.test", "kiritimati-pw"),
            "west": ApiClient(app.test_client()).login("pago@a.test", "kiritimati-pw"),
        }


@pytest.mark.parametrize(
    "where,expected", [("east", "2026-03-03"), ("west", "2026-03-01")]
)
def test_routine_today_is_the_patients_own_date(far_apart, where, expected):
    client = far_apart[where]
    routine = client.get(f"/api/patients/{client.user['id']}/routine").json
    assert routine["date"] == routine["today"] == expected


@pytest.mark.parametrize("where,status", [("east", 201), ("west", 422)])
def test_a_log_for_3_march_is_in_the_future_only_west_of_the_date_line(
    far_apart, world, where, status
):
    client = far_apart[where]
    response = client.post(
        f"/api/patients/{client.user['id']}/pain-logs",
        json={"id": new_id(), "logged_on": "2026-03-03", "score": 2},
    )
    assert response.status_code == status
    if status == 422:
        assert "logged_on" in response.json["errors"]["json"]


def test_programme_defaults_to_start_on_the_patients_today(far_apart, world, therapist):
    east = far_apart["east"].user["id"]
    knee = exercise_id(therapist)
    assert prescribe(therapist, east, [item(knee)])["starts_on"] == "2026-03-03"


GOOD_TICK = {"exercise_id": None, "performed_on": None}


@pytest.mark.parametrize(
    "change,field",
    [
        ({"pain_during": 11}, "pain_during"),
        ({"pain_during": -1}, "pain_during"),
        ({"difficulty": 0}, "difficulty"),
        ({"difficulty": 6}, "difficulty"),
        ({"difficulty": 2.0}, "difficulty"),
        ({"difficulty": True}, "difficulty"),
        ({"sets_done": -1}, "sets_done"),
        ({"reps_done": "12"}, "reps_done"),
        ({"exercise_id": 999999}, "exercise_id"),
        ({"exercise_id": "1"}, "exercise_id"),
        ({"performed_on": "2026-02-30"}, "performed_on"),
        ({"performed_on": "2999-01-01"}, "performed_on"),
        ({"performed_on": "1999-01-01"}, "performed_on"),
        ({"performed_on": None}, "performed_on"),
        ({"id": "not-a-uuid"}, "id"),
        ({"note": "x" * 2001}, "note"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_tick_is_a_422_naming_the_field_and_stores_nothing(
    app, world, patient, knee, today, change, field
):
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today} | change
    response = patient.post(ticks_url(world), json=tick)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert count(app, ExerciseLog) == 0


@pytest.mark.parametrize(
    "change,field",
    [
        ({"score": 11}, "score"),
        ({"score": -1}, "score"),
        ({"score": 4.5}, "score"),
        ({"score": None}, "score"),
        ({"spasms": -1}, "spasms"),
        ({"logged_on": "2026-13-01"}, "logged_on"),
    ],
)
def test_bad_pain_log_is_refused(app, world, patient, today, change, field):
    pain = {"id": new_id(), "logged_on": today, "score": 4} | change
    response = patient.post(f"/api/patients/{world.patient_a}/pain-logs", json=pain)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert count(app, PainLog) == 0


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"a string"', ""])
def test_malformed_body_is_a_4xx_json_error(world, patient, body):
    response = patient.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        data=body,
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert response.is_json and response.json["code"] == response.status_code


def test_body_over_one_mebibyte_is_a_413(app, world, patient, today):
    pain = {"id": new_id(), "logged_on": today, "score": 4, "note": "x" * (1024 * 1024)}
    response = patient.post(f"/api/patients/{world.patient_a}/pain-logs", json=pain)
    assert response.status_code == 413
    assert response.is_json
    assert count(app, PainLog) == 0


def test_routine_for_an_impossible_date_is_a_422(world, patient):
    response = patient.get(
        f"/api/patients/{world.patient_a}/routine", query_string={"date": "2026-02-29"}
    )
    assert response.status_code == 422
    assert "date" in response.json["errors"]["query"]


def test_routine_shows_the_days_live_ticks_and_pain_as_stored(
    app, world, patient, knee, today
):
    """The routine carries the day's stored ticks (undone ones left out) and pain
    entries exactly as the record schemas show them, and counts the live tick."""
    from backend.schemas.logs import RoutineSchema

    kept = {"id": new_id(), "exercise_id": knee, "performed_on": today, "note": "ok"}
    undone = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    for tick in (kept, undone):
        patient.post(ticks_url(world), json=tick | {"sets_done": 2, "difficulty": 3})
    patient.delete(f"{ticks_url(world)}/{undone['id']}")
    pain = {"id": new_id(), "logged_on": today, "score": 4, "spasms": 1}
    patient.post(f"/api/patients/{world.patient_a}/pain-logs", json=pain)

    sent = patient.get(f"/api/patients/{world.patient_a}/routine").json
    with app.app_context():
        stored = db.session.scalars(db.select(ExerciseLog)).all()
        live = [log for log in stored if log.deleted_at is None]
        [pain_row] = db.session.scalars(db.select(PainLog)).all()
        [item_row] = sent["items"]
        expected = RoutineSchema().dump(
            {
                "date": date.fromisoformat(today),
                "today": date.fromisoformat(today),
                "programme_id": sent["programme_id"],
                "programme_version": 1,
                "items": [item_row],
                "pain": [pain_row],
                "exercise_logs": live,
                "programme_change": None,
            }
        )
    assert sent == expected
    assert [tick["id"] for tick in sent["exercise_logs"]] == [kept["id"]]
    assert sent["exercise_logs"][0]["created_at"].startswith(today[:4])
    assert sent["pain"][0]["id"] == pain["id"]
    assert (item_row["sessions_done"], item_row["sessions_due"]) == (1, 2)


def test_a_tick_and_a_pain_entry_answer_with_the_stored_record(
    app, world, patient, knee, today
):
    """A new record (201) and its replay (200) both answer with the record as
    stored, in the schema's form."""
    from backend.schemas.logs import ExerciseLogSchema, PainLogSchema

    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    tick |= {"sets_done": 2, "difficulty": 3, "note": "ok"}
    pain = {"id": new_id(), "logged_on": today, "score": 4, "spasms": 1}
    pain_url = f"/api/patients/{world.patient_a}/pain-logs"
    sent = {
        "tick": [patient.post(ticks_url(world), json=tick) for _ in range(2)],
        "pain": [patient.post(pain_url, json=pain) for _ in range(2)],
    }
    with app.app_context():
        expected = {
            "tick": ExerciseLogSchema().dump(
                db.session.get(ExerciseLog, UUID(tick["id"]))
            ),
            "pain": PainLogSchema().dump(db.session.get(PainLog, UUID(pain["id"]))),
        }
    for kind, (new, replay) in sent.items():
        assert (new.status_code, replay.status_code) == (201, 200)
        assert new.json == replay.json == expected[kind]
    assert sent["tick"][0].json["note"] == "ok"
    assert sent["tick"][0].json["deleted_at"] is None
