"""The outbox is cut by bytes as well as by count: a long outbox of non-Latin notes
leaves in syncs the server takes, and a record too large for any sync comes back
to its patient instead of jamming everything after it."""

import json
import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.test_offline_outbox import PUT_BACK, READ_KEYS, READ_OUTBOX
from tests.conftest import new_id

MAX_BODY_BYTES = 1024 * 1024  # the server's MAX_CONTENT_LENGTH
GREEK = "Πόνος στη μέση μετά την κηπουρική, "  # 35 characters, 2 bytes each but spaces
CJK = "腰痛が続いています。"  # 10 characters, 3 bytes each


def long_note(number):
    """A 1,000-character note (the schema allows 2,000), Greek or Japanese."""
    text = (GREEK if number % 2 else CJK) * 100
    return text[:1000]


def pain_record(patient_id, day, number, note):
    pain_id = new_id()
    return {
        "key": f"pain_log:{pain_id}",
        "id": pain_id,
        "kind": "pain_log",
        "user_id": patient_id,
        "body": {"id": pain_id, "logged_on": day, "score": number % 11, "note": note},
        "queued_at": f"2026-01-01T08:{number // 60:02d}:{number % 60:02d}.000Z",
    }


def patient_today(signed_in, patient_id):
    routine = signed_in("patient_a").get(f"/api/patients/{patient_id}/routine")
    return date.fromisoformat(routine.json["today"])


def sync_bodies(page):
    """The byte size of every POST /api/sync the page sends, as it sends them."""
    sizes = []
    page.on(
        "request",
        lambda request: (
            sizes.append(len(request.post_data_buffer))
            if request.url.endswith("/api/sync") and request.method == "POST"
            else None
        ),
    )
    return sizes


def test_a_large_outbox_of_non_latin_notes_syncs_in_parts_exactly_once(
    world, signed_in, page, sign_in_page, server_logs
):
    """Offline, the patient saves check-ins until the outbox holds 1.5 MB; back
    online every one arrives once, in syncs each under the server's body limit."""
    today = patient_today(signed_in, world.patient_a)
    sign_in_page(page, "pat@a.test")
    expect(page.locator("#sync-status")).to_have_text("All changes saved")
    expect(page.get_by_role("button", name="Save pain")).to_be_visible()
    page.context.set_offline(True)
    # two through the form, as the patient types them
    for number in range(2):
        page.get_by_label("Pain (0-10)").fill(str(number + 3))
        page.get_by_label("Note (optional)").fill(long_note(number))
        page.get_by_role("button", name="Save pain").click()
        expect(page.get_by_text(f"Saved: pain {number + 3} out of 10.")).to_be_visible()
    # and months more of them, as the app queued them on earlier days
    records = [
        pain_record(
            world.patient_a,
            (today - timedelta(days=number % 300)).isoformat(),
            number,
            long_note(number),
        )
        for number in range(2, 640)
    ]
    page.evaluate(PUT_BACK, records)
    queued = page.evaluate(READ_OUTBOX)
    outbox_bytes = sum(
        len(
            json.dumps(
                record["body"], ensure_ascii=False, separators=(",", ":")
            ).encode()
        )
        for record in queued
    )
    assert len(queued) == 640 and outbox_bytes > 1_500_000
    assert server_logs(world.patient_a) == (0, 0)

    sizes = sync_bodies(page)
    page.context.set_offline(False)
    expect(page.locator("#sync-status")).to_have_text(
        "All changes saved", timeout=60_000
    )
    assert len(sizes) > 1
    assert all(size <= 900_000 < MAX_BODY_BYTES for size in sizes), sizes
    assert sum(sizes) > outbox_bytes
    assert server_logs(world.patient_a) == (0, 640)
    assert page.evaluate(READ_OUTBOX) == []
    assert page.evaluate(READ_KEYS, "rejected") == []
    print(f"outbox {outbox_bytes} bytes sent as syncs of {sizes} bytes")


def test_a_record_too_large_to_send_is_refused_and_the_rest_still_syncs(
    world, signed_in, page, sign_in_page, server_logs
):
    """A note far over any limit (queued by an older app) cannot jam the
    outbox: it comes back to the patient, and the check-in after it arrives."""
    today = patient_today(signed_in, world.patient_a).isoformat()
    sign_in_page(page, "pat@a.test")
    expect(page.locator("#sync-status")).to_have_text("All changes saved")
    huge = pain_record(world.patient_a, today, 0, "Ω" * 600_000)  # 1.2 MB of UTF-8
    after = pain_record(world.patient_a, today, 1, long_note(1))
    sizes = sync_bodies(page)
    page.evaluate(PUT_BACK, [huge, after])
    page.evaluate("() => window.dispatchEvent(new Event('online'))")

    panel = page.get_by_role("region", name="1 record could not be saved")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Pain check-in")
    expect(panel).to_contain_text("Note may be at most 2000 characters long")
    expect(page.locator("#sync-status")).to_have_text("All changes saved")
    assert server_logs(world.patient_a) == (0, 1)
    assert all(size < MAX_BODY_BYTES for size in sizes), sizes
    assert page.evaluate(READ_OUTBOX) == []
    assert page.evaluate(READ_KEYS, "rejected") == [huge["key"]]

    panel.get_by_role("button", name=re.compile("^Discard")).click()
    expect(panel).to_have_count(0)
    assert page.evaluate(READ_KEYS, "rejected") == []
