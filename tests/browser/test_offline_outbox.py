"""The patient's offline outbox: ticks and pain check-ins survive reloads and lost
sessions, reach the server once, and stay with the patient who made them."""

import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.conftest import exercise_id, item, new_id, prescribe

READ_OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("homeward");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction("outbox").objectStore("outbox").getAll();
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
  };
})"""

READ_KEYS = """(store) => new Promise((resolve, reject) => {
  const open = indexedDB.open("homeward");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction(store).objectStore(store).getAllKeys();
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
  };
})"""

PUT_BACK = """(records) => new Promise((resolve, reject) => {
  const open = indexedDB.open("homeward");
  open.onsuccess = () => {
    const tx = open.result.transaction("outbox", "readwrite");
    for (const record of records) tx.objectStore("outbox").put(record);
    tx.oncomplete = () => { open.result.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})"""


def prescribe_three(signed_in, patient_id):
    therapist = signed_in("therapist_a")
    names = ("Bird dog", "Glute bridge", "Pelvic tilt")
    ids = [exercise_id(therapist, name) for name in names]
    prescribe(
        therapist, patient_id, [item(ids[0], times=2), item(ids[1]), item(ids[2])]
    )


def pending(page):
    return page.locator("#sync-status")


def wait_for_service_worker(page):
    page.wait_for_function("() => navigator.serviceWorker?.controller != null")


def is_sync(response):
    return response.url.endswith("/api/sync") and response.request.method == "POST"


def test_patient_ticks_offline_and_every_record_reaches_the_server_once(
    world, signed_in, phone, sign_in_page, server_logs
):
    prescribe_three(signed_in, world.patient_a)
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)

    with page.expect_response(is_sync) as first_sync:
        page.get_by_role("button", name="Done: Bird dog").click()
    assert [r["status"] for r in first_sync.value.json()["results"]] == ["created"]
    assert server_logs(world.patient_a) == (1, 0)

    phone.set_offline(True)
    reloaded = page.reload()
    assert reloaded.from_service_worker
    bird_dog = page.get_by_role("listitem").filter(has_text="Bird dog")
    expect(bird_dog).to_contain_text(
        "1 of 2"
    )  # the routine and its tick, from IndexedDB
    page.get_by_role("button", name="Done: Glute bridge").click()
    page.get_by_role("button", name="Done: Pelvic tilt").click()
    page.get_by_label("Pain (0-10)").fill("6")
    page.get_by_label("Spasms today (optional)").fill("2")
    page.get_by_role("button", name="Save pain").click()

    expect(pending(page)).to_have_attribute("data-pending", "3")
    expect(pending(page)).to_have_text("Offline · 3 not sent yet")
    expect(
        page.get_by_role("listitem").filter(has_text="Glute bridge")
    ).to_contain_text("1 of 1")
    queued = page.evaluate(READ_OUTBOX)
    assert sorted(r["kind"] for r in queued) == [
        "exercise_log",
        "exercise_log",
        "pain_log",
    ]
    assert server_logs(world.patient_a) == (1, 0)

    phone.set_offline(False)
    expect(pending(page)).to_have_attribute("data-pending", "0")
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (3, 1)

    # a replay of the very same records (a lost answer, a second tab) changes nothing
    page.evaluate(PUT_BACK, queued)
    with page.expect_response(is_sync) as replay:
        page.reload()
    assert [r["status"] for r in replay.value.json()["results"]] == ["duplicate"] * 3
    expect(pending(page)).to_have_attribute("data-pending", "0")
    expect(page.get_by_text("could not be saved")).to_have_count(0)
    assert server_logs(world.patient_a) == (3, 1)
    expect(page.get_by_role("listitem").filter(has_text="Bird dog")).to_contain_text(
        "1 of 2"
    )


def test_session_expired_offline_keeps_the_outbox_for_its_own_patient(
    world, signed_in, phone, sign_in_page, server_logs
):
    prescribe_three(signed_in, world.patient_a)
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    expect(page.get_by_role("button", name="Done: Bird dog")).to_be_visible()
    phone.set_offline(True)
    page.get_by_role("button", name="Done: Bird dog").click()
    expect(pending(page)).to_have_attribute("data-pending", "1")

    phone.clear_cookies()  # the session ends while the phone is offline
    phone.set_offline(False)  # the flush is refused (CSRF, then 401) and kept
    expect(
        page.get_by_role("alert").filter(has_text="session has ended")
    ).to_be_visible()
    assert len(page.evaluate(READ_OUTBOX)) == 1

    # another patient on the same phone neither sees nor sends those records
    sign_in_page(page, "pat2@a.test", go=False)
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (0, 0)
    assert server_logs(world.patient_a2) == (0, 0)
    page.get_by_role("button", name="Sign out").click()

    sign_in_page(page, "pat@a.test", go=False)
    expect(pending(page)).to_have_attribute("data-pending", "0")
    assert server_logs(world.patient_a) == (1, 0)
    assert page.evaluate(READ_OUTBOX) == []


def test_undo_removes_a_queued_tick_and_deletes_a_sent_one(
    world, signed_in, phone, sign_in_page, server_logs
):
    prescribe_three(signed_in, world.patient_a)
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    bird_dog = page.get_by_role("listitem").filter(has_text="Bird dog")
    expect(bird_dog).to_contain_text("0 of 2")

    with page.expect_response(is_sync):
        page.get_by_role("button", name="Done: Bird dog").click()
    assert server_logs(world.patient_a) == (1, 0)
    with page.expect_response(is_sync):
        page.get_by_role("button", name="Undo: Bird dog").click()
    expect(bird_dog).to_contain_text("0 of 2")
    assert server_logs(world.patient_a) == (0, 0)

    phone.set_offline(True)
    page.get_by_role("button", name="Done: Bird dog").click()
    expect(pending(page)).to_have_attribute("data-pending", "1")
    page.get_by_role("button", name="Undo: Bird dog").click()
    expect(pending(page)).to_have_attribute("data-pending", "0")
    expect(bird_dog).to_contain_text("0 of 2")
    assert page.evaluate(READ_OUTBOX) == []


def test_signing_out_anyway_discards_the_unsent_records_from_the_device(
    world, signed_in, phone, sign_in_page, server_logs
):
    prescribe_three(signed_in, world.patient_a)
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    expect(page.get_by_role("button", name="Done: Pelvic tilt")).to_be_visible()
    phone.set_offline(True)
    page.get_by_role("button", name="Done: Pelvic tilt").click()
    page.get_by_role("button", name="Done: Bird dog").click()
    expect(pending(page)).to_have_attribute("data-pending", "2")

    page.get_by_role("button", name="Sign out").click()
    warning = page.get_by_text(re.compile(r"2 records not saved on the server yet"))
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("deletes them from this device")
    page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="Done: Pelvic tilt")).to_be_visible()
    assert len(page.evaluate(READ_OUTBOX)) == 2

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign out and delete them").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # nothing of this patient's stays on the phone for the next person
    assert page.evaluate(READ_OUTBOX) == []
    assert page.evaluate(READ_KEYS, "rejected") == []
    cached = page.evaluate(READ_KEYS, "cache")
    assert not [key for key in cached if str(world.patient_a) in str(key)], cached

    phone.set_offline(False)
    sign_in_page(page, "pat@a.test", go=False)
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (0, 0)


def test_an_impossible_spasm_count_is_stopped_before_saved(
    world, phone, sign_in_page, server_logs
):
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    spasms = page.get_by_label("Spasms today (optional)")
    page.get_by_label("Pain (0-10)").fill("4")
    spasms.fill("5000")
    page.get_by_role("button", name="Save pain").click()
    expect(
        page.get_by_text("Not saved: Spasms must be between 0 and 1000.")
    ).to_be_visible()
    expect(spasms).to_have_attribute("aria-invalid", "true")
    expect(spasms).to_be_focused()
    expect(page.get_by_text("Saved: pain")).to_have_count(0)
    assert page.evaluate(READ_OUTBOX) == []
    assert server_logs(world.patient_a) == (0, 0)

    spasms.fill("5")
    page.get_by_role("button", name="Save pain").click()
    expect(page.get_by_text("Saved: pain 4 out of 10.")).to_be_visible()
    expect(pending(page)).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (0, 1)


def test_a_record_the_server_refuses_comes_back_is_fixed_and_arrives_once(
    app, world, signed_in, phone, sign_in_page, server_logs, screenshot
):
    today = signed_in("patient_a").get(f"/api/patients/{world.patient_a}/routine")
    today = today.json["today"]
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    expect(page.get_by_role("button", name="Save pain")).to_be_visible()
    # a check-in queued by an earlier version of the app, before it knew the bound
    refused_id = new_id()
    page.evaluate(
        PUT_BACK,
        [
            {
                "key": f"pain_log:{refused_id}",
                "id": refused_id,
                "kind": "pain_log",
                "user_id": world.patient_a,
                "body": {
                    "id": refused_id,
                    "logged_on": today,
                    "score": 4,
                    "spasms": 5000,
                    "note": "After gardening",
                },
                "queued_at": "2026-01-01T08:00:00.000Z",
            }
        ],
    )
    with page.expect_response(is_sync) as refusal:
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
    assert [r["status"] for r in refusal.value.json()["results"]] == ["invalid"]

    panel = page.get_by_role("region", name="1 record could not be saved")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Pain check-in")
    expect(panel).to_contain_text("pain 4 out of 10 · 5000 spasms · “After gardening”")
    expect(panel).to_contain_text("Why: Spasms must be between 0 and 1000.")
    expect(pending(page)).to_have_attribute("data-pending", "0")
    screenshot(page, "refused-record-phone")
    assert page.evaluate(READ_OUTBOX) == []
    assert len(page.evaluate(READ_KEYS, "rejected")) == 1

    panel.get_by_role("button", name="Fix").click()
    spasms = panel.get_by_label("Spasms (optional)")
    expect(spasms).to_have_value("5000")
    expect(spasms).to_have_attribute("aria-invalid", "true")
    spasms.fill("5001")  # still too many: stopped on the phone
    panel.get_by_role("button", name="Send again").click()
    expect(panel).to_contain_text("Not sent: Spasms must be between 0 and 1000.")
    screenshot(page, "refused-record-fix-phone")
    spasms.fill("50")
    with page.expect_response(is_sync) as resent:
        panel.get_by_role("button", name="Send again").click()
    assert [r["status"] for r in resent.value.json()["results"]] == ["created"]
    expect(panel).to_have_count(0)
    assert server_logs(world.patient_a) == (0, 1)
    assert stored_pain(app, refused_id) == (4, 50, "After gardening")

    # nothing is sent twice: not on reload, not on the next flush
    page.reload()
    expect(pending(page)).to_have_text("All changes saved")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text("could not be saved")).to_have_count(0)
    assert page.evaluate(READ_KEYS, "rejected") == []
    assert server_logs(world.patient_a) == (0, 1)


def stored_pain(app, pain_id):
    from backend.extensions import db
    from backend.models import PainLog

    with app.app_context():
        log = db.session.get(PainLog, uuid.UUID(pain_id))
        found = (log.score, log.spasms, log.note)
        db.session.remove()
        return found


def test_background_sync_in_the_service_worker_sends_the_outbox(
    world, signed_in, phone, live_server, sign_in_page, server_logs
):
    prescribe_three(signed_in, world.patient_a)
    patient = signed_in("patient_a")
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    bird_dog_id = exercise_id(patient, "Bird dog")
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    bird_dog = page.get_by_role("listitem").filter(has_text="Bird dog")
    expect(bird_dog).to_contain_text("0 of 2")

    # records left by a tab that closed offline: only the service worker sends them
    tick, pain = new_id(), new_id()
    queued_at = "2020-01-01T00:00:00.000Z"
    page.evaluate(
        PUT_BACK,
        [
            {
                "key": f"exercise_log:{tick}",
                "id": tick,
                "kind": "exercise_log",
                "user_id": world.patient_a,
                "body": {
                    "id": tick,
                    "exercise_id": bird_dog_id,
                    "performed_on": today,
                },
                "queued_at": queued_at,
            },
            {
                "key": f"pain_log:{pain}",
                "id": pain,
                "kind": "pain_log",
                "user_id": world.patient_a,
                "body": {"id": pain, "logged_on": today, "score": 3},
                "queued_at": queued_at,
            },
        ],
    )
    cdp = phone.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(100):  # the registrations arrive as CDP events, soon after
        if registrations:
            break
        page.wait_for_timeout(20)
    [registration] = [r for r in registrations if not r["isDeleted"]]
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": live_server,
            "registrationId": registration["registrationId"],
            "tag": "homeward-outbox",
            "lastChance": False,
        },
    )
    # the worker signs its request with a CSRF token of its own, updates the cached
    # routine and tells the page, which redraws from it
    expect(bird_dog).to_contain_text("1 of 2")
    assert server_logs(world.patient_a) == (1, 1)
    assert page.evaluate(READ_OUTBOX) == []


def test_a_long_outbox_goes_in_chunks_the_server_takes(
    world, signed_in, phone, sign_in_page, server_logs
):
    """Months offline: 620 check-ins leave in syncs of at most the server's
    limit (from GET /api/limits), all arrive, none twice."""
    today = signed_in("patient_a").get(f"/api/patients/{world.patient_a}/routine")
    today = date.fromisoformat(today.json["today"])
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    expect(pending(page)).to_have_text("All changes saved")
    records = []
    for number in range(620):
        pain_id = new_id()
        day = (today - timedelta(days=number % 300)).isoformat()
        records.append(
            {
                "key": f"pain_log:{pain_id}",
                "id": pain_id,
                "kind": "pain_log",
                "user_id": world.patient_a,
                "body": {"id": pain_id, "logged_on": day, "score": number % 11},
                "queued_at": f"2026-01-01T08:{number // 60:02d}:{number % 60:02d}.000Z",
            }
        )
    page.evaluate(PUT_BACK, records)
    sizes = []
    page.on(
        "request",
        lambda request: (
            sizes.append(len(request.post_data_json["pain_logs"]))
            if request.url.endswith("/api/sync")
            else None
        ),
    )
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    # the indicator said "All changes saved" before the records were put back:
    # wait for the outbox itself to empty
    for _ in range(150):
        if page.evaluate(READ_OUTBOX) == []:
            break
        page.wait_for_timeout(200)
    expect(pending(page)).to_have_text("All changes saved", timeout=30_000)
    assert sizes == [500, 120]
    assert server_logs(world.patient_a) == (0, 620)
    assert page.evaluate(READ_OUTBOX) == []
