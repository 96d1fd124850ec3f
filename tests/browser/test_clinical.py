"""Messages, flare-ups, alerts and the daily-activities questionnaire (PSFS) in
the browser: a message written offline arrives once and is answered, a severe
flare-up reaches the therapist as a critical alert they deal with, and the
PSFS keeps its history."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.conftest import exercise_id, item, new_id, prescribe

FITS_PHONE = "() => document.documentElement.scrollWidth <= 390"
PHONE = {"width": 390, "height": 844}


def wait_for_service_worker(page):
    page.wait_for_function("() => navigator.serviceWorker?.controller != null")


def assert_fits_phone(page):
    assert page.evaluate(FITS_PHONE), page.evaluate(
        "() => document.documentElement.scrollWidth"
    )


NAMED_ROLES = ["button", "link", "textbox", "checkbox", "radio", "slider", "spinbutton"]


def assert_controls_named(page):
    for role in NAMED_ROLES:
        for control in page.get_by_role(role).all():
            expect(control).to_have_accessible_name(re.compile(r"\S"))


def unread_of(therapist, patient_id):
    [patient] = [
        p for p in therapist.get("/api/patients").json if p["id"] == patient_id
    ]
    return patient["unread_messages"]


def wait_until(page, check, timeout_ms=5000):
    """Polls `check()` (a server-side condition) until true, within the timeout."""
    for _ in range(timeout_ms // 100):
        if check():
            return
        page.wait_for_timeout(100)
    assert check()


def test_message_written_offline_arrives_once_and_the_therapist_answers(
    world, signed_in, page, desktop, phone, sign_in_page, screenshot
):
    therapist = signed_in("therapist_a")
    thread_url = f"/api/patients/{world.patient_a}/messages"
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
    thread = page.get_by_role("region", name="Messages, oldest first")
    expect(thread).to_contain_text("No messages yet")
    assert_controls_named(page)

    phone.set_offline(True)
    box = page.get_by_label("Message to your care team")
    box.fill("My back is stiff after the bridges.\nShould I stop them?")
    expect(page.get_by_text("55 of 2000 characters")).to_be_visible()
    page.get_by_role("button", name="Send", exact=True).click()
    mine = thread.get_by_role("listitem").filter(has_text="stiff after the bridges")
    expect(mine).to_contain_text("Saved on this phone")
    expect(box).to_have_value("")
    assert therapist.get(thread_url).json == []

    phone.set_offline(False)
    expect(mine).to_contain_text("Sent")
    expect(mine).not_to_contain_text("Saved on this phone")
    [stored] = therapist.get(thread_url).json
    assert stored["body"] == "My back is stiff after the bridges.\nShould I stop them?"
    assert stored["author"]["id"] == world.patient_a
    assert unread_of(therapist, world.patient_a) == 1

    # the therapist sees it waiting, reads it, answers
    desk = desktop.new_page()
    sign_in_page(desk, "ther@a.test")
    row = desk.get_by_role("row").filter(has_text="pat@a.test")
    expect(row).to_contain_text("1 unread message")
    desk.get_by_role("link", name="pat", exact=True).click()
    staff_thread = desk.get_by_role("region", name="Messages, oldest first")
    expect(staff_thread).to_contain_text("Should I stop them?")
    expect(desk.locator(".chart canvas").first).to_be_attached()
    staff_thread.scroll_into_view_if_needed()  # shown: now it is read
    wait_until(desk, lambda: unread_of(therapist, world.patient_a) == 0)
    desk.get_by_label("Message to pat").fill(
        "Skip the bridges for two days, keep walking."
    )
    desk.get_by_role("button", name="Send", exact=True).click()
    expect(staff_thread).to_contain_text("Skip the bridges for two days")
    assert len(therapist.get(thread_url).json) == 2
    desk.get_by_role("navigation").get_by_role("link", name="Patients").click()
    expect(desk.get_by_role("row").filter(has_text="pat@a.test")).to_contain_text(
        "nothing waiting"
    )

    # the patient sees the badge, then the answer
    nav.get_by_role("link", name="Today").click()
    expect(nav.get_by_role("link", name="Messages (1 unread)")).to_be_visible()
    assert signed_in("patient_a").get(f"{thread_url}/unread").json["unread"] == 1
    nav.get_by_role("link", name=re.compile("^Messages")).click()
    reply = thread.get_by_role("listitem").filter(has_text="Skip the bridges")
    expect(reply).to_contain_text("ther (care team)")
    expect(nav.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    expect(mine).to_contain_text("Read")
    assert signed_in("patient_a").get(f"{thread_url}/unread").json["unread"] == 0
    assert_fits_phone(page)
    screenshot(page, "messages-phone")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(400)  # the colour transitions
    screenshot(page, "messages-phone-dark")


def test_admin_reads_a_thread_without_a_form_and_marks_nothing_read(
    world, signed_in, phone, sign_in_page
):
    patient = signed_in("patient_a")
    patient.post(
        f"/api/patients/{world.patient_a}/messages",
        json={"id": new_id(), "body": "Is swimming all right?"},
    )
    therapist = signed_in("therapist_a")
    page = phone.new_page()
    sign_in_page(page, "admin@a.test")
    page.get_by_role("link", name="pat", exact=True).click()
    thread = page.get_by_role("region", name="Messages, oldest first")
    expect(thread).to_contain_text("Is swimming all right?")
    thread.scroll_into_view_if_needed()
    expect(page.get_by_text("reading it here marks nothing")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message to pat")).to_have_count(0)
    assert_fits_phone(page)
    page.wait_for_timeout(500)  # time enough for a read receipt, were one sent
    assert unread_of(therapist, world.patient_a) == 1


def seed_a_fortnight(signed_in, patient_id):
    """A programme and some pain check-ins over the last two weeks, so that the
    chart has something around the flare-up."""
    therapist = signed_in("therapist_a")
    prescribe(therapist, patient_id, [item(exercise_id(therapist, "bird dog"))])
    patient = signed_in("patient_a")
    today = date.fromisoformat(
        patient.get(f"/api/patients/{patient_id}/routine").json["today"]
    )
    scores = [3, 3, 4, 2, 3, 3, 2, 3, 4, 3, 5, 6]
    for days_ago, score in zip(range(13, 1, -1), scores, strict=True):
        day = (today - timedelta(days=days_ago)).isoformat()
        patient.post(
            f"/api/patients/{patient_id}/pain-logs",
            json={"id": new_id(), "logged_on": day, "score": score},
        )
    return today


def test_severe_flare_up_becomes_a_critical_alert_the_therapist_resolves(
    world, signed_in, page, desktop, browser, live_server, sign_in_page, screenshot
):
    seed_a_fortnight(signed_in, world.patient_a)
    sign_in_page(page, "pat@a.test")
    page.get_by_role("button", name="I'm having a flare-up").click()
    form = page.get_by_role("form", name="Report a flare-up")
    severity = form.get_by_label("How bad is it?")
    severity.fill("8")
    expect(severity).to_have_attribute("aria-valuetext", "8 out of 10, severe")
    expect(form.get_by_label("When did it start?")).to_have_value(
        re.compile(r"^\d{4}-\d{2}-\d{2}$")
    )
    form.get_by_label("Lifting or bending").check()
    # "Something else" needs a word on what it was
    form.get_by_label("Something else").check()
    form.get_by_role("button", name="Save flare-up").click()
    expect(form.get_by_role("alert")).to_contain_text("needed")
    form.get_by_label("Something else").uncheck()
    # "Nothing yet" goes alone
    form.get_by_label("Nothing yet").check()
    form.get_by_label("Heat").check()
    expect(form.get_by_label("Nothing yet")).not_to_be_checked()
    form.get_by_label("Nothing yet").check()
    expect(form.get_by_label("Heat")).not_to_be_checked()
    form.get_by_label("Heat").check()
    assert_controls_named(page)
    assert_fits_phone(page)
    screenshot(page, "flare-up-form-phone")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(400)  # the buttons' colour transition
    screenshot(page, "flare-up-form-phone-dark")
    page.emulate_media(color_scheme="light")
    form.get_by_role("button", name="Save flare-up").click()
    saved = page.get_by_role("status").filter(has_text="Flare-up saved")
    expect(saved).to_contain_text("Your therapist will see it")
    expect(saved).to_contain_text("bladder or bowels")
    expect(saved).to_contain_text("numb in the groin")
    expect(saved).to_contain_text("legs feel weak")
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")
    assert_fits_phone(page)
    screenshot(page, "flare-up-saved-phone")
    [report] = (
        signed_in("patient_a").get(f"/api/patients/{world.patient_a}/flare-ups").json
    )
    assert (report["severity"], report["triggers"], report["helped"]) == (
        8,
        ["lifting"],
        ["heat"],
    )
    # the patient's own history and chart show it
    page.get_by_role("navigation").get_by_role("link", name="Progress").click()
    history = page.get_by_role("region", name="Your flare-ups in this period")
    expect(history).to_contain_text("8/10")
    expect(history).to_contain_text("Lifting or bending")
    pain = page.get_by_role("figure").filter(has_text="flare-ups marked")
    expect(pain.locator("canvas").first).to_be_attached()
    pain.get_by_text("Table: Daily pain").click()
    expect(pain.get_by_role("row").filter(has_text="8/10")).to_have_count(1)
    assert_fits_phone(page)
    screenshot(page, "progress-flare-phone")

    desk = desktop.new_page()
    sign_in_page(desk, "ther@a.test")
    nav = desk.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Alerts (1 new)").click()
    card = desk.get_by_role("listitem").filter(has_text="A flare-up of 8 out of 10")
    expect(card).to_contain_text("Critical")
    expect(card.get_by_role("link", name="pat", exact=True)).to_be_visible()
    expect(card).to_contain_text(re.compile(r"Raised (just now|\d+ minutes? ago)"))
    screenshot(desk, "alerts-desktop")
    assert_controls_named(desk)
    card.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(card).to_contain_text("Acknowledged")
    expect(card).to_contain_text("acknowledged by ther")
    expect(nav.get_by_role("link", name="Alerts", exact=True)).to_be_visible()
    # the patient's page shows it at the top while it is open
    card.get_by_role("link", name="pat", exact=True).click()
    open_alerts = desk.get_by_role("region", name="Open alerts")
    expect(open_alerts).to_contain_text("A flare-up of 8 out of 10")
    expect(open_alerts).to_contain_text("Acknowledged")
    screenshot(desk, "patient-open-alerts-desktop")
    desk.go_back()
    card.get_by_role("button", name=re.compile("^Resolve")).click()
    card.get_by_label("What was done (optional note)").fill(
        "Called her: no red flags, heat and walking."
    )
    card.get_by_role("button", name="Resolve alert").click()
    expect(desk.get_by_text("No alerts: nothing needs your attention.")).to_be_visible()
    desk.get_by_role("button", name="Resolved").click()
    expect(card).to_contain_text("resolved by ther")
    expect(card).to_contain_text("Called her: no red flags")

    [alert] = signed_in("therapist_a").get("/api/alerts?state=resolved").json
    assert alert["patient_id"] == world.patient_a
    assert (alert["rule"], alert["severity"], alert["state"]) == (
        "flare_up",
        "critical",
        "resolved",
    )
    assert alert["resolved_by"] == {"id": world.therapist_a, "name": "ther"}
    assert alert["acknowledged_by"]["id"] == world.therapist_a
    assert alert["note"] == "Called her: no red flags, heat and walking."

    # the admin also sees how long it waited for someone, on a phone too
    admin_phone = browser.new_context(viewport=PHONE, base_url=live_server)
    try:
        admin_page = admin_phone.new_page()
        sign_in_page(admin_page, "admin@a.test")
        admin_page.get_by_role("navigation").get_by_role("link", name="Alerts").click()
        admin_page.get_by_role("button", name="Resolved").click()
        resolved = admin_page.get_by_role("listitem").filter(
            has_text="A flare-up of 8 out of 10"
        )
        expect(resolved).to_contain_text(re.compile(r"Acknowledged after \d+ minutes?"))
        assert_fits_phone(admin_page)
        screenshot(admin_page, "alerts-admin-phone")
        admin_page.get_by_role("navigation").get_by_role(
            "link", name="Patients"
        ).click()
        expect(
            admin_page.get_by_role("listitem").filter(has_text="pat@a.test")
        ).to_contain_text("nothing waiting")
        assert_fits_phone(admin_page)
    finally:
        admin_phone.close()

    # the flare-up on the therapist's chart, in its table and in the summary
    card.get_by_role("link", name="pat", exact=True).click()
    figure = desk.get_by_role("figure").filter(has_text="1 flare-up marked")
    expect(figure.locator("canvas").first).to_be_attached()
    figure.get_by_text("Table: Daily adherence").click()
    expect(figure.get_by_role("row").nth(1)).to_contain_text("8/10")
    summary = desk.get_by_role("region", name="What helped, and the pain after")
    expect(summary).to_contain_text("Heat")
    expect(desk.get_by_role("region", name="What set them off")).to_contain_text(
        "Lifting or bending"
    )
    over = figure.locator(".u-over")
    box = over.bounding_box()
    desk.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    expect(figure.locator(".chart-tooltip")).to_have_text("Flare-up: 8/10, severe")
    figure.scroll_into_view_if_needed()
    screenshot(desk, "chart-flare-markers-desktop")


def test_daily_activities_keep_their_names_and_show_the_mean_over_time(
    world, signed_in, page, sign_in_page, screenshot
):
    patient = signed_in("patient_a")
    today = date.fromisoformat(
        patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    )
    earlier = patient.post(
        f"/api/patients/{world.patient_a}/questionnaires/psfs",
        json={
            "activities": [
                {"name": "Putting on socks", "score": 3},
                {"name": "Walking to the shop", "score": 4},
            ],
            "taken_on": (today - timedelta(days=14)).isoformat(),
        },
    )
    assert earlier.status_code == 201, earlier.json

    sign_in_page(page, "pat@a.test")
    page.get_by_role("navigation").get_by_role("link", name="Questionnaire").click()
    page.get_by_role("link", name="Daily activities (PSFS)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Daily activities")
    first = page.get_by_role("group", name="Activity 1", exact=True)
    second = page.get_by_role("group", name="Activity 2 (optional)")
    expect(first.get_by_label("What is it?")).to_have_value("Putting on socks")
    expect(second.get_by_label("What is it?")).to_have_value("Walking to the shop")
    expect(first).to_contain_text("0 = unable to do it, 10 = as well as before")
    expect(first).to_contain_text("Last time: 3.")
    assert_controls_named(page)
    first.get_by_role("radio", name="6", exact=True).check()
    second.get_by_label("What is it?").fill("Walking to the bus stop")
    second.get_by_role("radio", name="9", exact=True).check()
    assert_fits_phone(page)
    screenshot(page, "psfs-phone")
    page.get_by_role("button", name="Save ratings").click()
    expect(page.get_by_text("7.5 out of 10")).to_be_visible()

    history = page.get_by_role("region", name="Daily activities results")
    rows = history.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two questionnaires
    expect(rows.nth(1)).to_contain_text("Walking to the bus stop: 9")
    expect(rows.nth(1)).to_contain_text("7.5")
    expect(rows.nth(2)).to_contain_text("3.5")
    expect(page.locator(".chart canvas").first).to_be_attached()
    [_, latest] = patient.get(
        f"/api/patients/{world.patient_a}/questionnaires/psfs"
    ).json
    assert latest["mean"] == 7.5
    assert [a["name"] for a in latest["activities"]] == [
        "Putting on socks",
        "Walking to the bus stop",
    ]
    assert_fits_phone(page)
    screenshot(page, "psfs-history-phone")


def test_admin_switches_alert_rules_and_the_new_numbers_apply(
    world, signed_in, desktop, sign_in_page, screenshot
):
    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.get_by_role("navigation").get_by_role("link", name="Staff").click()
    rules = page.get_by_role("region", name="Alerts", exact=True)
    flare_up = rules.get_by_role("group", name=re.compile("^Severe flare-up"))
    expect(flare_up.get_by_label("Severity at least")).to_have_value("7")
    flare_up.get_by_label("Severity at least").fill("6")
    inactive = rules.get_by_role("group", name=re.compile("^Inactive"))
    inactive.get_by_label("On: Inactive").uncheck()
    expect(inactive.get_by_label("Days without a log")).to_be_disabled()
    rules.get_by_role("button", name="Save alert settings").click()
    expect(rules.get_by_text("Alert settings saved.")).to_be_visible()
    screenshot(page, "alert-settings-desktop")

    settings = signed_in("admin_a").get("/api/clinic").json["alert_settings"]
    assert settings["flare_up"]["points"] == 6
    assert settings["inactive"]["on"] is False
    assert settings["pain_high"] == {
        "on": True,
        "severity": "critical",
        "points": 7,
        "in_a_row": 2,
    }
    patient = signed_in("patient_a")
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    patient.post(
        f"/api/patients/{world.patient_a}/flare-ups",
        json={
            "id": new_id(),
            "started_on": today,
            "severity": 6,
            "triggers": ["stress"],
            "helped": [],
        },
    )
    [alert] = signed_in("therapist_a").get("/api/alerts").json
    assert (alert["rule"], alert["severity"]) == ("flare_up", "critical")
