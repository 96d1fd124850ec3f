"""Therapists and admins in a desktop browser: the programme editor reaches the
patient's phone, and the adherence report downloads as CSV."""

import csv
import re
from datetime import date, timedelta

from playwright.sync_api import expect

from backend import mail
from backend.extensions import db
from tests.conftest import add_patient, exercise_id, item, new_id, prescribe
from tests.serving import free_port

WEEKDAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]


def test_therapist_programme_edit_changes_patients_today(
    world, signed_in, desktop, phone, sign_in_page
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist, "cat-camel"))])
    today = signed_in("patient_a").get(f"/api/patients/{world.patient_a}/routine")
    rest_day = (date.fromisoformat(today.json["today"]).weekday() + 1) % 7

    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")
    page.get_by_role("link", name="pat", exact=True).click()
    page.get_by_role("link", name="Edit programme").click()
    page.get_by_label("Search exercises").fill("bird")
    add = page.get_by_role("button", name="Add: Bird dog")
    expect(page.get_by_role("button", name="Add: Glute bridge")).to_have_count(0)
    add.click()
    bird_dog = page.get_by_role("group", name="Bird dog", exact=True)
    bird_dog.get_by_label("Sets").fill("3")
    bird_dog.get_by_label("Reps").fill("12")
    bird_dog.get_by_label("Times a day").select_option(label="Twice")
    bird_dog.get_by_role("checkbox", name=WEEKDAYS[rest_day]).uncheck()
    bird_dog.get_by_label("Notes for the patient").fill("Slowly, keep the back flat")
    page.get_by_role("button", name="Remove: Cat-camel").click()
    page.get_by_label("Note for this version").fill("Adding core work")
    page.get_by_role("button", name="Save programme").click()
    expect(page.get_by_text("Version 2")).to_be_visible()  # back on the patient page

    [version] = [
        v
        for v in therapist.get(
            f"/api/patients/{world.patient_a}/programme/history"
        ).json
        if v["version"] == 2
    ]
    [saved] = version["items"]
    assert (saved["exercise"]["name"], saved["sets"], saved["reps"]) == (
        "Bird dog",
        3,
        12,
    )
    assert saved["times_per_day"] == 2
    assert saved["days_of_week"] == [day for day in range(7) if day != rest_day]
    assert version["note"] == "Adding core work"

    patient_page = phone.new_page()
    sign_in_page(patient_page, "pat@a.test")
    card = patient_page.locator(".exercise-card").filter(has_text="Bird dog")
    expect(patient_page.get_by_role("button", name="Done: Bird dog")).to_be_visible()
    # the patient is told what changed, in the therapist's words too
    change = patient_page.get_by_role("region", name="Your programme changed")
    expect(change).to_contain_text("New: Bird dog")
    expect(change).to_contain_text("No longer: Cat-camel")
    expect(change).to_contain_text("Adding core work")
    expect(patient_page.get_by_role("button", name="Done: Cat-camel")).to_have_count(0)
    expect(card).to_contain_text("3 sets × 12 reps")
    expect(card).to_contain_text("twice a day")
    expect(card).to_contain_text("0 of 2")
    expect(card).to_contain_text("Slowly, keep the back flat")


