"""Guided sets on the Today screen: the hold timer counts down under Playwright's
clock, finishing the last set ticks the exercise exactly once (also offline),
stopping halfway records nothing, and it all works by keyboard."""

from playwright.sync_api import expect

from tests.browser.test_offline_outbox import (
    READ_OUTBOX,
    pending,
    wait_for_service_worker,
)
from tests.conftest import exercise_id, item, prescribe

# ready 5 s, then per set: hold 30, relax 3, hold 30; a rest of 30 between sets
READY, HOLD, RELAX, REST = 5_000, 30_000, 3_000, 30_000
SET_MS = HOLD + RELAX + HOLD


def prescribe_bird_dog(signed_in, patient_id, **dose):
    therapist = signed_in("therapist_a")
    bird_dog = exercise_id(therapist, "Bird dog")
    prescribe(therapist, patient_id, [item(bird_dog, **dose)])


def open_today_with_a_paused_clock(page, sign_in_page, offline_ready=False):
    """Signs in with the clock installed, then stops time: only run_for moves it."""
    page.clock.install()
    sign_in_page(page, "pat@a.test")
    if offline_ready:
        wait_for_service_worker(page)
    expect(page.get_by_role("button", name="Start: Bird dog")).to_be_enabled()
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)


def the_guide(page):
    return page.get_by_role("region", name="Bird dog")


def start_guide(page):
    """Taps Start and waits for the guide (a module loaded on first use) to show."""
    page.get_by_role("button", name="Start: Bird dog").click()
    expect(the_guide(page)).to_be_visible()


def digits(page):
    return the_guide(page).locator(".guide-digits")


def settled(page):
    """Waits for CSS transitions (real time, not the paused clock) to end."""
    page.evaluate("() => Promise.all(document.getAnimations().map((a) => a.finished))")
    return page


def bird_dog_card(page):
    return page.get_by_role("listitem").filter(has_text="Bird dog")


def test_a_guided_set_with_a_hold_counts_down_and_ticks_once(
    world, signed_in, page, sign_in_page, server_logs, screenshot
):
    prescribe_bird_dog(signed_in, world.patient_a, sets=2, reps=2, hold_seconds=30)
    open_today_with_a_paused_clock(page, sign_in_page)
    expect(bird_dog_card(page)).to_contain_text("0 of 1")
    screenshot(page, "guided-today-phone")

    page.get_by_role("button", name="Start: Bird dog").click()
    guide = the_guide(page)
    live = guide.get_by_role("status")
    expect(guide).to_contain_text("Set 1 of 2")
    expect(page.get_by_role("button", name="Pause")).to_be_focused()
    expect(page.get_by_role("button", name="Done: Bird dog")).to_be_hidden()
    expect(digits(page)).to_have_text("5")  # get ready
    page.clock.run_for(READY)
    expect(digits(page)).to_have_text("30")
    expect(guide).to_contain_text("Rep 1 of 2")
    expect(guide.get_by_role("timer")).to_contain_text("Hold")
    page.clock.run_for(10_000)
    expect(digits(page)).to_have_text("20")
    screenshot(settled(page), "guided-hold-phone")
    page.emulate_media(color_scheme="dark")
    screenshot(settled(page), "guided-hold-phone-dark")
    page.emulate_media(color_scheme="light", reduced_motion="reduce")
    ring = guide.locator(".guide-ring-progress")
    expect(ring).to_have_css("transition-duration", "0s")  # the digits still count
    page.clock.run_for(HOLD - 10_000)
    expect(live).to_have_text("Release. Relax.")  # never the last seconds one by one
    page.clock.run_for(RELAX)
    expect(guide).to_contain_text("Rep 2 of 2")
    page.clock.run_for(HOLD)
    expect(live).to_have_text("Release. Rest 30 seconds.")
    expect(page.get_by_role("button", name="Skip rest")).to_be_visible()
    screenshot(settled(page), "guided-rest-phone")
    page.clock.run_for(REST)
    expect(live).to_contain_text("Set 2 of 2")
    expect(guide).to_contain_text("Set 2 of 2")
    assert server_logs(world.patient_a) == (0, 0)  # nothing until the last set ends

    page.clock.run_for(SET_MS)
    expect(guide).to_contain_text("Done — well done")
    page.clock.run_for(3_000)
    expect(guide).to_have_count(0)
    page.clock.resume()
    expect(bird_dog_card(page)).to_contain_text("1 of 1")
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (1, 0)
    expect(page.get_by_role("button", name="Start: Bird dog")).to_be_disabled()


