"""POST /api/sync: the offline outbox, every record judged on its own."""

from backend.extensions import db
from backend.models import ExerciseLog, FlareUp, Message, PainLog
from tests.conftest import exercise_id, item, new_id, prescribe


def stored(app, model):
    with app.app_context():
        return {str(row.id): row for row in db.session.query(model)}


def test_batch_with_created_duplicate_conflict_and_invalid_records(
    app, world, therapist, patient
):
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee, times=3)])
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    already = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    clashing = {
        "id": new_id(),
        "exercise_id": knee,
        "performed_on": today,
        "difficulty": 2,
    }
    patient.post(f"/api/patients/{world.patient_a}/exercise-logs", json=already)
    patient.post(f"/api/patients/{world.patient_a}/exercise-logs", json=clashing)
    fresh_tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    fresh_pain = {"id": new_id(), "logged_on": today, "score": 5, "spasms": 1}
    bad_pain = {"id": new_id(), "logged_on": today, "score": 12}
    future_tick = {"id": new_id(), "exercise_id": knee, "performed_on": "2999-01-01"}

    response = patient.post(
        "/api/sync",
        json={
            "exercise_logs": [
                fresh_tick,
                already,
                clashing | {"difficulty": 4},
                future_tick,
                "not an object",
            ],
            "pain_logs": [bad_pain, fresh_pain],
            "deleted_exercise_logs": [already["id"], new_id(), 42],
        },
    )
    assert response.status_code == 200
    results = response.json["results"]
    assert [(r["kind"], r["status"]) for r in results] == [
        ("exercise_log", "created"),
        ("exercise_log", "duplicate"),
        ("exercise_log", "conflict"),
        ("exercise_log", "invalid"),
        ("exercise_log", "invalid"),
        ("pain_log", "invalid"),
        ("pain_log", "created"),
        ("deleted_exercise_log", "created"),
        ("deleted_exercise_log", "invalid"),
        ("deleted_exercise_log", "invalid"),
    ]
    assert [r["id"] for r in results[:4]] == [
        fresh_tick["id"],
        already["id"],
        clashing["id"],
        future_tick["id"],
    ]
    assert "performed_on" in results[3]["errors"]
    assert "score" in results[5]["errors"]

    ticks = stored(app, ExerciseLog)
    assert set(ticks) == {already["id"], clashing["id"], fresh_tick["id"]}
    assert ticks[clashing["id"]].difficulty == 2  # the conflict changed nothing
    assert ticks[already["id"]].deleted_at is not None
    assert set(stored(app, PainLog)) == {fresh_pain["id"]}


