"""The audit trail holds: append-only in the database, refused access and
staff reads recorded (bounded), tokens and locked accounts named, and the
admin's filters, sentences and CSV export."""

import csv
import io

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from backend.extensions import db
from backend.models import Alert, AuditEvent, User
from backend.services.audit import EXPORTS, SENTENCES, SIGN_INS
from tests.conftest import ApiClient, new_id


@pytest.fixture
def audit_rows(app):
    """audit_rows(**columns) → matching audit events, oldest first (any clinic).

    Read in an app context of its own: one left pushed would be shared by the
    test client's requests (and their `g`)."""

    def rows(**where):
        with app.app_context():
            statement = select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
            found = db.session.scalars(statement).all()
            db.session.expunge_all()
            return found

    return rows


@pytest.fixture
def name(app):
    """name(user_id, "Tess Therapist"): give a person of the world a name."""

    def rename(user_id, new_name):
        with app.app_context():
            db.session.execute(
                update(User).where(User.id == user_id).values(name=new_name)
            )
            db.session.commit()

    return rename


def test_audit_rows_cannot_be_changed_or_deleted_even_with_raw_sql(app, world, admin):
    admin.post("/api/tokens", json={"name": "Nightly"})  # a write: one row at least
    attempts = [
        "UPDATE audit_events SET action = 'nothing.happened'",
        "UPDATE audit_events SET ip = NULL"
        " WHERE id = (SELECT MIN(id) FROM audit_events)",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE action = 'tokens.create_token'",
    ]
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert before >= 2
        if db.engine.dialect.name == "postgresql":
            attempts.append("TRUNCATE audit_events")
        for statement in attempts:
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        count = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert count == before
        assert (
            db.session.scalar(
                select(func.count()).where(AuditEvent.action == "nothing.happened")
            )
            == 0
        )
        # adding stays possible: that is what the trail is for
        db.session.execute(
            text(
                "INSERT INTO audit_events (at, action, status) VALUES (:at, 'x.y', 200)"
            ),
            {"at": "2026-01-01 00:00:00"},
        )
        db.session.commit()