def test_a_guided_set_finished_offline_is_queued_and_sent_once(
    world, signed_in, phone, page, sign_in_page, server_logs
):
    prescribe_bird_dog(signed_in, world.patient_a, sets=2, reps=2, hold_seconds=30)
    open_today_with_a_paused_clock(page, sign_in_page, offline_ready=True)
    phone.set_offline(True)  # guide.js itself comes from the service worker's cache

    start_guide(page)
    page.clock.run_for(READY + SET_MS)
    page.get_by_role("button", name="Skip rest").click()
    expect(the_guide(page).get_by_role("status")).to_contain_text("Set 2 of 2")
    page.clock.run_for(SET_MS)
    expect(the_guide(page)).to_contain_text("Done — well done")
    page.clock.run_for(3_000)
    page.clock.resume()

    expect(bird_dog_card(page)).to_contain_text("1 of 1")
    expect(pending(page)).to_have_attribute("data-pending", "1")
    queued = page.evaluate(READ_OUTBOX)
    assert [record["kind"] for record in queued] == ["exercise_log"]
    assert server_logs(world.patient_a) == (0, 0)

    phone.set_offline(False)
    expect(pending(page)).to_have_attribute("data-pending", "0")
    assert server_logs(world.patient_a) == (1, 0)
    page.reload()  # the same record again? No: it left the outbox once it arrived
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (1, 0)


def test_stopping_halfway_records_nothing_and_works_by_keyboard(
    world, signed_in, page, sign_in_page, server_logs
):
    prescribe_bird_dog(signed_in, world.patient_a, sets=2, reps=2, hold_seconds=30)
    open_today_with_a_paused_clock(page, sign_in_page)
    start = page.get_by_role("button", name="Start: Bird dog")

    start.focus()
    page.keyboard.press("Enter")
    pause = page.get_by_role("button", name="Pause")
    expect(pause).to_be_focused()
    page.clock.run_for(READY + 5_000)
    expect(digits(page)).to_have_text("25")
    page.keyboard.press("Enter")  # Pause
    page.clock.run_for(10_000)
    expect(digits(page)).to_have_text("25")
    expect(the_guide(page).get_by_role("status")).to_have_text("Paused.")
    page.get_by_role("button", name="Resume").press("Enter")
    page.clock.run_for(5_000)
    expect(digits(page)).to_have_text("20")

    page.keyboard.press("Escape")  # Stop: at once, asking nothing
    expect(the_guide(page)).to_have_count(0)
    expect(start).to_be_focused()
    expect(bird_dog_card(page)).to_contain_text("0 of 1")

    # Stop in the second set, by its button
    start_guide(page)
    page.clock.run_for(READY + SET_MS + REST + HOLD)
    expect(the_guide(page)).to_contain_text("Set 2 of 2")
    page.get_by_role("button", name="Stop").click()
    expect(the_guide(page)).to_have_count(0)
    expect(start).to_be_focused()
    page.clock.resume()
    assert page.evaluate(READ_OUTBOX) == []
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (0, 0)


def test_an_exercise_without_a_hold_goes_by_set_done(
    world, signed_in, page, sign_in_page, server_logs, screenshot
):
    prescribe_bird_dog(signed_in, world.patient_a, sets=2, reps=8)
    open_today_with_a_paused_clock(page, sign_in_page)

    page.get_by_role("button", name="Start: Bird dog").click()
    guide = the_guide(page)
    expect(guide).to_contain_text("Set 1 of 2")
    expect(digits(page)).to_have_text("8")
    expect(guide.get_by_role("timer")).to_have_count(0)  # no timer, the rep count
    expect(page.get_by_role("button", name="Set done")).to_be_focused()
    screenshot(settled(page), "guided-set-phone")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Skip rest")).to_be_focused()
    page.clock.run_for(REST)
    expect(guide).to_contain_text("Set 2 of 2")
    expect(page.get_by_role("button", name="Set done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(guide).to_contain_text("Done — well done")
    page.emulate_media(color_scheme="dark")
    screenshot(settled(page), "guided-done-phone-dark")
    page.clock.run_for(3_000)
    page.clock.resume()
    expect(bird_dog_card(page)).to_contain_text("1 of 1")
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (1, 0)
