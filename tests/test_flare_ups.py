"""Flare-up reports: idempotent writes, every rule of a report, the list, the
summary of triggers and what helped, and the markers on the progress chart."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import FlareUp
from backend.services import flare_ups
from tests.conftest import new_id


@pytest.fixture
def today(world, patient) -> date:
    routine = patient.get(f"/api/patients/{world.patient_a}/routine").json
    return date.fromisoformat(routine["today"])


def url(world, path=""):
    return f"/api/patients/{world.patient_a}/flare-ups{path}"


def report(day: date, **fields) -> dict:
    return {
        "id": new_id(),
        "started_on": day.isoformat(),
        "severity": 7,
        "triggers": ["lifting"],
        "helped": ["heat"],
    } | fields


def stored(app) -> list[FlareUp]:
    with app.app_context():
        found = db.session.scalars(select(FlareUp)).all()
        db.session.expunge_all()
        return found


def test_a_report_is_stored_once_replayed_and_refused_when_changed(
    app, world, patient, today
):
    flare = report(
        today, triggers=["stress", "lifting"], helped=["rest", "heat"], note="Garden"
    )
    created = patient.post(url(world), json=flare)
    assert created.status_code == 201
    # kept in the order of the choices: the same report whatever the order sent
    assert created.json["triggers"] == ["lifting", "stress"]
    assert created.json["helped"] == ["heat", "rest"]
    reordered = flare | {"triggers": ["lifting", "stress", "stress"]}
    replay = patient.post(url(world), json=reordered)
    assert replay.status_code == 200 and replay.json == created.json
    changed = patient.post(url(world), json=flare | {"severity": 8})
    assert changed.status_code == 409
    assert [f.severity for f in stored(app)] == [7]


def test_the_list_holds_the_range_in_order(world, patient, therapist, admin, today):
    days = [today - timedelta(days=n) for n in (40, 3, 0)]
    for day in days:
        assert patient.post(url(world), json=report(day)).status_code == 201
    listed = therapist.get(url(world)).json  # the last 30 days
    assert [f["started_on"] for f in listed] == [d.isoformat() for d in days[1:]]
    older = admin.get(
        url(world),
        query_string={"from": days[0].isoformat(), "to": days[0].isoformat()},
    ).json
    assert [f["started_on"] for f in older] == [days[0].isoformat()]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"severity": 11}, "severity"),
        ({"severity": -1}, "severity"),
        ({"severity": 2.5}, "severity"),
        ({"severity": "5"}, "severity"),
        ({"severity": None}, "severity"),
        ({"started_on": "2999-01-01"}, "started_on"),
        ({"started_on": "1999-12-31"}, "started_on"),
        ({"triggers": ["weather"]}, "triggers"),
        ({"triggers": "lifting"}, "triggers"),
        ({"helped": ["prayer"]}, "helped"),
        ({"triggers": ["other"]}, "note"),
        ({"triggers": ["other"], "note": "  \n "}, "note"),
        ({"helped": ["nothing", "heat"]}, "helped"),
        ({"note": "x" * 1001}, "note"),
        ({"note": "bell\x07"}, "note"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_a_bad_report_is_a_422_naming_the_field_and_stores_nothing(
    app, world, patient, today, change, field
):
    response = patient.post(url(world), json=report(today) | change)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert stored(app) == []


@pytest.mark.parametrize("missing", ["started_on", "severity", "triggers", "helped"])
def test_a_report_without_a_required_field_is_a_422(world, patient, today, missing):
    flare = report(today)
    del flare[missing]
    response = patient.post(url(world), json=flare)
    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]


def test_a_report_more_than_366_days_old_is_refused_and_366_is_fine(
    world, patient, today
):
    old = patient.post(url(world), json=report(today - timedelta(days=367)))
    assert old.status_code == 422 and "366" in str(old.json)
    ok = patient.post(url(world), json=report(today - timedelta(days=366)))
    assert ok.status_code == 201


def test_other_with_a_note_nothing_alone_and_empty_lists_are_fine(
    world, patient, today
):
    for fields in (
        {"triggers": ["other"], "note": "Sneezed\nhard"},
        {"helped": ["nothing"]},
        {"triggers": [], "helped": []},
    ):
        response = patient.post(url(world), json=report(today, **fields))
        assert response.status_code == 201, (fields, response.json)


def test_only_the_patient_reports_a_flare_up(app, world, therapist, admin, today):
    for client in (therapist, admin):
        response = client.post(url(world), json=report(today))
        assert response.status_code == 403
        assert "flare-ups" in response.json["message"]
    assert stored(app) == []


def pain(client, world, day: date, score: int):
    response = client.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        json={"id": new_id(), "logged_on": day.isoformat(), "score": score},
    )
    assert response.status_code == 201


def test_the_summary_counts_and_the_pain_of_the_48_hours_after(
    world, patient, therapist, today
):
    day = {n: today - timedelta(days=n) for n in range(12)}
    for flare in (
        report(
            day[10], triggers=["lifting", "other"], helped=["heat", "rest"], note="Bin"
        ),
        report(day[9], triggers=["lifting"], helped=["heat"]),
        report(day[2], triggers=["stress"], helped=["nothing"]),
    ):
        assert patient.post(url(world), json=flare).status_code == 201
    for n, score in (
        (10, 9),  # a start day: the flare-up's own pain, not counted
        (9, 7),  # after the first (heat, rest)
        (8, 4),  # after both the first and the second: counted once
        (8, 2),
        (7, 5),  # after the second (heat)
        (6, 8),  # after nothing
        (1, 8),  # after the third (nothing)
        (0, 2),
    ):
        pain(patient, world, day[n], score)

    summary = therapist.get(url(world, "/summary"))
    assert summary.status_code == 200
    assert summary.json == {
        "reports": 3,
        "triggers": {
            "lifting": 2,
            "impact": 0,
            "sitting": 0,
            "dehydration": 0,
            "stress": 1,
            "other": 1,
        },
        "helped": {
            "heat": {"reports": 2, "pain_mean_48h": 4.5, "pain_logs_48h": 4},
            "cold": {"reports": 0, "pain_mean_48h": None, "pain_logs_48h": 0},
            "rest": {"reports": 1, "pain_mean_48h": 4.33, "pain_logs_48h": 3},
            "stretching": {"reports": 0, "pain_mean_48h": None, "pain_logs_48h": 0},
            "medication": {"reports": 0, "pain_mean_48h": None, "pain_logs_48h": 0},
            "nothing": {"reports": 1, "pain_mean_48h": 5.0, "pain_logs_48h": 2},
        },
    }


def test_a_summary_without_reports_is_all_zero(world, patient):
    summary = patient.get(url(world, "/summary")).json
    assert summary["reports"] == 0
    assert set(summary["triggers"].values()) == {0}
    assert {h["pain_mean_48h"] for h in summary["helped"].values()} == {None}


def test_summarise_counts_each_check_in_once_however_many_reports_it_follows():
    start = date(2026, 3, 1)
    reports = [
        SimpleNamespace(started_on=start, triggers=["sitting"], helped=["cold"]),
        SimpleNamespace(
            started_on=start + timedelta(days=1), triggers=["sitting"], helped=["cold"]
        ),
    ]
    pain = {
        start: (10, 1),  # the first's start day
        start + timedelta(days=2): (6, 2),  # after both
        start + timedelta(days=3): (1, 1),  # after the second
        start + timedelta(days=4): (10, 1),  # after none
    }
    summary = flare_ups.summarise(reports, pain)
    assert summary["triggers"]["sitting"] == 2
    assert summary["helped"]["cold"] == {
        "reports": 2,
        "pain_mean_48h": 2.33,  # (6 + 1) / 3
        "pain_logs_48h": 3,
    }


def test_progress_marks_the_flare_ups_of_its_range(world, patient, therapist, today):
    inside = report(today - timedelta(days=5), severity=9)
    outside = report(today - timedelta(days=45))
    for flare in (inside, outside):
        assert patient.post(url(world), json=flare).status_code == 201
    progress = therapist.get(f"/api/patients/{world.patient_a}/progress").json
    assert progress["flare_ups"] == [
        {"id": inside["id"], "started_on": inside["started_on"], "severity": 9}
    ]


def test_reporting_is_audited_with_a_sentence(world, patient, admin, today):
    patient.post(url(world), json=report(today, note="Private words"))
    [event] = admin.get("/api/audit", query_string={"action": "flare_ups."}).json
    assert (event["action"], event["status"]) == ("flare_ups.report_flare_up", 201)
    assert event["sentence"] == "pat reported a flare-up"
    assert "Private words" not in str(event)