def test_admin_downloads_the_adherence_csv(
    world, signed_in, desktop, sign_in_page, tmp_path
):
    therapist = signed_in("therapist_a")
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee, times=2)])
    patient = signed_in("patient_a")
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    patient.post(
        f"/api/patients/{world.patient_a}/exercise-logs",
        json={"id": new_id(), "exercise_id": knee, "performed_on": today},
    )

    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.get_by_role("navigation").get_by_role("link", name="Reports").click()
    day = date.fromisoformat(today)
    # the admin's slip: the end before the start
    page.get_by_label("From", exact=True).fill(today)
    page.get_by_label("To", exact=True).fill((day - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show report").click()
    wrong_way = page.get_by_text("Choose a start date on or before the end date.")
    expect(wrong_way).to_be_visible()
    page.get_by_label("To", exact=True).fill(today)
    page.get_by_role("button", name="Show report").click()
    expect(wrong_way).to_be_hidden()
    rows = page.get_by_role("row", name=re.compile(r"^pat ther "))
    expect(rows).to_have_count(1)  # one ISO week: today's
    row = rows.first
    expect(row).to_contain_text("1 of 2")
    expect(row).to_contain_text("50%")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "report.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()  # after its BOM
    assert lines[0].startswith('"Patient ID","Patient","Therapist"')
    by_name = {r["Patient"]: r for r in csv.DictReader(lines)}
    assert (by_name["pat"]["Sessions due"], by_name["pat"]["Sessions done"]) == (
        "2",
        "1",
    )
    assert by_name["pat"]["Days of the week in the range"] == "1"
    monday = (day - timedelta(days=day.weekday())).isoformat()
    assert {r["Week starting (Monday)"] for r in by_name.values()} == {monday}


def test_admin_reads_the_audit_trail_as_sentences_filters_and_exports_it(
    app, world, signed_in, desktop, sign_in_page, tmp_path, screenshot
):
    from backend.extensions import db
    from backend.models import User

    with app.app_context():
        for user_id, name in (
            (world.therapist_a, "Tess Therapist"),
            (world.patient_a, "Pat Patient"),
        ):
            db.session.get(User, user_id).name = name
        db.session.commit()
    signed_in("therapist_a").get(f"/api/patients/{world.patient_a}/progress")
    signed_in("therapist_a2").get(f"/api/patients/{world.patient_a2}/progress")

    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.get_by_role("navigation").get_by_role("link", name="Audit log").click()
    entries = page.get_by_role("region", name="Audit entries, newest first")
    expect(entries).to_contain_text("Tess Therapist signed in")
    page.get_by_label("Patient").select_option(label="Pat Patient")
    page.get_by_label("What").select_option(label="Views of patient records")
    chosen_to = page.get_by_label("To", exact=True).input_value()
    page.get_by_label("To", exact=True).fill("2020-01-01")  # before the start
    page.get_by_role("button", name="Show entries").click()
    wrong_way = page.get_by_text("Choose a start date on or before the end date.")
    expect(wrong_way).to_be_visible()
    page.get_by_label("To", exact=True).fill(chosen_to)
    page.get_by_role("button", name="Show entries").click()
    expect(wrong_way).to_be_hidden()
    rows = entries.get_by_role("row").filter(has_text="viewed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Tess Therapist viewed Pat Patient's progress")
    screenshot(page, "audit-desktop")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "audit.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.DictReader(lines))
    assert [r["What happened"] for r in rows] == [
        "Tess Therapist viewed Pat Patient's progress"
    ]


def test_patient_list_loads_more_as_it_scrolls_and_searches_on_the_server(
    app, world, desktop, sign_in_page
):
    with app.app_context():
        for n in range(130):
            patient = add_patient(
                world.clinic_a, f"many{n:03}@a.test", world.therapist_a
            )
            patient.name = f"Many {n:03}"
        db.session.commit()

    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")  # their 131 patients
    rows = page.get_by_role("region", name="Patients").locator("tbody tr")
    expect(page.get_by_text("100 patients shown, more below")).to_be_visible()
    page.get_by_role("button", name="Load more patients").scroll_into_view_if_needed()
    expect(rows).to_have_count(131)  # every patient once, and nothing more to load
    expect(page.get_by_text("131 patients", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Load more patients")).to_be_hidden()

    page.get_by_label("Search patients").fill("many 12")
    expect(rows).to_have_count(10)  # Many 120 to 129, found by the server
    page.get_by_label("Search patients").fill("nobody at all")
    expect(page.get_by_text("No patients match.")).to_be_visible()


def test_admin_sees_an_email_that_could_not_be_delivered_and_why(
    app, world, signed_in, desktop, sign_in_page
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody
    try:
        invited = signed_in("admin_a").post(
            "/api/staff",
            json={"email": "new-ther@a.test", "name": "New", "role": "therapist"},
        )
        assert invited.status_code == 201, invited.json
        with app.app_context():
            assert mail.send_queued() == {"retry": 1}
            db.session.remove()
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=587)
    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.goto(page.url.split("#")[0] + "#/admin/staff")
    card = page.get_by_role("region", name="Email delivery")
    expect(card).to_contain_text("1 email waiting")
    row = card.get_by_role("row", name=re.compile("new-ther@a.test"))
    expect(row).to_contain_text("Invitation")
    expect(row).to_contain_text("Waiting")
    expect(row).to_contain_text("ConnectionRefusedError")


def test_admin_makes_a_token_for_fewer_days_and_sees_when_it_expires(
    world, admin, desktop, sign_in_page
):
    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.goto("/#/admin/tokens")
    page.get_by_label("Token name").fill("Nightly export")
    page.get_by_label("Works for (days)").fill("7")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text(re.compile(r"^It works until .+\.$"))).to_be_visible()
    expect(page.get_by_role("columnheader", name="Expires")).to_be_visible()
    [token] = admin.get("/api/tokens").json
    made, expires = (
        date.fromisoformat(token[name][:10]) for name in ("created_at", "expires_at")
    )
    assert expires - made == timedelta(days=7)
    row = page.get_by_role("row", name=re.compile("Nightly export"))
    expect(row.get_by_text("Active")).to_be_visible()
