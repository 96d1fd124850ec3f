"""Alerts: each rule fires at its boundary and not below it, once per episode;
acknowledging and resolving, who sees what, the critical email, the clinic's
own numbers, and the hourly sweep for the rules that depend on time."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from backend.extensions import db
from backend.models import Alert, AuditEvent, User
from backend.services import alerts
from tests.conftest import exercise_id, item, prescribe

LONDON = ZoneInfo("Europe/London")


def noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(hour=12, tzinfo=LONDON)


def raised(app, patient_id, rule=None):
    """[(rule, severity, state, episode_open)] of the patient's alerts, oldest first."""
    with app.app_context():
        query = select(Alert).where(Alert.patient_id == patient_id).order_by(Alert.id)
        if rule:
            query = query.where(Alert.rule == rule)
        found = [
            (a.rule, a.severity, a.state, a.episode_open)
            for a in db.session.scalars(query)
        ]
        db.session.remove()
    return found


def pain(client, patient_id, score, day=None):
    today = client.get(f"/api/patients/{patient_id}/routine").json["today"]
    answer = client.post(
        f"/api/patients/{patient_id}/pain-logs",
        json={"id": str(uuid.uuid4()), "logged_on": day or today, "score": score},
    )
    assert answer.status_code == 201, answer.json
    return answer


def flare(client, patient_id, severity):
    today = client.get(f"/api/patients/{patient_id}/routine").json["today"]
    answer = client.post(
        f"/api/patients/{patient_id}/flare-ups",
        json={
            "id": str(uuid.uuid4()),
            "started_on": today,
            "severity": severity,
            "triggers": ["lifting"],
            "helped": ["heat"],
        },
    )
    assert answer.status_code == 201, answer.json


def sweep(app):
    with app.app_context():
        count = alerts.sweep()
        db.session.remove()
    return count


@pytest.mark.parametrize(
    "scores,fires", [((7, 7), True), ((6, 7), False), ((7, 6), False), ((9,), False)]
)
def test_pain_high_fires_on_two_check_ins_of_7_or_more(
    app, world, patient, scores, fires
):
    for score in scores:
        pain(patient, world.patient_a, score)
    expected = [("pain_high", "critical", "new", True)] if fires else []
    assert raised(app, world.patient_a, "pain_high") == expected


def test_an_alert_is_raised_once_per_episode(app, world, patient):
    for score in (8, 8, 9, 8):  # one episode, however many check-ins
        pain(patient, world.patient_a, score)
    assert raised(app, world.patient_a, "pain_high") == [
        ("pain_high", "critical", "new", True)
    ]
    pain(patient, world.patient_a, 3)  # eased: the episode ends, the alert stays
    assert raised(app, world.patient_a, "pain_high") == [
        ("pain_high", "critical", "new", False)
    ]
    pain(patient, world.patient_a, 8)
    pain(patient, world.patient_a, 8)  # a new episode
    assert [a[3] for a in raised(app, world.patient_a, "pain_high")] == [False, True]


@pytest.mark.parametrize("later,fires", [(5, True), (4, False)])
def test_pain_rising_fires_at_a_2_point_rise_of_the_weekly_mean(
    app, world, patient, later, fires
):
    today = date.fromisoformat(
        patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    )
    for offset in range(7, 14):
        pain(patient, world.patient_a, 3, str(today - timedelta(days=offset)))
    for offset in range(0, 7):
        score = later if offset % 2 == 0 else 5  # mean 5.0 or 4.43
        pain(patient, world.patient_a, score, str(today - timedelta(days=offset)))
    assert bool(raised(app, world.patient_a, "pain_rising")) is fires


@pytest.mark.parametrize("severity,fires", [(7, True), (6, False)])
def test_a_flare_up_of_7_or_more_is_critical(app, world, patient, severity, fires):
    flare(patient, world.patient_a, severity)
    expected = [("flare_up", "critical", "new", True)] if fires else []
    assert raised(app, world.patient_a, "flare_up") == expected


def tick(client, patient_id):
    routine = client.get(f"/api/patients/{patient_id}/routine").json
    answer = client.post(
        f"/api/patients/{patient_id}/exercise-logs",
        json={
            "id": str(uuid.uuid4()),
            "exercise_id": routine["items"][0]["exercise_id"],
            "performed_on": routine["today"],
        },
    )
    assert answer.status_code == 201, answer.json
    return answer


def check_in(client, patient_id):
    return pain(client, patient_id, 2)


