"""The clinic report (JSON and CSV), API tokens and who may pull what."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select

from backend.extensions import db
from backend.models import PatientProfile, User
from backend.schemas.progress import ReportRowSchema
from backend.services import export
from backend.services.dates import today_in
from backend.services.demo import DEMO_TOTP_SECRET, seed_demo
from backend.services.export import COLUMNS, json_array, neutralise, weekly_rows
from tests.conftest import ApiClient
from tests.reference import reference_totals


@pytest.fixture
def demo(app):
    """The demo clinic with 6 patients and 40 days of history."""
    with app.app_context():
        seed_demo(
            app.extensions["homeward_passwords"].hash("demo-password-1"),
            patients=6,
            days=40,
        )
        db.session.commit()
    return ApiClient(app.test_client()).login(
        "admin@demo.test", "demo-password-1", DEMO_TOTP_SECRET
    )


def test_report_rows_sum_to_each_patients_range_totals(app, demo):
    end = date.today()
    start = end - timedelta(days=34)
    query = {"from": start.isoformat(), "to": end.isoformat()}
    rows = demo.get("/api/reports/adherence", query_string=query).json
    with app.app_context():
        patients = {u.id: u for u in db.session.query(User).filter_by(role="patient")}
        assert {r["patient_id"] for r in rows} == set(patients)
        for patient_id, patient in patients.items():
            mine = [r for r in rows if r["patient_id"] == patient_id]
            assert all(date.fromisoformat(r["week_start"]).weekday() == 0 for r in mine)
            expected = reference_totals(
                patient_id, start, end, today_in(patient.profile.timezone)
            )
            assert sum(r["sessions_due"] for r in mine) == sum(
                due for due, _ in expected.values()
            )
            assert sum(r["sessions_done"] for r in mine) == sum(
                done for _, done in expected.values()
            )
            progress = demo.get(
                f"/api/patients/{patient_id}/progress", query_string=query
            ).json
            assert sum(d["sessions_done"] for d in progress["days"]) == sum(
                r["sessions_done"] for r in mine
            )


def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # the BOM: Excel keeps accents
    return list(csv.reader(io.StringIO(body[1:])))


def test_contract_csv_has_exactly_the_contract_columns_and_the_json_rows(demo):
    query = {"from": "2026-01-05", "to": "2026-01-18", "format": "contract"}
    response = demo.get("/api/reports/adherence.csv", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = read_csv(response)
    assert table[0] == COLUMNS
    json_query = {k: v for k, v in query.items() if k != "format"}
    rows = demo.get("/api/reports/adherence", query_string=json_query).json
    assert len(table) - 1 == len(rows) == 6 * 2
    assert [int(line[0]) for line in table[1:]] == [r["patient_id"] for r in rows]
    assert set(rows[0]) == set(COLUMNS)  # the JSON report is unchanged
    body = response.get_data(as_text=True)
    assert body.splitlines()[1].startswith('"')  # every field quoted


def test_default_csv_is_for_people_in_a_spreadsheet(app, demo):
    today = date.today()
    start = today - timedelta(days=60)  # before the demo's 40 days of history
    query = {"from": start.isoformat(), "to": today.isoformat()}
    table = read_csv(demo.get("/api/reports/adherence.csv", query_string=query))
    header, rows = table[0], table[1:]
    assert header[:5] == [
        "Patient ID",
        "Patient",
        "Therapist",
        "Week starting (Monday)",
        "Days of the week in the range",
    ]
    weeks = {date.fromisoformat(row[3]) for row in rows}
    enrolled = today - timedelta(days=40)  # the day before the first of 40 days
    assert min(weeks) == enrolled - timedelta(days=enrolled.weekday())
    by_week = {date.fromisoformat(row[3]): int(row[4]) for row in rows}
    last = max(by_week)
    assert by_week[last] == (today - last).days + 1  # a partial last week
    assert all(by_week[w] == 7 for w in by_week if w != last)
    everyone = demo.get("/api/reports/adherence", query_string=query).json
    assert len(everyone) > len(rows)  # the JSON keeps the weeks before


def test_formula_like_cells_are_neutralised_and_read_back_as_typed(app, demo):
    # (NUL, which PostgreSQL cannot store, is covered by test_neutralise)
    names = ["+1 555 0100", "Smith;=1+2", 'Ann "Nan" O\'Neil', "\nJo", "=HYPERLINK()"]
    with app.app_context():
        patients = (
            db.session.query(User).filter_by(role="patient").order_by(User.id).all()
        )
        for patient, name in zip(patients, names, strict=False):
            patient.name = name
        db.session.commit()
    table = read_csv(demo.get("/api/reports/adherence.csv"))
    shown = {row[1] for row in table[1:]}
    assert "'+1 555 0100" in shown
    assert "'Smith;=1+2" in shown
    assert 'Ann "Nan" O\'Neil' in shown  # quotes survive, untouched
    assert "'\nJo" in shown
    assert "'=HYPERLINK()" in shown
    assert not any(
        cell[:1] in "=+-@\t\r\n\x00" for row in table for cell in row if cell
    )


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("\x00=1+2", "'\x00=1+2"),
        ("Smith;=1+2", "'Smith;=1+2"),
        ("Smith, =1", "'Smith, =1"),
        ("Smith, Jo", "Smith, Jo"),
        ("Ann-Marie", "Ann-Marie"),
        ("Ann", "Ann"),
        (None, ""),
        (3.5, "3.5"),
        (date(2026, 3, 2), "2026-03-02"),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_therapist_sees_only_their_patients_and_a_patient_gets_403(app, demo):
    therapist = ApiClient(app.test_client()).login(
        "therapist@demo.test", "demo-password-1", DEMO_TOTP_SECRET
    )
    rows = therapist.get("/api/reports/adherence").json
    with app.app_context():
        own = {
            p.user_id
            for p in db.session.query(PatientProfile).filter_by(
                therapist_id=therapist.user["id"]
            )
        }
    assert rows and {r["patient_id"] for r in rows} == own
    patient = ApiClient(app.test_client()).login("patient@demo.test", "demo-password-1")
    assert patient.get("/api/reports/adherence").status_code == 403
    assert patient.get("/api/reports/adherence.csv").status_code == 403


def test_admin_filters_by_therapist(app, demo):
    therapists = {s["email"]: s["id"] for s in demo.get("/api/staff").json}
    rows = demo.get(
        "/api/reports/adherence",
        query_string={"therapist_id": therapists["therapist2@demo.test"]},
    ).json
    assert {r["therapist_name"] for r in rows} == {"Theo Therapist"}


def test_bearer_token_reads_reports_without_cookie_or_csrf_until_revoked(app, demo):
    created = demo.post("/api/tokens", json={"name": "Nightly export"})
    assert created.status_code == 201
    secret = created.json["token"]
    script = app.test_client()  # no cookie, no CSRF token
    auth = {"Authorization": f"Bearer {secret}"}
    assert script.get("/api/reports/adherence", headers=auth).status_code == 200
    assert script.get("/api/reports/adherence.csv", headers=auth).status_code == 200
    # the token opens the reports and nothing else
    assert script.get("/api/patients", headers=auth).status_code == 403
    listed = demo.get("/api/tokens").json
    assert listed[0]["name"] == "Nightly export" and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    assert demo.delete(f"/api/tokens/{created.json['id']}").status_code == 204
    assert script.get("/api/reports/adherence", headers=auth).status_code == 401
    assert demo.get("/api/tokens").json[0]["revoked_at"] is not None


def make_token(client, **fields):
    response = client.post("/api/tokens", json={"name": "Nightly export"} | fields)
    assert response.status_code == 201, response.json
    return response.json


def reads_reports(app, secret) -> int:
    auth = {"Authorization": f"Bearer {secret}"}
    return app.test_client().get("/api/reports/adherence", headers=auth).status_code


def test_a_new_token_works_90_days_for_reports_read(app, world, admin):
    created = make_token(admin)
    made, expires = (
        datetime.fromisoformat(created[name]) for name in ("created_at", "expires_at")
    )
    assert expires - made == timedelta(days=90)
    assert created["scopes"] == ["reports:read"]
    listed = admin.get("/api/tokens").json[0]
    assert listed["expires_at"] == created["expires_at"]
    assert listed["scopes"] == ["reports:read"]


def test_a_token_may_live_fewer_days_never_more(app, world, admin):
    created = make_token(admin, expires_in_days=7)
    made, expires = (
        datetime.fromisoformat(created[name]) for name in ("created_at", "expires_at")
    )
    assert expires - made == timedelta(days=7)
    for refused in (
        {"expires_in_days": 91},
        {"expires_in_days": 0},
        {"expires_in_days": "7"},
        {"scopes": ["patients:write"]},
        {"scopes": []},
    ):
        response = admin.post("/api/tokens", json={"name": "x"} | refused)
        assert response.status_code == 422, refused
        assert set(response.json["errors"]["json"]) == set(refused)


def test_an_expired_token_is_a_401_like_an_unknown_one(app, world, admin):
    secret = make_token(admin, expires_in_days=2)["token"]
    assert reads_reports(app, secret) == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2, seconds=1)):
        assert reads_reports(app, secret) == 401
    assert admin.get("/api/tokens").json[0]["revoked_at"] is None  # expired, only


def test_a_token_outside_its_scope_is_a_403(app, world, admin):
    """A reports:read token signs nobody in anywhere else: 403, nothing done
    (an unknown or expired token stays a 401)."""
    auth = {"Authorization": f"Bearer {make_token(admin)['token']}"}
    script = app.test_client()
    for path in ("/api/patients", "/api/tokens", "/api/audit", "/api/auth/me"):
        response = script.get(path, headers=auth)
        assert response.status_code == 403, path
        assert "token" in response.json["message"]
    unknown = {"Authorization": "Bearer hw_nope"}
    assert script.get("/api/patients", headers=unknown).status_code == 401


def test_deactivating_an_admin_revokes_their_tokens_for_good(
    app, world, admin, signed_in
):
    """Reactivating an admin brings back none of their tokens: the revocation
    is stored, not read from the account's `active`."""
    response = admin.post(
        "/api/staff",
        json={
            "email": "admin2@a.test",
            "name": "Second Admin",
            "role": "admin",
            "password": "a-long-enough-password-2",
        },
    )
    assert response.status_code == 201, response.json
    second_id = response.json["id"]
    second = ApiClient(app.test_client()).login(
        "admin2@a.test", "a-long-enough-password-2"
    )
    secret = make_token(second)["token"]
    assert reads_reports(app, secret) == 200
    url = f"/api/staff/{second_id}"
    assert admin.patch(url, json={"active": False}).status_code == 200
    assert reads_reports(app, secret) == 401
    assert admin.patch(url, json={"active": True}).status_code == 200
    assert reads_reports(app, secret) == 401
    listed = admin.get("/api/tokens").json[0]
    assert listed["revoked_at"] is not None


