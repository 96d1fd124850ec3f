"""The adherence engine against hand-computed cases, and the progress endpoint."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, update

from backend.extensions import db
from backend.models import AdherenceDay, Exercise, ExerciseLog, PainLog, User
from backend.services import writes
from backend.services.adherence import adherence_by, note_changed, week_start
from backend.services.programmes import create_version
from tests.conftest import add_patient, exercise_id, item, new_id, prescribe
from tests.reference import reference_totals

# Thursday 12 March 2026, noon in London; already Friday 13 March in Kiribati.
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
D = date(2026, 3, 1)  # a Sunday, the day before the first programme


def day(n: int) -> date:
    return D + timedelta(days=n)


def tick(patient_id, exercise_id, on, times=1, deleted=False):
    for _ in range(times):
        db.session.add(
            ExerciseLog(
                id=uuid.uuid4(),
                patient_id=patient_id,
                exercise_id=exercise_id,
                performed_on=on,
                deleted_at=NOW if deleted else None,
            )
        )


def pain(patient_id, on, score, spasms=None):
    db.session.add(
        PainLog(
            id=uuid.uuid4(),
            patient_id=patient_id,
            logged_on=on,
            score=score,
            spasms=spasms,
        )
    )


def dose(exercise_id, times, days=range(7)):
    return {
        "exercise_id": exercise_id,
        "sets": 1,
        "reps": 10,
        "hold_seconds": 0,
        "times_per_day": times,
        "days_of_week": list(days),
    }


@pytest.fixture
def case(app, world):
    """The hand-computed case below, for a London patient of therapist_a.

    v1 from Mon 2 Mar: A twice a day; B Mon/Wed/Fri.
    v2 from Mon 9 Mar: A once a day; C Tue/Thu.
    """
    with time_machine.travel(NOW, tick=False), app.app_context():
        ids = dict(db.session.execute(select(Exercise.slug, Exercise.id)).all())
        a, b, c = ids["knee-to-chest"], ids["bird-dog"], ids["dead-bug"]
        patient = world.patient_a
        create_version(patient, [dose(a, 2), dose(b, 1, (0, 2, 4))], day(1), "", None)
        create_version(patient, [dose(a, 1), dose(c, 1, (1, 3))], day(8), "", None)
        tick(patient, a, day(0))  # Sun 1: before any programme
        tick(patient, a, day(1), times=3)  # Mon 2: over-logged, counts 2 of 2
        tick(patient, b, day(1))  # Mon 2: B due
        tick(patient, a, day(2))  # Tue 3: 1 of 2
        tick(patient, b, day(2))  # Tue 3: B not due, does not count
        tick(patient, a, day(8))  # Mon 9: 1 of 1
        tick(patient, c, day(8))  # Mon 9: C not due on Mondays
        tick(patient, a, day(9), times=2)  # Tue 10: A capped at 1
        tick(patient, c, day(9))  # Tue 10: C due
        tick(patient, a, day(10), deleted=True)  # Wed 11: undone, does not count
        tick(patient, a, day(11))  # Thu 12 (today): 1 of 2
        pain(patient, day(1), 7, spasms=3)
        pain(patient, day(1), 5, spasms=1)
        pain(patient, day(11), 3)
        note_changed(patient, day(0))  # what the write paths do
        writes.commit()
    with time_machine.travel(NOW, tick=False):
        yield {"a": a, "b": b, "c": c, "patient": patient}


# (due, done) per day, by hand; no entry means nothing was due.
EXPECTED = {
    day(1): (3, 3),
    day(2): (2, 1),
    day(3): (3, 0),
    day(4): (2, 0),
    day(5): (3, 0),
    day(6): (2, 0),
    day(7): (2, 0),
    day(8): (1, 1),
    day(9): (2, 2),
    day(10): (1, 0),
    day(11): (2, 1),
}


def test_engine_matches_the_hand_computed_days(app, case):
    with app.app_context():
        ids = select(User.id).where(User.id == case["patient"])
        found = adherence_by(ids, day(0), day(14))
        assert {d: (t.due, t.done) for (_, d), t in found.items()} == EXPECTED
        assert reference_totals(case["patient"], day(0), day(14), day(11)) == EXPECTED


def test_engine_by_iso_week(app, case):
    with app.app_context():
        ids = select(User.id).where(User.id == case["patient"])
        weeks = adherence_by(ids, day(0), day(14), week_start)
    assert {w: (t.due, t.done) for (_, w), t in weeks.items()} == {
        date(2026, 3, 2): (17, 4),
        date(2026, 3, 9): (6, 4),
    }


def test_progress_endpoint_days_and_summary(case, patient):
    body = patient.get(
        f"/api/patients/{case['patient']}/progress",
        query_string={"from": "2026-03-01", "to": "2026-03-15"},
    ).json
    days = {d["date"]: d for d in body["days"]}
    assert body["days"][-1]["date"] == "2026-03-12"  # the future is left out
    assert days["2026-03-01"] | {"date": None} == {
        "date": None,
        "sessions_due": 0,
        "sessions_done": 0,
        "adherence": None,
        "pain_mean": None,
        "pain_max": None,
        "spasms": None,
    }
    assert days["2026-03-02"]["adherence"] == 1.0
    assert (
        days["2026-03-02"]["pain_mean"],
        days["2026-03-02"]["pain_max"],
        days["2026-03-02"]["spasms"],
    ) == (6.0, 7, 4)
    assert days["2026-03-03"]["adherence"] == 0.5
    assert body["summary"]["adherence"] == pytest.approx(8 / 23)
    assert body["summary"]["pain_first_7d_mean"] == 6.0
    assert body["summary"]["pain_last_7d_mean"] == 3.0


def test_a_patient_at_utc_plus_14_counts_their_own_today(app, world, case):
    with app.app_context():
        hashed = app.extensions["homeward_passwords"].hash("kiritimati-pw")
        kiri = add_patient(
            world.clinic_a,
            "kiri@a.test",
            world.therapist_a,
            "Pacific/Kiritimati",
            hashed,
        ).id
        create_version(kiri, [dose(case["a"], 1)], day(11), "", None)
        tick(kiri, case["a"], day(12))  # Fri 13 March: their today
        note_changed(kiri, day(11))
        writes.commit()
        both = select(User.id).where(User.id.in_([kiri, case["patient"]]))
        found = adherence_by(both, day(11), day(12))
    assert (found[(kiri, day(11))].due, found[(kiri, day(12))].due) == (1, 1)
    assert found[(kiri, day(12))].done == 1
    assert (case["patient"], day(12)) not in found  # still the 12th in London


def test_patient_list_summary_and_flags(case, therapist, app):
    [row] = [
        p for p in therapist.get("/api/patients").json if p["id"] == case["patient"]
    ]
    # last 7 days (6–12 Mar): due 3+2+2+1+2+1+2 = 13, done 0+0+0+1+2+0+1 = 4
    assert row["adherence_7d"] == pytest.approx(4 / 13)
    assert row["pain_latest"] == 3
    assert row["last_activity"] == "2026-03-12"
    assert row["flags"] == ["low_adherence"]


def test_rising_pain_and_inactivity_are_flagged(app, world, case, signed_in):
    with app.app_context():
        for n in range(-13, -6):  # the week before: pain 2 every day
            pain(world.patient_a2, day(11 + n), 2)
        for n in range(-6, -4):  # this week: pain 6 twice, then 5 silent days
            pain(world.patient_a2, day(11 + n), 6)
        create_version(world.patient_a2, [dose(case["a"], 1)], day(0), "", None)
        writes.commit()
    listed = {p["id"]: p for p in signed_in("admin_a").get("/api/patients").json}
    assert set(listed[world.patient_a2]["flags"]) == {
        "pain_rising",
        "low_adherence",
        "inactive",
    }
    assert listed[world.patient_a2]["last_activity"] == "2026-03-07"
    own = {p["id"] for p in signed_in("therapist_a").get("/api/patients").json}
    assert world.patient_a2 not in own


def test_one_patient_carries_the_same_summary_as_the_list(case, therapist):
    listed = {p["id"]: p for p in therapist.get("/api/patients").json}
    one = therapist.get(f"/api/patients/{case['patient']}").json
    assert one == listed[case["patient"]]


def test_sessions_done_follow_every_kind_of_write(app, world, therapist, patient):
    """Ticks, replays, undos and syncs through the API keep the stored sessions
    done equal to a count from the logs themselves."""
    knee = exercise_id(therapist)
    bird = exercise_id(therapist, "bird dog")
    prescribe(therapist, world.patient_a, [item(knee, times=2), item(bird, times=1)])
    url = f"/api/patients/{world.patient_a}"
    today = date.fromisoformat(patient.get(f"{url}/routine").json["today"])
    ticks = [
        {"id": new_id(), "exercise_id": knee, "performed_on": today.isoformat()}
        for _ in range(3)
    ]
    for body in ticks + ticks[:1]:  # three ticks (over-logged) and a replay
        patient.post(f"{url}/exercise-logs", json=body)
    for undone_tick in ticks[:2]:  # two undone: one knee session left
        patient.delete(f"{url}/exercise-logs/{undone_tick['id']}")
    synced = {"id": new_id(), "exercise_id": bird, "performed_on": today.isoformat()}
    undone = {"id": new_id(), "exercise_id": bird, "performed_on": today.isoformat()}
    patient.post(
        "/api/sync",
        json={
            "exercise_logs": [synced, undone],
            "deleted_exercise_logs": [undone["id"]],
        },
    )
    [day_row] = patient.get(
        f"{url}/progress",
        query_string={"from": today.isoformat(), "to": today.isoformat()},
    ).json["days"]
    with app.app_context():
        expected = reference_totals(world.patient_a, today, today, today)
    assert (day_row["sessions_due"], day_row["sessions_done"]) == expected[today]
    assert expected[today] == (3, 2)  # knee 1 of 2 after two undos, bird 1 of 1


def test_a_tick_made_before_moving_west_counts_once_its_day_comes(
    app, world, signed_in
):
    """00:30 on 13 March in London is still 12 March in Los Angeles: a tick of
    the 13th made in London does not count in LA until LA reaches the 13th,
    and then it does."""
    with time_machine.travel(datetime(2026, 3, 13, 0, 30, tzinfo=UTC), tick=False):
        therapist, patient = signed_in("therapist_a"), signed_in("patient_a")
        knee = exercise_id(therapist)
        prescribe(therapist, world.patient_a, [item(knee)])
        url = f"/api/patients/{world.patient_a}"
        tick = {"id": new_id(), "exercise_id": knee, "performed_on": "2026-03-13"}
        assert patient.post(f"{url}/exercise-logs", json=tick).status_code == 201
        moved = patient.patch(url, json={"timezone": "America/Los_Angeles"})
        assert moved.status_code == 200
        days = patient.get(f"{url}/progress", query_string={"from": "2026-03-12"})
        assert [d["date"] for d in days.json["days"]] == ["2026-03-12"]
        [row] = [
            p for p in therapist.get("/api/patients").json if p["id"] == world.patient_a
        ]
        assert row["adherence_7d"] is None  # the programme starts on the 13th
    with time_machine.travel(datetime(2026, 3, 13, 9, 0, tzinfo=UTC), tick=False):
        days = patient.get(f"{url}/progress", query_string={"from": "2026-03-13"})
        [the_13th] = days.json["days"]
        assert (the_13th["sessions_due"], the_13th["sessions_done"]) == (1, 1)


def test_rebuild_adherence_restores_the_stored_days_from_the_ticks(app, case):
    patient = case["patient"]

    def stored() -> dict:
        return dict(
            db.session.execute(
                select(AdherenceDay.day, AdherenceDay.done).where(
                    AdherenceDay.patient_id == patient
                )
            ).all()
        )

    with app.app_context():
        kept = stored()
        assert kept == {on: done for on, (_due, done) in EXPECTED.items() if done}
        # damage: a day lost, a day wrong, a day that never happened
        db.session.execute(
            delete(AdherenceDay).where(
                AdherenceDay.patient_id == patient, AdherenceDay.day == day(1)
            )
        )
        db.session.execute(
            update(AdherenceDay)
            .where(AdherenceDay.patient_id == patient, AdherenceDay.day == day(9))
            .values(done=5)
        )
        db.session.add(AdherenceDay(patient_id=patient, day=day(4), done=1))
        db.session.commit()
        assert stored() != kept

    result = app.test_cli_runner().invoke(args=["rebuild-adherence"])
    assert result.exit_code == 0, result.output
    assert f"{len(kept)} patient-days stored, 3 corrected" in result.output
    with app.app_context():
        assert stored() == kept
        db.session.remove()

    again = app.test_cli_runner().invoke(args=["rebuild-adherence"])
    assert "0 corrected" in again.output