@pytest.mark.parametrize("back", [check_in, tick], ids=["a check-in", "a tick"])
def test_three_full_days_with_exercises_due_and_nothing_logged(
    app, world, signed_in, back
):
    start = date(2026, 12, 7)
    with time_machine.travel(noon(start), tick=False) as clock:
        prescribe(
            signed_in("therapist_a"),
            world.patient_a,
            [item(exercise_id(signed_in("therapist_a")))],
        )
        clock.move_to(noon(start + timedelta(days=2)))
        sweep(app)
        assert raised(app, world.patient_a, "inactive") == []  # two days only
        clock.move_to(noon(start + timedelta(days=3)))
        sweep(app)
        assert raised(app, world.patient_a, "inactive") == [
            ("inactive", "warning", "new", True)
        ]
        back(signed_in("patient_a"), world.patient_a)  # back: the episode ends
        assert raised(app, world.patient_a, "inactive")[0][3] is False


def test_the_lists_inactive_flag_is_the_alerts_at_the_clinics_number(
    app, world, signed_in
):
    """One definition of inactive: the flag on the patient list appears with
    the alert, and follows the clinic's number of days as the alert does.
    (Staff sign in afresh after each jump of the clock: their sessions end
    after 30 idle minutes.)"""

    def flagged() -> bool:
        listed = signed_in("therapist_a").get("/api/patients").json
        [patient] = [p for p in listed if p["id"] == world.patient_a]
        return "inactive" in patient["flags"]

    start = date(2026, 12, 7)
    with time_machine.travel(noon(start), tick=False) as clock:
        therapist = signed_in("therapist_a")
        prescribe(therapist, world.patient_a, [item(exercise_id(therapist))])
        clock.move_to(noon(start + timedelta(days=2)))
        sweep(app)
        assert not flagged() and raised(app, world.patient_a, "inactive") == []
        clock.move_to(noon(start + timedelta(days=3)))
        sweep(app)
        assert flagged() and raised(app, world.patient_a, "inactive") != []
        changed = signed_in("admin_a").patch(
            "/api/clinic", json={"alert_settings": {"inactive": {"days": 4}}}
        )
        assert changed.status_code == 200, changed.json
        assert not flagged()  # three days are not four
        clock.move_to(noon(start + timedelta(days=4)))
        assert flagged()


def test_no_programme_seven_days_after_enrolment(app, world, signed_in):
    with app.app_context():
        enrolled = db.session.get(User, world.patient_a).created_at
        db.session.remove()
    with time_machine.travel(enrolled + timedelta(days=6), tick=False) as clock:
        sweep(app)
        assert raised(app, world.patient_a, "no_programme") == []
        clock.move_to(enrolled + timedelta(days=7, hours=1))
        sweep(app)
        assert raised(app, world.patient_a, "no_programme") == [
            ("no_programme", "warning", "new", True)
        ]
        sweep(app)  # the hourly pass does not raise it again
        assert len(raised(app, world.patient_a, "no_programme")) == 1
        # a programme ends the episode at once, not at the next hourly pass
        therapist = signed_in("therapist_a")
        prescribe(therapist, world.patient_a, [item(exercise_id(therapist))])
        assert raised(app, world.patient_a, "no_programme")[0][3] is False


@pytest.mark.parametrize(
    "second,fires", [([1] * 5 + [2] * 5, True), ([1] * 6 + [2] * 4, False)]
)
def test_oswestry_worse_by_10_points(app, world, therapist, second, fires):
    url = f"/api/patients/{world.patient_a}/questionnaires/odi"
    assert therapist.post(url, json={"answers": [1] * 10}).status_code == 201  # 20 %
    assert therapist.post(url, json={"answers": second}).status_code == 201  # 30/28 %
    assert bool(raised(app, world.patient_a, "odi_worse")) is fires


@pytest.mark.parametrize("later,fires", [(4, True), (5, False)])
def test_psfs_mean_down_by_2_points(app, world, patient, later, fires):
    url = f"/api/patients/{world.patient_a}/questionnaires/psfs"
    first = {"activities": [{"name": "Gardening", "score": 6}]}
    assert patient.post(url, json=first).status_code == 201
    again = {"activities": [{"name": "Gardening", "score": later}]}
    assert patient.post(url, json=again).status_code == 201
    assert bool(raised(app, world.patient_a, "psfs_worse")) is fires