def test_wrong_bearer_token_is_a_401(app, demo):
    response = app.test_client().get(
        "/api/reports/adherence", headers={"Authorization": "Bearer hw_nope"}
    )
    assert response.status_code == 401


def test_only_admins_make_tokens_and_only_their_own_clinics(
    app, demo, world, signed_in
):
    assert (
        signed_in("therapist_a").post("/api/tokens", json={"name": "x"}).status_code
        == 403
    )
    token_id = demo.post("/api/tokens", json={"name": "x"}).json["id"]
    assert signed_in("admin_b").delete(f"/api/tokens/{token_id}").status_code == 404


def test_bad_report_queries_are_refused(demo):
    for query in (
        {"from": "2026-02-30"},
        {"from": "2026-03-10", "to": "2026-03-01"},
        {"therapist_id": "abc"},
        {"therapist_id": "0"},
    ):
        response = demo.get("/api/reports/adherence", query_string=query)
        assert response.status_code == 422, query


def test_json_report_is_streamed_with_the_schemas_rows(app, demo, monkeypatch):
    end = date.today()
    start = end - timedelta(days=34)  # 6 patients x 5 or 6 weeks
    query = {"from": start.isoformat(), "to": end.isoformat()}
    monkeypatch.setitem(app.config, "EXPORT_JOB_DAYS", 731)  # at once, not a job
    produced = []

    def counted(*args):
        for row in weekly_rows(*args):
            produced.append(row)
            yield row

    monkeypatch.setattr(export, "weekly_rows", counted)
    monkeypatch.setattr(export, "JSON_CHUNK_ROWS", 10)
    response = demo.get("/api/reports/adherence", query_string=query, buffered=False)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert len(produced) <= 10  # answered before the rows were all produced
    body = response.get_data(as_text=True)
    response.close()
    with app.app_context():
        ids = select(User.id).where(User.role == "patient")
        expected = ReportRowSchema(many=True).dump(list(weekly_rows(ids, start, end)))
    assert len(produced) == len(expected) >= 6 * 5  # three chunks at least
    assert json.loads(body) == json.loads(json.dumps(expected, default=str))


def test_json_report_of_nobody_is_an_empty_array(app, demo):
    with app.app_context():
        db.session.execute(delete(PatientProfile))
        db.session.execute(delete(User).where(User.role == "patient"))
        db.session.commit()
    response = demo.get("/api/reports/adherence")
    assert response.status_code == 200 and response.json == []


def test_json_array_writes_rows_in_chunks_that_join_into_one_array():
    chunks = list(json_array(({"n": n} for n in range(1201)), json.dumps))
    assert len(chunks) == 3  # 500, 500, then the rest and the bracket
    assert json.loads("".join(chunks)) == [{"n": n} for n in range(1201)]
    assert list(json_array([], json.dumps)) == ["[]"]
