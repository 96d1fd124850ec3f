"""Oswestry scoring and questionnaires, the FHIR export and the audit trail."""

from datetime import date, timedelta

import pytest
from fhir.resources.bundle import Bundle
from sqlalchemy import func, select, text

from backend.extensions import db
from backend.models import AuditEvent, ExerciseLog
from backend.services import questionnaires
from tests.conftest import ApiClient, exercise_id, new_id


@pytest.mark.parametrize(
    "answers,score,band,answered",
    [
        ([2, 2, 2, 2, 2, 2, 2, 2, 2, 1], 38.0, "moderate", 10),  # 19 / 50
        ([5, 5, 5, 5, 5, 5, 5, 5, 5, None], 100.0, "bed-bound", 9),  # 45 / 45
        ([0] * 10, 0.0, "minimal", 10),
        ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 20.0, "minimal", 10),
        ([2, 1, 1, 1, 1, 1, 1, 1, None, None], 22.5, "moderate", 8),  # 9 / 40
        ([3] * 10, 60.0, "severe", 10),
        ([4] * 8 + [5, None], 82.2, "bed-bound", 9),
    ],
)
def test_odi_scoring_and_bands(answers, score, band, answered):
    assert questionnaires.score(answers) == questionnaires.OdiScore(
        score, band, answered
    )


def test_odi_with_three_sections_missing_is_refused():
    with pytest.raises(questionnaires.TooFewAnswers):
        questionnaires.score([1, 1, 1, 1, 1, 1, 1, None, None, None])


def test_patient_takes_the_questionnaire_and_sees_it_in_progress(world, patient):
    url = f"/api/patients/{world.patient_a}/questionnaires/odi"
    response = patient.post(url, json={"answers": [2, 2, 2, 2, 2, 2, 2, 2, 2, 1]})
    assert response.status_code == 201
    assert (
        response.json["score_pct"],
        response.json["band"],
        response.json["answered"],
    ) == (38.0, "moderate", 10)
    assert [r["id"] for r in patient.get(url).json] == [response.json["id"]]
    progress = patient.get(f"/api/patients/{world.patient_a}/progress").json
    assert [o["score_pct"] for o in progress["odi"]] == [38.0]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"answers": [1, 1, 1, 1, 1, 1, 1, None, None, None]}, "answers"),
        ({"answers": [1] * 9}, "answers"),
        ({"answers": [6] * 10}, "answers"),
        ({"answers": [1.5] * 10}, "answers"),
        ({"answers": [1] * 10, "taken_on": "2999-01-01"}, "taken_on"),
    ],
)
def test_bad_questionnaire_is_a_422_and_stores_nothing(world, patient, body, field):
    url = f"/api/patients/{world.patient_a}/questionnaires/odi"
    response = patient.post(url, json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert patient.get(url).json == []


def test_therapist_may_record_an_odi_and_admin_may_not(world, therapist, admin):
    url = f"/api/patients/{world.patient_a}/questionnaires/odi"
    assert therapist.post(url, json={"answers": [1] * 10}).status_code == 201
    assert admin.post(url, json={"answers": [1] * 10}).status_code == 403


def test_fhir_bundle_validates_and_holds_pain_and_odi(world, patient, therapist):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    patient.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        json={"id": new_id(), "logged_on": today, "score": 6, "note": "stiff"},
    )
    patient.post(
        f"/api/patients/{world.patient_a}/questionnaires/odi",
        json={"answers": [2] * 10},
    )
    response = therapist.get(f"/api/patients/{world.patient_a}/fhir")
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json)
    kinds = [entry.resource.__resource_type__ for entry in bundle.entry]
    assert kinds == ["Patient", "Observation", "Observation"]
    pain = bundle.entry[1].resource
    assert pain.code.coding[0].system == "http://loinc.org"
    assert pain.code.coding[0].code == "72514-3"
    assert pain.valueInteger == 6
    assert bundle.entry[2].resource.valueQuantity.value == 40


def test_fhir_bundle_holds_flare_ups_and_psfs_and_validates(world, patient, therapist):
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    flare = {
        "id": new_id(),
        "started_on": today,
        "severity": 8,
        "triggers": ["lifting", "other"],
        "helped": ["heat"],
        "note": "Moved the sofa",
    }
    assert patient.post(f"{url}/flare-ups", json=flare).status_code == 201
    activities = [{"name": "Gardening", "score": 3}, {"name": "Driving", "score": 6}]
    taken = patient.post(f"{url}/questionnaires/psfs", json={"activities": activities})
    assert taken.status_code == 201
    bundle = Bundle.model_validate(therapist.get(f"{url}/fhir").json)
    kinds = [entry.resource.__resource_type__ for entry in bundle.entry]
    assert kinds == ["Patient", "Observation", "Observation"]
    flare_up, scale = bundle.entry[1].resource, bundle.entry[2].resource
    assert flare_up.id == f"flare-up-{flare['id']}"
    assert (flare_up.code.coding[0].system, flare_up.code.coding[0].code) == (
        "http://loinc.org",
        "72514-3",
    )
    assert flare_up.valueInteger == 8
    assert flare_up.effectiveDateTime.isoformat() == today
    assert [note.text for note in flare_up.note] == [
        "Flare-up. Triggers: lifting, other. Helped: heat.",
        "Moved the sofa",
    ]
    assert scale.code.text == "Patient-Specific Functional Scale (mean)"
    assert scale.valueQuantity.value == 4.5
    assert [(c.code.text, c.valueInteger) for c in scale.component] == [
        ("Gardening", 3),
        ("Driving", 6),
    ]