def test_refused_access_to_objects_is_audited_with_who_and_where(
    app, world, patient, signed_in, audit_rows
):
    other = f"/api/patients/{world.patient_b}/progress"
    assert (
        patient.get(other, environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code
        == 404
    )
    assert patient.get("/api/audit").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get(f"/api/patients/{world.patient_a}").status_code == 401
    [refused_404, refused_403] = audit_rows(
        action="access.refused", actor_id=world.patient_a
    )
    assert (refused_404.status, refused_404.clinic_id, refused_404.ip) == (
        404,
        world.clinic_a,
        "198.51.100.4",
    )
    assert refused_404.detail == {"path": other, "method": "GET"}
    assert (refused_404.target_type, refused_404.target_id) == (
        "patient",
        str(world.patient_b),
    )
    assert refused_403.status == 403 and refused_403.detail["path"] == "/api/audit"
    [unsigned] = audit_rows(action="access.refused", status=401)
    assert unsigned.actor_id is None and unsigned.target_id == str(world.patient_a)
    # a path that is no route at all is a scanner's guess: no row
    assert patient.get("/api/nothing-here/1").status_code == 404
    assert len(audit_rows(action="access.refused")) == 3


def test_csrf_failures_are_audited(app, world, therapist, audit_rows):
    url = f"/api/patients/{world.patient_a}/programme"
    refused = therapist.put(url, json={"items": []}, csrf=False)
    assert refused.status_code == 400
    [event] = audit_rows(action="access.refused")
    assert event.actor_id == world.therapist_a and event.detail == {"reason": "csrf"}
    assert event.status == 400 and event.clinic_id == world.clinic_a


def test_refused_access_rows_are_bounded_per_address_and_minute(
    app, world, patient, audit_rows
):
    for _ in range(30):
        patient.get(
            f"/api/patients/{world.patient_b}",
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
    assert len(audit_rows(action="access.refused", ip="203.0.113.9")) == 20
    # another address is not silenced by the first one's flood
    patient.get(
        f"/api/patients/{world.patient_b}", environ_base={"REMOTE_ADDR": "203.0.113.10"}
    )
    assert len(audit_rows(action="access.refused", ip="203.0.113.10")) == 1


def test_a_staff_read_of_a_patient_is_recorded_once_per_day(
    app, world, therapist, patient, admin, audit_rows, name
):
    name(world.therapist_a, "Tess Therapist")
    name(world.patient_a, "Pat Patient")
    base = f"/api/patients/{world.patient_a}"
    for path in ("/progress", "/progress", "/routine", "", "/exercise-logs"):
        assert therapist.get(base + path).status_code == 200
    patient.get(base + "/progress")  # their own record: not a staff read
    admin.get(base)
    reads = audit_rows(action="patient.read")
    assert [(r.actor_id, r.target_id) for r in reads] == [
        (world.therapist_a, str(world.patient_a)),
        (world.admin_a, str(world.patient_a)),
    ]
    assert reads[0].detail == {"read": "progress.patient_progress"}
    [shown] = [
        e
        for e in admin.get("/api/audit", query_string={"action": "patient.read"}).json
        if e["actor_id"] == world.therapist_a
    ]
    assert shown["sentence"] == "Tess Therapist viewed Pat Patient's progress"


def test_a_staff_list_of_patients_is_one_row_with_the_ids_shown(
    app, world, therapist, admin, audit_rows
):
    shown = therapist.get("/api/patients", query_string={"limit": 1})
    assert shown.status_code == 200
    [row] = audit_rows(action="patient.list")
    assert row.actor_id == world.therapist_a
    assert row.detail["ids"] == [patient["id"] for patient in shown.json]
    everyone = admin.get("/api/patients").json
    rows = audit_rows(action="patient.list")
    assert len(rows) == 2 and rows[1].actor_id == world.admin_a
    assert rows[1].detail["ids"] == [p["id"] for p in everyone]
    assert set(rows[1].detail["ids"]) == {world.patient_a, world.patient_a2}


def test_a_staff_search_of_patients_is_one_row_with_the_ids_found(
    app, world, admin, audit_rows
):
    found = admin.get("/api/patients", query_string={"q": "pat2"}).json
    assert [p["id"] for p in found] == [world.patient_a2]
    [row] = audit_rows(action="patient.search")
    assert row.actor_id == world.admin_a and row.detail["ids"] == [world.patient_a2]
    assert admin.get("/api/patients", query_string={"q": "nobody"}).json == []
    assert audit_rows(action="patient.search")[1].detail["ids"] == []
    assert audit_rows(action="patient.list") == []


def test_the_alert_inbox_read_is_one_row_with_the_alerts_and_patients_shown(
    app, world, therapist, admin, patient, audit_rows
):
    with app.app_context():
        for patient_id in (world.patient_a, world.patient_a2):
            db.session.add(
                Alert(
                    clinic_id=world.clinic_a,
                    patient_id=patient_id,
                    rule="pain_high",
                    severity="warning",
                )
            )
        db.session.commit()
    inbox = therapist.get("/api/alerts").json
    assert [a["patient_id"] for a in inbox] == [world.patient_a]  # their own
    [row] = audit_rows(action="alert.list")
    assert row.actor_id == world.therapist_a
    assert row.detail["ids"] == [inbox[0]["id"]]
    assert row.detail["patient_ids"] == [world.patient_a]
    assert len(admin.get("/api/alerts").json) == 2
    assert audit_rows(action="alert.list")[1].detail["patient_ids"] == [
        world.patient_a,
        world.patient_a2,
    ]
    shown = {e["sentence"] for e in admin.get("/api/audit?action=alert.list").json}
    assert len(shown) == 2


def test_a_patients_own_reads_add_no_list_read(app, world, patient, audit_rows):
    base = f"/api/patients/{world.patient_a}"
    for path in ("", "/progress", "/routine"):
        assert patient.get(base + path).status_code == 200
    patient.get("/api/patients")  # refused (403): not a read of anything
    patient.get("/api/alerts")
    actions = {row.action for row in audit_rows()}
    assert actions.isdisjoint({"patient.list", "patient.search", "alert.list"})
    assert audit_rows(action="patient.read") == []


def test_an_export_with_an_api_token_names_the_token(app, world, admin, audit_rows):
    created = admin.post("/api/tokens", json={"name": "Nightly export"}).json
    script = app.test_client()
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert script.get("/api/reports/adherence.csv", headers=auth).status_code == 200
    [event] = audit_rows(action="reports.adherence_report_csv")
    assert event.detail["token"] == {"id": created["id"], "name": "Nightly export"}
    shown = admin.get("/api/audit", query_string={"action": "reports."}).json
    assert (
        "(API token “Nightly export”) downloaded the adherence report"
        in shown[0]["sentence"]
    )


def test_a_sign_in_lockout_names_the_account_and_its_clinic(
    app, world, admin, audit_rows, name
):
    name(world.therapist_a, "Tess Therapist")
    attacker = ApiClient(app.test_client())
    wrong = {"email": "ther@a.test", "password": "not-the-password"}
    statuses = [
        attacker.post(
            "/api/auth/login", json=wrong, environ_base={"REMOTE_ADDR": "192.0.2.66"}
        ).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    [blocked, *_] = audit_rows(action="auth.login_blocked")
    assert (blocked.actor_email, blocked.clinic_id) == ("ther@a.test", world.clinic_a)
    assert (blocked.target_type, blocked.target_id) == ("user", str(world.therapist_a))
    [shown, *_] = admin.get(
        "/api/audit", query_string={"action": "auth.login_blocked"}
    ).json
    assert shown["sentence"] == (
        "Sign-in as ther@a.test (Tess Therapist) was blocked after too many failures"
    )


def test_the_audit_screen_filters_by_person_patient_action_and_dates(
    app, world, admin, therapist, patient, signed_in
):
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    patient.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        json={"id": new_id(), "logged_on": today, "score": 4},
    )
    therapist.get(f"/api/patients/{world.patient_a}/progress")
    signed_in("therapist_a2").get(f"/api/patients/{world.patient_a2}/progress")

    def actions(**query):
        listed = admin.get("/api/audit", query_string=query)
        assert listed.status_code == 200, listed.json
        return sorted((e["action"], e["actor_id"]) for e in listed.json)

    assert actions(actor_id=world.therapist_a) == [
        ("auth.login", world.therapist_a),
        ("patient.read", world.therapist_a),
    ]
    assert actions(patient_id=world.patient_a) == [
        ("auth.login", world.patient_a),
        ("logs.record_pain", world.patient_a),
        ("patient.read", world.therapist_a),
    ]
    assert actions(action="patient.read,logs.record_pain") == [
        ("logs.record_pain", world.patient_a),
        ("patient.read", world.therapist_a),
        ("patient.read", world.therapist_a2),
    ]
    assert [a for a, _ in actions(action="auth.")] == [
        "auth.login"
    ] * 4  # admin, therapist, patient, therapist 2
    assert actions(**{"from": "2001-01-01", "to": "2001-12-31"}) == []
    assert admin.get("/api/audit", query_string={"action": "x;drop"}).status_code == 422
    # clinic B's admin sees none of clinic A, whatever the filter
    other = signed_in("admin_b").get(
        "/api/audit", query_string={"patient_id": world.patient_a}
    )
    assert other.status_code == 200 and other.json == []


def test_the_audit_csv_is_the_filtered_list_safe_for_spreadsheets(
    app, world, admin, therapist, audit_rows, name
):
    name(world.therapist_a, '=HYPERLINK("http://evil.test")')
    name(world.patient_a, "Zoë Patient")
    therapist.get(f"/api/patients/{world.patient_a}/progress")
    response = admin.get("/api/audit.csv", query_string={"action": "patient.read"})
    assert response.status_code == 200
    assert (
        response.mimetype == "text/csv"
        and "attachment" in response.headers["Content-Disposition"]
    )
    body = response.get_data(as_text=True)
    assert body.startswith('\ufeff"When (UTC)","What happened"')
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["When (UTC)", "What happened", "Who"]
    [row] = rows[1:]
    assert row[1] == "'=HYPERLINK(\"http://evil.test\") viewed Zoë Patient's progress"
    assert row[2] == '\'=HYPERLINK("http://evil.test")'
    assert row[4] == "patient.read" and row[6] == f"patient {world.patient_a}"
    # and the download itself is in the trail
    assert audit_rows(action="audit.audit_trail_csv")[0].actor_id == world.admin_a
    assert app.test_client().get("/api/audit.csv").status_code == 401
    assert therapist.get("/api/audit.csv").status_code == 403


def test_every_action_the_trail_records_reads_as_a_sentence(app):
    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and rule.endpoint != "auth.logout"
    }
    sign_ins = {
        f"{e}{suffix}" for e in SIGN_INS for suffix in ("", "_failed", "_blocked")
    }
    recorded = (
        writes
        | sign_ins
        | EXPORTS
        | {"patient.read", "access.refused", "auth.login_slowed"}
    )
    assert recorded - set(SENTENCES) == set()
