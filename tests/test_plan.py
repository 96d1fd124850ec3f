"""The patient's week (what is due on which day, what was done) and "Your
programme changed" (what a new version added, removed and re-dosed)."""

from datetime import date, timedelta

from backend.services import writes
from backend.services.programmes import create_version
from tests.conftest import exercise_id, item, new_id, prescribe


def dose(exercise, times=1, days=(0, 1, 2, 3, 4, 5, 6), **extra):
    return {
        "exercise_id": exercise,
        "sets": extra.get("sets", 2),
        "reps": extra.get("reps", 10),
        "hold_seconds": extra.get("hold_seconds", 0),
        "times_per_day": times,
        "days_of_week": list(days),
        "notes": extra.get("notes", ""),
    }


def test_the_week_shows_each_days_exercises_due_and_done(
    app, world, therapist, patient
):
    bridge, tilt = (
        exercise_id(therapist, "Glute bridge"),
        exercise_id(patient, "Pelvic"),
    )
    today = date.fromisoformat(
        patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    )
    monday = today - timedelta(days=today.weekday()) - timedelta(days=7)  # last week
    with app.app_context():
        create_version(
            world.patient_a,
            [dose(bridge, 2), dose(tilt, 1, days=(0, 2, 4))],
            monday - timedelta(days=3),
            "",
            None,
        )
        # from Thursday on, the bridge once a day and no pelvic tilt
        create_version(
            world.patient_a, [dose(bridge, 1)], monday + timedelta(days=3), "", None
        )
        writes.commit()
    url = f"/api/patients/{world.patient_a}"

    def tick(exercise, day):
        body = {
            "id": new_id(),
            "exercise_id": exercise,
            "performed_on": day.isoformat(),
        }
        assert patient.post(f"{url}/exercise-logs", json=body).status_code == 201

    for _ in range(3):  # three on Monday: two count
        tick(bridge, monday)
    tick(tilt, monday)
    tick(tilt, monday + timedelta(days=1))  # not due on Tuesday: not counted
    tick(bridge, monday + timedelta(days=3))

    week = patient.get(f"{url}/week", query_string={"date": str(monday + timedelta(2))})
    assert week.status_code == 200
    week = week.json
    assert week["start"] == monday.isoformat() and week["today"] == today.isoformat()
    assert [e["name"] for e in week["exercises"]] == ["Glute bridge", "Pelvic tilt"]
    by_day = {d["date"]: d for d in week["days"]}
    assert len(by_day) == 7

    def counts(offset):
        day = by_day[(monday + timedelta(days=offset)).isoformat()]
        return (
            day["due"],
            day["done"],
            {i["exercise_id"]: (i["due"], i["done"]) for i in day["items"]},
        )

    assert counts(0) == (3, 3, {bridge: (2, 2), tilt: (1, 1)})
    assert counts(1) == (2, 0, {bridge: (2, 0)})
    assert counts(2) == (3, 0, {bridge: (2, 0), tilt: (1, 0)})
    assert counts(3) == (1, 1, {bridge: (1, 1)})  # the new version
    assert counts(4) == (1, 0, {bridge: (1, 0)})

    # this week: days after today are due, never done
    this_week = patient.get(f"{url}/week").json
    later = [d for d in this_week["days"] if d["date"] > today.isoformat()]
    assert all(d["done"] == 0 and d["due"] == 1 for d in later)


def test_the_week_is_the_patients_their_therapists_and_admins_only(
    world, therapist, admin, signed_in
):
    url = f"/api/patients/{world.patient_a}/week"
    assert therapist.get(url).status_code == 200
    assert admin.get(url).status_code == 200
    assert signed_in("patient_a2").get(url).status_code == 404
    assert signed_in("therapist_b").get(url).status_code == 404
    assert therapist.get(url, query_string={"date": "2101-01-01"}).status_code == 422


def test_a_new_version_tells_the_patient_what_changed_until_they_have_seen_it(
    world, therapist, patient
):
    knee, bridge, tilt = (
        exercise_id(therapist, name)
        for name in ("Knee-to-chest", "Glute bridge", "Pelvic tilt")
    )
    url = f"/api/patients/{world.patient_a}"
    prescribe(therapist, world.patient_a, [item(knee), item(bridge)])
    first = patient.get(f"{url}/routine").json
    assert first["programme_change"] is None  # a first programme is not a change

    prescribe(
        therapist,
        world.patient_a,
        [item(knee, times=2, days=[0, 2, 4], notes="Slowly"), item(tilt)],
        note="Less bridging while the spasms settle.",
    )
    change = patient.get(f"{url}/routine").json["programme_change"]
    assert change["version"] == 2
    assert change["note"] == "Less bridging while the spasms settle."
    assert [a["name"] for a in change["added"]] == ["Pelvic tilt"]
    assert [r["name"] for r in change["removed"]] == ["Glute bridge"]
    [changed] = change["changed"]
    assert changed["name"] == "Knee-to-chest stretch"
    assert (changed["before"]["times_per_day"], changed["after"]["times_per_day"]) == (
        1,
        2,
    )
    assert changed["after"]["days_of_week"] == [0, 2, 4]
    assert changed["notes"] == "Slowly"
    # in the language the patient reads
    spanish = patient.get(f"{url}/routine", headers={"Accept-Language": "es"}).json
    assert [a["name"] for a in spanish["programme_change"]["added"]] == [
        "Inclinación pélvica"
    ]
    assert spanish["programme_change"]["changed"][0]["name"] == "Rodilla al pecho"

    # the therapist sees the same routine; only the patient can say it was seen
    assert (
        therapist.post(f"{url}/programme/seen", json={"version": 2}).status_code == 403
    )
    too_new = patient.post(f"{url}/programme/seen", json={"version": 3})
    assert too_new.status_code == 422 and "latest version is 2" in str(too_new.json)
    assert patient.post(f"{url}/programme/seen", json={"version": 2}).status_code == 204
    assert patient.get(f"{url}/routine").json["programme_change"] is None
    # an older version seen later (another device) does not bring it back
    assert patient.post(f"{url}/programme/seen", json={"version": 1}).status_code == 204
    assert patient.get(f"{url}/routine").json["programme_change"] is None

    prescribe(therapist, world.patient_a, [item(knee, times=2, days=[0, 2, 4])])
    third = patient.get(f"{url}/routine").json["programme_change"]
    assert third["version"] == 3 and [a["name"] for a in third["removed"]] == [
        "Pelvic tilt"
    ]
