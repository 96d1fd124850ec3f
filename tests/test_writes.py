"""A write's trip (services/writes.py): the records, their recount and their
audit row commit together; after the commit one signal, `data_stored`, says
once what was newly stored (never for a replay); its receivers (the alert
rules, the message notices) never fail the write; and a commit that skips the
trip is refused."""

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select

from backend.extensions import db
from backend.models import Alert, AuditEvent, ExerciseLog, PainLog
from backend.services import writes
from backend.services.adherence import note_changed
from tests.conftest import exercise_id, new_id


@contextmanager
def listening(app):
    """[(patient id, kinds, author id, ticks committed when heard)] of every
    `data_stored` sent meanwhile; the count is read on another connection, so
    it shows what had been committed. (A tick with no inactive spell open is
    judged without a write, so no receiver before this one commits it.)"""
    heard = []

    def receiver(_app, news):
        with db.engine.connect() as other:
            ticks = other.execute(
                select(func.count()).select_from(ExerciseLog)
            ).scalar()
        heard.append((news.patient_id, frozenset(news.kinds), news.author_id, ticks))

    with writes.data_stored.connected_to(receiver):
        yield heard


def test_each_new_record_is_heard_of_once_after_its_commit_and_a_replay_never(
    app, world, patient, therapist
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
    tick = {"id": new_id(), "exercise_id": exercise_id(patient), "performed_on": today}
    with listening(app) as heard:
        for client, path, body in (
            (patient, "/pain-logs", pain),
            (patient, "/flare-ups", flare),
            (patient, "/messages", message),
            (therapist, "/messages", {"id": new_id(), "body": "Rest it"}),
            (patient, "/exercise-logs", tick),
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
            ("/exercise-logs", tick),
        ):
            assert patient.post(url + path, json=body).status_code == 200  # replays
        assert patient.delete(f"{url}/exercise-logs/{tick['id']}").status_code == 204
        # undoing it again changes nothing, and tells nothing
        assert patient.delete(f"{url}/exercise-logs/{tick['id']}").status_code == 204
    me, them = world.patient_a, world.therapist_a
    assert [(p, set(k), author) for p, k, author, _ in heard] == [
        (me, {"pain_log"}, me),
        (me, {"flare_up"}, me),
        (me, {"message"}, me),
        (me, {"message"}, them),
        (me, {"exercise_log"}, me),
        (me, {"psfs"}, me),
        (me, {"odi"}, them),
        (me, {"deleted_exercise_log"}, me),
    ]
    assert heard[4][3] == 1  # the tick was committed before it was told


def test_a_sync_is_heard_of_once_with_the_kinds_it_stored(app, world, patient):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    tick = {"id": new_id(), "exercise_id": exercise_id(patient), "performed_on": today}
    batch = {
        "exercise_logs": [tick],
        "pain_logs": [{"id": new_id(), "logged_on": today, "score": 9}],
        "messages": [{"id": new_id(), "body": "Bad night"}],
        "flare_ups": [{"id": new_id(), "started_on": "2999-01-01"}],  # invalid
    }
    with listening(app) as heard:
        assert patient.post("/api/sync", json=batch).status_code == 200
        assert patient.post("/api/sync", json=batch).status_code == 200  # replays
    assert [(p, set(k)) for p, k, _, _ in heard] == [
        (world.patient_a, {"exercise_log", "pain_log", "message"})
    ]


def test_a_failing_receiver_fails_no_write_and_stops_no_other(app, world, patient):
    """A broken receiver, connected before another: the tick and the
    check-ins are stored and audited, the other receiver hears of each, and
    the alert rules still raise their alert."""

    def broken(_app, news):
        raise RuntimeError("this receiver is broken")

    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    tick = {"id": new_id(), "exercise_id": exercise_id(patient), "performed_on": today}
    with writes.data_stored.connected_to(broken), listening(app) as heard:
        assert patient.post(f"{url}/exercise-logs", json=tick).status_code == 201
        for score in (8, 9):
            pain = {"id": new_id(), "logged_on": today, "score": score}
            assert patient.post(f"{url}/pain-logs", json=pain).status_code == 201
    assert [set(kinds) for _, kinds, _, _ in heard] == [
        {"exercise_log"},
        {"pain_log"},
        {"pain_log"},
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExerciseLog)) == 1
        assert db.session.scalar(select(func.count()).select_from(PainLog)) == 2
        audited = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("logs.record_%"))
        ).all()
        assert sorted(audited) == ["logs.record_exercise"] + ["logs.record_pain"] * 2
        rules = db.session.scalars(
            select(Alert.rule).where(Alert.patient_id == world.patient_a)
        ).all()
        assert "pain_high" in rules
        db.session.remove()


def test_a_tick_with_no_inactive_spell_open_commits_once(app, world, patient):
    """A tick can only end an inactive spell: with none open, the alert rules
    read that and write nothing; the request commits its tick, recount and
    audit row once."""
    with app.app_context():
        engine = db.engine
    routine = patient.get(f"/api/patients/{world.patient_a}/routine").json
    exercise = exercise_id(patient)
    commits = []

    def commit(connection):
        commits.append(connection)

    event.listen(engine, "commit", commit)
    try:
        tick = {
            "id": new_id(),
            "exercise_id": exercise,
            "performed_on": routine["today"],
        }
        url = f"/api/patients/{world.patient_a}/exercise-logs"
        assert patient.post(url, json=tick).status_code == 201
    finally:
        event.remove(engine, "commit", commit)
    assert len(commits) == 1


def test_a_commit_that_skips_the_trip_is_refused(app, world):
    """A write that noted a change of sessions done, or new records, and then
    commits on its own would skip the recount and the signal: refused."""
    with app.app_context():
        note_changed(world.patient_a, date.today())
        with pytest.raises(RuntimeError, match="writes.commit"):
            db.session.commit()
        db.session.rollback()
        writes.stored(world.patient_a, {"pain_log"})
        with pytest.raises(RuntimeError, match="writes.commit"):
            db.session.commit()
        db.session.rollback()
        db.session.commit()  # a rollback forgot both: nothing is refused
        db.session.remove()