def test_the_inbox_acknowledge_and_resolve_and_who_sees_what(
    app, world, signed_in, patient
):
    flare(patient, world.patient_a, 9)
    pain(patient, world.patient_a, 4)
    therapist = signed_in("therapist_a")
    [alert] = therapist.get("/api/alerts").json
    assert alert["patient_id"] == world.patient_a and alert["rule"] == "flare_up"
    assert alert["summary"] == "A flare-up of 9 out of 10"
    assert signed_in("therapist_a2").get("/api/alerts").json == []  # not theirs
    assert signed_in("therapist_b").get("/api/alerts").json == []
    assert [a["id"] for a in signed_in("admin_a").get("/api/alerts").json] == [
        alert["id"]
    ]
    assert patient.get("/api/alerts").status_code == 403
    for who in ("therapist_a2", "therapist_b", "admin_b"):
        assert (
            signed_in(who).post(f"/api/alerts/{alert['id']}/acknowledge").status_code
            == 404
        )

    acknowledged = therapist.post(f"/api/alerts/{alert['id']}/acknowledge").json
    assert acknowledged["state"] == "acknowledged"
    assert acknowledged["acknowledged_by"]["id"] == world.therapist_a
    assert acknowledged["minutes_to_acknowledge"] == 0
    bad = therapist.post(f"/api/alerts/{alert['id']}/resolve", json={"note": "a\x00"})
    assert bad.status_code == 422
    resolved = therapist.post(
        f"/api/alerts/{alert['id']}/resolve", json={"note": "Called; heat helps."}
    ).json
    assert (resolved["state"], resolved["note"]) == ("resolved", "Called; heat helps.")
    assert resolved["resolved_by"]["id"] == world.therapist_a
    again = therapist.post(f"/api/alerts/{alert['id']}/resolve", json={})
    assert again.status_code == 409
    assert therapist.get("/api/alerts").json == []  # open ones by default
    assert (
        len(therapist.get("/api/alerts", query_string={"state": "resolved"}).json) == 1
    )
    listed = therapist.get("/api/patients").json
    assert [p["open_alerts"] for p in listed if p["id"] == world.patient_a] == [0]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("alerts.%"))
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    assert actions == ["alerts.acknowledge", "alerts.resolve"]


def test_critical_alerts_are_listed_first_and_counted_on_the_patient(
    app, world, signed_in, patient
):
    therapist = signed_in("therapist_a")
    url = f"/api/patients/{world.patient_a}/questionnaires/odi"
    therapist.post(url, json={"answers": [0] * 10})
    therapist.post(url, json={"answers": [2] * 10})  # a warning first
    flare(patient, world.patient_a, 8)  # then a critical one
    assert [a["rule"] for a in therapist.get("/api/alerts").json] == [
        "flare_up",
        "odi_worse",
    ]
    shown = therapist.get(f"/api/patients/{world.patient_a}").json
    assert shown["open_alerts"] == 2


def test_a_critical_alert_emails_the_therapist_without_health_details(
    app, world, patient, mailbox
):
    pain(patient, world.patient_a, 9)
    pain(patient, world.patient_a, 9)
    [message] = mailbox
    assert message["To"] == "ther@a.test"
    assert message["Subject"] == "A patient needs your attention"
    text = mailbox.text(message)
    assert "#/alerts" in text
    assert "9" not in text and "pat" not in text.lower().replace("patient", "")


def test_a_clinic_changes_the_numbers_or_switches_a_rule_off(
    app, world, signed_in, patient
):
    admin = signed_in("admin_a")
    changed = admin.patch(
        "/api/clinic", json={"alert_settings": {"pain_high": {"points": 8}}}
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["alert_settings"]["pain_high"]["points"] == 8
    assert changed.json["alert_settings"]["pain_high"]["in_a_row"] == 2  # kept
    pain(patient, world.patient_a, 7)
    pain(patient, world.patient_a, 7)
    assert raised(app, world.patient_a, "pain_high") == []
    admin.patch("/api/clinic", json={"alert_settings": {"flare_up": {"on": False}}})
    flare(patient, world.patient_a, 10)
    assert raised(app, world.patient_a, "flare_up") == []
    refused = admin.patch(
        "/api/clinic", json={"alert_settings": {"inactive": {"days": 0}}}
    )
    assert refused.status_code == 422
    assert (
        signed_in("therapist_a")
        .patch("/api/clinic", json={"alert_settings": {}})
        .status_code
        == 403
    )


def test_the_sweep_command(app, world):
    with app.app_context():
        enrolled = db.session.get(User, world.patient_a).created_at
        db.session.remove()
    with time_machine.travel(enrolled + timedelta(days=8), tick=False):
        result = app.test_cli_runner().invoke(
            args=["worker", "run-once", "alert-sweep"]
        )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "alert-sweep: 3 raised"  # no programme: all
