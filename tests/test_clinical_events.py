"""The hook alerts hang on: data_arrived hears of every record newly stored,
once, after its commit, and never of a replay; its failure fails no write."""

import pytest
from sqlalchemy import event, func, select

from backend.extensions import db
from backend.models import PainLog
from backend.services import clinical_events
from tests.conftest import exercise_id, new_id


@pytest.fixture
def heard(app, monkeypatch):
    """The (patient id, kinds) data_arrived was called with, each checked to
    come after the commit (the records are there for another connection)."""
    calls = []

    def data_arrived(patient_id, kinds, rules=None):
        with db.engine.connect() as other:
            pains = other.execute(select(func.count()).select_from(PainLog)).scalar()
        calls.append((patient_id, frozenset(kinds), pains))

    monkeypatch.setattr(clinical_events, "data_arrived", data_arrived)
    return calls


def test_each_new_record_is_heard_of_once_and_a_replay_never(
    world, patient, therapist, heard
):
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    pain = {"id": new_id(), "logged_on": today, "score": 6}
    flare = {
        "id": new_id(),
        "started_on": today,
        "severity": 7,
        "triggers": [],
        "helped": [],
    }
    message = {"id": new_id(), "body": "Sore today"}
    for client, path, body in (
        (patient, "/pain-logs", pain),
        (patient, "/flare-ups", flare),
        (patient, "/messages", message),
        (therapist, "/messages", {"id": new_id(), "body": "Rest it"}),
        (
            patient,
            "/questionnaires/psfs",
            {"activities": [{"name": "Run", "score": 2}]},
        ),
        (therapist, "/questionnaires/odi", {"answers": [2] * 10}),
    ):
        assert client.post(url + path, json=body).status_code == 201
    for path, body in (
        ("/pain-logs", pain),
        ("/flare-ups", flare),
        ("/messages", message),
    ):
        assert patient.post(url + path, json=body).status_code == 200  # replays
    assert [(p, set(k)) for p, k, _ in heard] == [
        (world.patient_a, {"pain_log"}),
        (world.patient_a, {"flare_up"}),
        (world.patient_a, {"message"}),
        (world.patient_a, {"message"}),
        (world.patient_a, {"psfs"}),
        (world.patient_a, {"odi"}),
    ]
    assert heard[0][2] == 1  # the pain check-in was committed before


def test_a_sync_is_heard_of_once_with_the_kinds_it_stored(world, patient, heard):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    tick = {"id": new_id(), "exercise_id": exercise_id(patient), "performed_on": today}
    batch = {
        "exercise_logs": [tick],
        "pain_logs": [{"id": new_id(), "logged_on": today, "score": 9}],
        "messages": [{"id": new_id(), "body": "Bad night"}],
        "flare_ups": [{"id": new_id(), "started_on": "2999-01-01"}],  # invalid
    }
    assert patient.post("/api/sync", json=batch).status_code == 200
    assert patient.post("/api/sync", json=batch).status_code == 200  # replays
    assert [(p, set(k)) for p, k, _ in heard] == [
        (world.patient_a, {"exercise_log", "pain_log", "message"})
    ]


def test_a_failing_hook_fails_no_write(app, world, patient, monkeypatch):
    def broken(patient_id, kinds, rules=None):
        raise RuntimeError("the alert rules are broken")

    monkeypatch.setattr(clinical_events, "data_arrived", broken)
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    pain = {"id": new_id(), "logged_on": today, "score": 6}
    url = f"/api/patients/{world.patient_a}/pain-logs"
    assert patient.post(url, json=pain).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PainLog)) == 1


def test_a_tick_with_no_inactive_spell_open_is_one_transaction(app, world, patient):
    """A tick can only end an inactive spell: with none open, the request
    asks that in the transaction storing the tick and opens no other."""
    with app.app_context():
        engine = db.engine
    routine = patient.get(f"/api/patients/{world.patient_a}/routine").json
    exercise = exercise_id(patient)
    begun = []

    def begin(connection):
        begun.append(connection)

    event.listen(engine, "begin", begin)
    try:
        tick = {
            "id": new_id(),
            "exercise_id": exercise,
            "performed_on": routine["today"],
        }
        url = f"/api/patients/{world.patient_a}/exercise-logs"
        assert patient.post(url, json=tick).status_code == 201
    finally:
        event.remove(engine, "begin", begin)
    assert len(begun) == 1