def test_replaying_the_whole_batch_changes_nothing(app, world, therapist, patient):
    knee = exercise_id(therapist)
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    batch = {
        "exercise_logs": [tick],
        "pain_logs": [{"id": new_id(), "logged_on": today, "score": 3}],
        "deleted_exercise_logs": [tick["id"]],
    }
    first = patient.post("/api/sync", json=batch).json["results"]
    again = patient.post("/api/sync", json=batch).json["results"]
    assert [r["status"] for r in first] == ["created", "created", "created"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate", "duplicate"]
    assert len(stored(app, ExerciseLog)) == 1 and len(stored(app, PainLog)) == 1
    assert patient.get(f"/api/patients/{world.patient_a}/exercise-logs").json == []


def test_the_same_record_twice_in_one_batch_is_stored_once(app, world, patient):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    pain = {"id": new_id(), "logged_on": today, "score": 3}
    results = patient.post(
        "/api/sync", json={"pain_logs": [pain, pain, pain | {"score": 4}]}
    ).json["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "conflict"]
    assert len(stored(app, PainLog)) == 1


def test_a_patient_cannot_undo_another_patients_tick(app, world, signed_in, therapist):
    knee = exercise_id(therapist)
    first = signed_in("patient_a")
    today = first.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    first.post(f"/api/patients/{world.patient_a}/exercise-logs", json=tick)
    results = (
        signed_in("patient_a2")
        .post("/api/sync", json={"deleted_exercise_logs": [tick["id"]]})
        .json["results"]
    )
    assert results[0]["status"] == "invalid"
    assert stored(app, ExerciseLog)[tick["id"]].deleted_at is None


def test_empty_batch_is_fine_and_a_malformed_one_is_a_422(world, patient):
    assert patient.post("/api/sync", json={}).json == {"results": []}
    response = patient.post("/api/sync", json={"pain_logs": "nope"})
    assert response.status_code == 422
    assert "pain_logs" in response.json["errors"]["json"]


def test_messages_and_flare_ups_are_judged_each_on_its_own_in_their_order(
    app, world, patient, therapist
):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    first = {"id": new_id(), "body": "Written on the bus"}
    second = {"id": new_id(), "body": "And a second thought"}
    already = {"id": new_id(), "body": "Sent while online"}
    patient.post(f"/api/patients/{world.patient_a}/messages", json=already)
    theirs = {"id": new_id(), "body": "From my therapist"}
    therapist.post(f"/api/patients/{world.patient_a}/messages", json=theirs)
    flare = {
        "id": new_id(),
        "started_on": today,
        "severity": 6,
        "triggers": ["sitting"],
        "helped": ["heat"],
    }
    response = patient.post(
        "/api/sync",
        json={
            "flare_ups": [
                flare,
                flare | {"id": new_id(), "triggers": ["other"]},  # no note
                flare | {"id": new_id(), "started_on": "2999-01-01"},
                flare | {"severity": 2},
            ],
            "messages": [
                first,
                already,
                already | {"body": "Changed my mind"},
                theirs,  # the therapist's words are no replay of the patient's
                {"id": new_id(), "body": "x" * 2001},
                {"id": new_id(), "body": "bell\x07"},
                second,
                "not an object",
            ],
            "pain_logs": [{"id": new_id(), "logged_on": today, "score": 3}],
        },
    )
    assert response.status_code == 200
    results = response.json["results"]
    assert [(r["kind"], r["status"]) for r in results] == [
        ("pain_log", "created"),
        ("message", "created"),
        ("message", "duplicate"),
        ("message", "conflict"),
        ("message", "conflict"),
        ("message", "invalid"),
        ("message", "invalid"),
        ("message", "created"),
        ("message", "invalid"),
        ("flare_up", "created"),
        ("flare_up", "invalid"),
        ("flare_up", "invalid"),
        ("flare_up", "conflict"),
    ]
    assert "body" in results[5]["errors"] and "body" in results[6]["errors"]
    assert "note" in results[10]["errors"]
    assert "started_on" in results[11]["errors"]

    thread = therapist.get(f"/api/patients/{world.patient_a}/messages").json
    assert [m["body"] for m in thread] == [
        already["body"],
        theirs["body"],
        first["body"],  # a batch keeps the order it was written in
        second["body"],
    ]
    assert thread[2]["author"]["id"] == world.patient_a
    assert set(stored(app, FlareUp)) == {flare["id"]}


def test_replaying_messages_and_flare_ups_changes_nothing_and_tells_once(
    app, world, patient, mailbox
):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    batch = {
        "messages": [
            {"id": new_id(), "body": "One"},
            {"id": new_id(), "body": "Two"},
        ],
        "flare_ups": [
            {
                "id": new_id(),
                "started_on": today,
                "severity": 5,
                "triggers": ["stress", "lifting"],
                "helped": [],
            }
        ],
    }
    first = patient.post("/api/sync", json=batch).json["results"]
    assert [r["status"] for r in first] == ["created"] * 3
    assert len(mailbox.to("ther@a.test")) == 1  # one notice for the batch
    batch["flare_ups"][0]["triggers"] = ["lifting", "stress"]  # the same choices
    again = patient.post("/api/sync", json=batch).json["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert len(mailbox) == 1
    assert len(stored(app, Message)) == 2 and len(stored(app, FlareUp)) == 1


def test_a_message_id_of_another_patients_thread_is_a_conflict(app, world, signed_in):
    message = {"id": new_id(), "body": "Hello"}
    signed_in("patient_a").post(
        f"/api/patients/{world.patient_a}/messages", json=message
    )
    results = (
        signed_in("patient_a2")
        .post("/api/sync", json={"messages": [message]})
        .json["results"]
    )
    assert results[0]["status"] == "conflict"
    with app.app_context():
        [kept] = db.session.query(Message).all()
        assert kept.patient_id == world.patient_a


def test_another_clinics_exercise_can_be_neither_ticked_nor_prescribed(
    app, world, signed_in
):
    """A clinic's own exercise is its alone: a patient of another clinic can
    tick it neither live nor through the sync, and no therapist of another
    clinic can prescribe it. Each is refused as unknown and stores nothing."""
    body = {
        "name": "Clinic B's wall slide",
        "category": "mobility",
        "body_region": "upper back",
        "instructions": "Slide your arms up the wall.",
    }
    created = signed_in("therapist_b").post("/api/exercises", json=body)
    assert created.status_code == 201, created.json
    theirs = created.json["id"]
    patient = signed_in("patient_a")
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]

    def tick():
        return {"id": new_id(), "exercise_id": theirs, "performed_on": today}

    synced = patient.post("/api/sync", json={"exercise_logs": [tick()]})
    assert synced.status_code == 200
    [result] = synced.json["results"]
    assert result["status"] == "invalid"
    assert "exercise_id" in result["errors"]
    live = patient.post(f"{url}/exercise-logs", json=tick())
    assert live.status_code == 422
    assert "exercise_id" in live.json["errors"]["json"]
    prescribed = signed_in("therapist_a").put(
        f"{url}/programme", json={"note": "", "items": [item(theirs)]}
    )
    assert prescribed.status_code == 422, prescribed.json
    assert stored(app, ExerciseLog) == {}
    # the clinic's own patients may tick it
    own = signed_in("patient_b").post(
        f"/api/patients/{world.patient_b}/exercise-logs",
        json={
            "id": new_id(),
            "exercise_id": theirs,
            "performed_on": signed_in("patient_b")
            .get(f"/api/patients/{world.patient_b}/routine")
            .json["today"],
        },
    )
    assert own.status_code == 201, own.json
