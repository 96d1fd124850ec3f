"""The Patient-Specific Functional Scale: scoring, who takes it, every rule of
its activities, the history a new one starts from, and progress."""

import pytest

from backend.services import questionnaires


def url(world):
    return f"/api/patients/{world.patient_a}/questionnaires/psfs"


NAMES = ("Lifting a box", "Sitting at work", "Running")


def activities(*scores, names=NAMES):
    """Activities scored `scores`, named from `names` in turn."""
    named = names[: len(scores)]
    return [{"name": n, "score": s} for n, s in zip(named, scores, strict=True)]


@pytest.mark.parametrize(
    "scores,mean",
    [
        ([4, 5, 9], 6.0),
        ([3, 4], 3.5),
        ([5, 6, 6], 5.67),  # 17 / 3
        ([0], 0.0),
        ([10, 10, 10], 10.0),
    ],
)
def test_the_score_is_the_mean_of_the_activity_scores(scores, mean):
    assert questionnaires.mean(activities(*scores)) == mean


def test_a_patient_takes_it_and_sees_it_in_history_and_progress(world, patient):
    response = patient.post(url(world), json={"activities": activities(2, 5, 6)})
    assert response.status_code == 201
    taken = response.json
    assert set(taken) == {"id", "taken_on", "mean", "activities"}
    assert taken["mean"] == 4.33
    assert taken["activities"] == activities(2, 5, 6)
    later = patient.post(
        url(world), json={"activities": activities(5, 7, 8)}
    ).json  # the same activities, prefilled from the latest
    history = patient.get(url(world)).json
    assert [h["id"] for h in history] == [taken["id"], later["id"]]
    assert history[-1]["activities"][0]["name"] == "Lifting a box"
    progress = patient.get(f"/api/patients/{world.patient_a}/progress").json
    assert progress["psfs"] == [
        {"taken_on": taken["taken_on"], "mean": 4.33},
        {"taken_on": later["taken_on"], "mean": 6.67},
    ]


def test_the_therapist_may_take_it_with_the_patient_and_an_admin_may_not(
    world, therapist, admin
):
    body = {"activities": activities(3)}
    assert therapist.post(url(world), json=body).status_code == 201
    assert admin.post(url(world), json=body).status_code == 403
    assert len(admin.get(url(world)).json) == 1


def test_activity_names_are_trimmed(world, patient):
    body = {"activities": [{"name": "  Gardening ", "score": 4}]}
    assert patient.post(url(world), json=body).json["activities"] == [
        {"name": "Gardening", "score": 4}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"activities": []},
        {"activities": activities(1, 2, 3) + [{"name": "Cycling", "score": 4}]},
        {"activities": activities(11)},
        {"activities": activities(-1)},
        {"activities": activities(2.5)},
        {"activities": activities("5")},
        {"activities": activities(True)},
        {"activities": activities(None)},
        {"activities": [{"name": "Walking"}]},
        {"activities": [{"score": 4}]},
        {"activities": activities(3, 4, names=("Walking", "Walking"))},
        {"activities": activities(3, 4, names=("Walking", " walking "))},
        {"activities": activities(3, names=("   ",))},
        {"activities": activities(3, names=("x" * 101,))},
        {"activities": activities(3, names=("Two\nlines",))},
        {"activities": "Walking 3"},
        {},
        {"activities": activities(3), "taken_on": "2999-01-01"},
    ],
)
def test_a_bad_questionnaire_is_a_422_and_stores_nothing(world, patient, body):
    response = patient.post(url(world), json=body)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]["json"]
    assert set(errors) <= {"activities", "taken_on"} and errors
    assert patient.get(url(world)).json == []


def test_a_duplicate_name_says_which(world, patient):
    body = {"activities": activities(3, 4, names=("Walking", "WALKING"))}
    errors = patient.post(url(world), json=body).json["errors"]["json"]
    assert errors["activities"] == ["Each activity once: “WALKING” is named twice."]


def test_another_patients_questionnaires_are_a_404(world, signed_in):
    other = signed_in("patient_a2")
    assert other.get(url(world)).status_code == 404
    body = {"activities": activities(3)}
    assert other.post(url(world), json=body).status_code == 404
    assert signed_in("therapist_b").get(url(world)).status_code == 404


def test_taking_it_is_audited_with_a_sentence(world, therapist, admin):
    therapist.post(url(world), json={"activities": activities(3)})
    [event] = admin.get("/api/audit", query_string={"action": "progress."}).json
    assert event["action"] == "progress.take_psfs" and event["status"] == 201
    assert event["sentence"] == "ther recorded a functional scale (PSFS) of pat"
