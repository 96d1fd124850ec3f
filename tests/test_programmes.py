"""Versioned programmes and the routine they make."""

from datetime import date, timedelta

import pytest

from tests.conftest import exercise_id, item, prescribe


def test_a_new_version_ends_the_previous_one_and_keeps_history(world, therapist):
    knee = exercise_id(therapist)
    bird = exercise_id(therapist, "bird dog")
    first = prescribe(therapist, world.patient_a, [item(knee)], note="Start gently")
    start = date.fromisoformat(first["starts_on"])
    second = prescribe(
        therapist,
        world.patient_a,
        [item(bird, times=2)],
        starts_on=(start + timedelta(days=3)).isoformat(),
    )
    assert second["version"] == 2 and second["ends_on"] is None
    history = therapist.get(f"/api/patients/{world.patient_a}/programme/history").json
    assert [v["version"] for v in history] == [2, 1]
    assert history[1]["ends_on"] == (start + timedelta(days=2)).isoformat()
    assert history[1]["items"][0]["exercise"]["id"] == knee
    assert history[1]["note"] == "Start gently"
    # the version starting in three days is not in force yet
    current = therapist.get(f"/api/patients/{world.patient_a}/programme").json
    assert current["version"] == 1


def test_programme_response_embeds_the_exercise(world, therapist):
    knee = exercise_id(therapist)
    body = prescribe(
        therapist,
        world.patient_a,
        [item(knee, times=3, days=[0, 2, 4], sets=2, reps=8, hold_seconds=20)],
    )
    [only] = body["items"]
    assert only | {"exercise": None} == {
        "exercise_id": knee,
        "sets": 2,
        "reps": 8,
        "hold_seconds": 20,
        "times_per_day": 3,
        "days_of_week": [0, 2, 4],
        "notes": "",
        "exercise": None,
    }
    assert only["exercise"]["name"].startswith("Knee-to-chest")
    assert body["created_by"] == world.therapist_a


def test_no_programme_is_a_404(world, therapist):
    assert (
        therapist.get(f"/api/patients/{world.patient_a}/programme").status_code == 404
    )


def test_routine_lists_only_items_due_on_that_weekday(world, therapist, patient):
    knee = exercise_id(therapist)
    bird = exercise_id(therapist, "bird dog")
    prescribe(therapist, world.patient_a, [item(knee, times=2), item(bird, days=[0])])
    today = date.fromisoformat(
        patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    )
    for offset in range(7):
        day = today + timedelta(days=offset)
        routine = patient.get(
            f"/api/patients/{world.patient_a}/routine",
            query_string={"date": day.isoformat()},
        ).json
        names = [i["exercise_id"] for i in routine["items"]]
        assert names == ([knee, bird] if day.weekday() == 0 else [knee])
        assert routine["items"][0]["sessions_due"] == 2


def test_therapists_edit_changes_the_patients_today(world, therapist, patient):
    knee = exercise_id(therapist)
    bird = exercise_id(therapist, "bird dog")
    prescribe(therapist, world.patient_a, [item(knee)])
    before = patient.get(f"/api/patients/{world.patient_a}/routine").json
    prescribe(therapist, world.patient_a, [item(bird, times=3)])
    after = patient.get(f"/api/patients/{world.patient_a}/routine").json
    assert [i["exercise_id"] for i in before["items"]] == [knee]
    assert [(i["exercise_id"], i["sessions_due"]) for i in after["items"]] == [
        (bird, 3)
    ]
    history = patient.get(f"/api/patients/{world.patient_a}/programme/history").json
    assert len(history) == 2  # the same-day edit keeps the first version on record


@pytest.mark.parametrize(
    "change,field",
    [
        ({"sets": -1}, "sets"),
        ({"sets": 2.5}, "sets"),
        ({"reps": "10"}, "reps"),
        ({"times_per_day": 0}, "times_per_day"),
        ({"times_per_day": 7}, "times_per_day"),
        ({"days_of_week": [7]}, "days_of_week"),
        ({"days_of_week": []}, "days_of_week"),
        ({"days_of_week": [1, 1]}, "days_of_week"),
        ({"hold_seconds": -5}, "hold_seconds"),
        ({"exercise_id": 999999}, "exercise_id"),
    ],
)
def test_bad_item_is_refused_and_nothing_changes(world, therapist, change, field):
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee)])
    response = therapist.put(
        f"/api/patients/{world.patient_a}/programme",
        json={"items": [item(knee), item(knee) | change]},
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["items"]["1"]
    history = therapist.get(f"/api/patients/{world.patient_a}/programme/history").json
    assert len(history) == 1 and history[0]["ends_on"] is None


def test_another_clinics_private_exercise_cannot_be_prescribed(
    world, therapist, signed_in
):
    theirs = (
        signed_in("therapist_b")
        .post(
            "/api/exercises",
            json={
                "name": "B only",
                "category": "core",
                "body_region": "core",
                "instructions": "Secret.",
            },
        )
        .json
    )
    response = therapist.put(
        f"/api/patients/{world.patient_a}/programme",
        json={"items": [item(theirs["id"])]},
    )
    assert response.status_code == 422


@pytest.mark.parametrize("starts_on", ["2020-01-01", "2026-02-30", "yesterday"])
def test_programme_cannot_start_in_the_past_or_on_an_impossible_date(
    world, therapist, starts_on
):
    knee = exercise_id(therapist)
    response = therapist.put(
        f"/api/patients/{world.patient_a}/programme",
        json={"items": [item(knee)], "starts_on": starts_on},
    )
    assert response.status_code == 422
    assert "starts_on" in response.json["errors"]["json"]


def test_version_cannot_start_before_a_scheduled_one(world, therapist):
    knee = exercise_id(therapist)
    soon = date.today() + timedelta(days=10)
    prescribe(therapist, world.patient_a, [item(knee)], starts_on=soon.isoformat())
    response = therapist.put(
        f"/api/patients/{world.patient_a}/programme",
        json={
            "items": [item(knee)],
            "starts_on": (soon - timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 422


def test_empty_programme_is_refused(world, therapist):
    response = therapist.put(
        f"/api/patients/{world.patient_a}/programme", json={"items": []}
    )
    assert response.status_code == 422


def test_the_same_exercise_twice_in_one_programme_is_refused(world, therapist):
    knee = exercise_id(therapist)
    response = therapist.put(
        f"/api/patients/{world.patient_a}/programme",
        json={"items": [item(knee), item(knee, times=2)]},
    )
    assert response.status_code == 422
    assert "items" in response.json["errors"]["json"]
    assert (
        therapist.get(f"/api/patients/{world.patient_a}/programme").status_code == 404
    )