def test_another_clinic_cannot_export_the_patient(world, signed_in):
    response = signed_in("admin_b").get(f"/api/patients/{world.patient_a}/fhir")
    assert response.status_code == 404


def test_audit_records_a_failed_sign_in_with_its_address(app, world, admin):
    ApiClient(app.test_client()).post(
        "/api/auth/login",
        json={"email": "ther@a.test", "password": "wrong-password"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    events = admin.get("/api/audit").json
    [failed] = [e for e in events if e["action"] == "auth.login_failed"]
    assert failed["actor_email"] == "ther@a.test"
    assert failed["ip"] == "192.0.2.7" and failed["status"] == 401
    assert any(
        e["action"] == "auth.login" and e["actor_email"] == "admin@a.test"
        for e in events
    )


def test_audit_records_writes_and_exports_for_the_right_clinic(
    world, admin, patient, signed_in
):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    patient.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        json={"id": new_id(), "logged_on": today, "score": 4},
    )
    since = (date.fromisoformat(today) - timedelta(days=30)).isoformat()
    admin.get("/api/reports/adherence.csv", query_string={"from": since})
    events = admin.get("/api/audit").json
    pain = next(e for e in events if e["action"] == "logs.record_pain")
    assert (pain["actor_email"], pain["target_type"], pain["target_id"]) == (
        "pat@a.test",
        "patient",
        str(world.patient_a),
    )
    export = next(e for e in events if e["action"] == "reports.adherence_report_csv")
    assert export["detail"] == {"query": {"from": since}}
    other = signed_in("admin_b").get("/api/audit").json
    assert all(e["actor_email"] != "pat@a.test" for e in other)


def test_audit_is_for_admins_only(world, therapist, patient):
    assert therapist.get("/api/audit").status_code == 403
    assert patient.get("/api/audit").status_code == 403


def test_reads_are_not_audited_but_failed_writes_are_not_either(world, admin, patient):
    patient.get(f"/api/patients/{world.patient_a}/routine")
    patient.post(f"/api/patients/{world.patient_a}/pain-logs", json={"score": 99})
    actions = {e["action"] for e in admin.get("/api/audit").json}
    assert not any(a.startswith("logs.") for a in actions)


def test_log_writes_are_audited_with_their_outcome(world, admin, patient):
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    knee = exercise_id(patient)
    tick = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    assert patient.post(f"{url}/exercise-logs", json=tick).status_code == 201
    assert patient.post(f"{url}/exercise-logs", json=tick).status_code == 200
    conflict = tick | {"difficulty": 4}
    assert patient.post(f"{url}/exercise-logs", json=conflict).status_code == 409
    assert patient.delete(f"{url}/exercise-logs/{tick['id']}").status_code == 204
    other = {"id": new_id(), "exercise_id": knee, "performed_on": today}
    synced = patient.post(
        "/api/sync",
        json={"exercise_logs": [other, other, {"id": "x"}], "pain_logs": []},
    )
    assert synced.status_code == 200

    events = admin.get("/api/audit").json[::-1]  # oldest first
    logged = [
        (e["action"], e["status"], e["target_type"], e["target_id"])
        for e in events
        if e["action"].startswith("logs.")
    ]
    patient_id = str(world.patient_a)
    assert logged == [
        ("logs.record_exercise", 201, "patient", patient_id),
        ("logs.record_exercise", 200, "patient", patient_id),
        ("logs.undo_exercise", 204, "exercise_log", tick["id"]),
        ("logs.sync", 200, "logs", None),
    ]
    assert events[-1]["detail"] == {
        "results": {"created": 1, "duplicate": 1, "invalid": 1}
    }
    assert all(e["actor_email"] == "pat@a.test" for e in events[-4:])


@pytest.fixture
def audit_refused(app):
    """A trigger that makes every insert into audit_events fail."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            statements = [
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
            ]
            undo = ["DROP TRIGGER refuse_audit"]
        else:
            statements = [
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ]
            undo = [
                "DROP TRIGGER refuse_audit ON audit_events",
                "DROP FUNCTION refuse_audit()",
            ]
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
    yield
    with app.app_context():
        for statement in undo:
            db.session.execute(text(statement))
        db.session.commit()


def test_a_tick_whose_audit_row_cannot_be_written_is_not_stored_either(
    app, world, patient, audit_refused
):
    """The tick and its audit row commit in one transaction: no unaudited write."""
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    tick = {"id": new_id(), "exercise_id": exercise_id(patient), "performed_on": today}
    response = patient.post(f"{url}/exercise-logs", json=tick)
    assert response.status_code == 500
    assert "audit refused" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExerciseLog)) == 0
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions == ["auth.login"]  # the patient's sign-in, before the trigger
