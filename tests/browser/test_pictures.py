"""Showing patients how, on the phone: each exercise's picture on Today and in
"How to do it" (also offline), the clinic's video kept for offline on request
and played from the phone in byte ranges, the week ahead, and the note that
says what changed in the programme until the patient has seen it."""

import io
import re

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.extensions import db
from backend.models import PatientProfile
from tests.browser.test_offline_outbox import wait_for_service_worker
from tests.conftest import exercise_id, item, prescribe
from tests.test_media import MP4, encoded

PICTURES_KEPT = """async () => {
  const cache = await caches.open("homeward-media");
  return (await cache.keys()).map((request) => new URL(request.url).pathname);
}"""

# every <img> in the card or its "How to do it" drew a real picture
BROKEN_PICTURES = """(card) => [...card.querySelectorAll("img")]
  .filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.src)"""


def upload(client, exercise, data, name, mimetype):
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(data), name, content_type=mimetype)}
    )
    response = client.post(
        f"/api/exercises/{exercise}/media",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 201, response.json
    return response.json


def clinic_photo() -> bytes:
    return encoded(Image.new("RGB", (800, 400), (30, 120, 90)), "JPEG")


def kept_once(page, done, seconds=10):
    """The media cache's paths once `done(paths)` holds (it fills in the
    background after Today loads); the last seen paths if it never does."""
    for _ in range(seconds * 5):
        kept = page.evaluate(PICTURES_KEPT)
        if done(kept):
            break
        page.wait_for_timeout(200)
    return kept


def card(page, name):
    return page.locator(".exercise-card").filter(
        has=page.get_by_role("heading", name=name)
    )


def open_how_to(page, name):
    card(page, name).get_by_text(f"How to do {name}").click()
    return card(page, name).locator("details.how-to")


def test_pictures_of_the_programme_show_on_today_and_offline(
    world, signed_in, page, sign_in_page, screenshot
):
    therapist = signed_in("therapist_a")
    bird_dog = exercise_id(therapist, "Bird dog")
    knees = exercise_id(therapist, "Knee-to-chest")
    own = upload(therapist, knees, clinic_photo(), "knees.jpg", "image/jpeg")
    prescribe(therapist, world.patient_a, [item(bird_dog), item(knees)])

    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    # the drawing's alt text says what the body does
    expect(card(page, "Bird dog").get_by_role("img")).to_have_attribute(
        "alt", re.compile("On hands and knees with a flat back")
    )
    expect(
        card(page, "Knee-to-chest stretch").locator(".card-picture")
    ).to_have_attribute("src", own["thumb_url"])
    # the phone keeps the programme's pictures: the drawing, and both sizes
    # of the clinic's photo
    kept = kept_once(page, lambda kept: len(kept) >= 4)
    assert {own["url"], own["thumb_url"]} <= set(kept), (kept, own)
    assert any(path.endswith("/bird-dog.svg") for path in kept)
    screenshot(page, "today-pictures-phone")

    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Bird dog")).to_be_visible()
    for name in ("Bird dog", "Knee-to-chest stretch"):
        how_to = open_how_to(page, name)
        expect(how_to.locator("img").first).to_be_visible()
        page.wait_for_function(
            "(card) => [...card.querySelectorAll('img')].every((img) => img.complete)",
            arg=card(page, name).element_handle(),
        )
        assert card(page, name).evaluate(BROKEN_PICTURES) == [], name
    screenshot(page, "how-to-offline-phone")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "how-to-offline-phone-dark")


def test_a_clinic_video_is_kept_for_offline_only_when_asked(
    world, signed_in, page, sign_in_page
):
    therapist = signed_in("therapist_a")
    bird_dog = exercise_id(therapist, "Bird dog")
    video = upload(therapist, bird_dog, MP4, "bird-dog.mp4", "video/mp4")
    prescribe(therapist, world.patient_a, [item(bird_dog)])

    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    how_to = open_how_to(page, "Bird dog")
    expect(how_to.get_by_label("Video: Bird dog")).to_have_attribute(
        "src", video["url"]
    )
    save = how_to.get_by_role("button", name="Save video for offline (0.0 MB)")
    expect(save).to_be_visible()
    # the drawing is kept in the background, the video not without asking
    kept = kept_once(page, lambda kept: any(p.endswith("bird-dog.svg") for p in kept))
    assert any(path.endswith("bird-dog.svg") for path in kept)
    assert video["url"] not in kept

    save.click()
    expect(how_to.get_by_role("status")).to_have_text(
        "Saved on this phone: it plays without the internet."
    )
    page.context.set_offline(True)
    # what the player asks for when it seeks: a byte range, answered from the phone
    answer = page.evaluate(
        """async (url) => {
          const response = await fetch(url, { headers: { Range: "bytes=8-15" } });
          const bytes = new Uint8Array(await response.arrayBuffer());
          return { status: response.status,
                   range: response.headers.get("Content-Range"), bytes: [...bytes] };
        }""",
        video["url"],
    )
    assert answer == {
        "status": 206,
        "range": f"bytes 8-15/{len(MP4)}",
        "bytes": list(MP4[8:16]),
    }

    page.context.set_offline(False)
    how_to.get_by_role("button", name="Remove the video from this phone").click()
    expect(save).to_be_visible()
    assert video["url"] not in page.evaluate(PICTURES_KEPT)


def test_the_week_ahead_and_a_changed_programme_until_got_it(
    app, world, signed_in, page, sign_in_page, screenshot
):
    therapist = signed_in("therapist_a")
    bird_dog = exercise_id(therapist, "Bird dog")
    bridge = exercise_id(therapist, "Glute bridge")
    prescribe(therapist, world.patient_a, [item(bird_dog, sets=2)])
    sign_in_page(page, "pat@a.test")
    expect(page.get_by_role("heading", name="Bird dog")).to_be_visible()
    expect(page.get_by_role("heading", name="Your programme changed")).to_have_count(0)

    page.get_by_role("link", name="See your week ahead").click()
    expect(page.get_by_role("heading", name="This week", level=1)).to_be_visible()
    expect(page.locator(".week-body")).to_contain_text("Bird dog")
    screenshot(page, "week-phone")
    # the week fits the phone: the grid scrolls inside its own box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    prescribe(
        therapist,
        world.patient_a,
        [item(bird_dog, sets=3), item(bridge)],
        note="More core work this week.",
    )
    page.get_by_role("link", name="Today").click()
    notice = page.get_by_role("region", name="Your programme changed")
    expect(notice).to_contain_text("New: Glute bridge")
    expect(notice).to_contain_text("3 sets of 10 (was 2 sets of 10)")
    expect(notice).to_contain_text("More core work this week.")
    screenshot(page, "programme-changed-phone")

    notice.get_by_role("button", name="Got it").click()
    expect(notice).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Glute bridge")).to_be_visible()
    expect(page.get_by_role("heading", name="Your programme changed")).to_have_count(0)
    with app.app_context():
        seen = db.session.scalar(
            select(PatientProfile.programme_seen_version).where(
                PatientProfile.user_id == world.patient_a
            )
        )
        db.session.remove()
    assert seen == 2


def test_a_therapist_adds_and_deletes_a_clinic_picture_and_a_bad_file_is_refused(
    world, desktop, sign_in_page, screenshot, tmp_path
):
    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")
    page.get_by_role("link", name="Exercises").click()
    page.get_by_label("Search exercises").fill("bird")
    expect(page.locator(".library-card")).to_have_count(1)
    page.get_by_role("link", name=re.compile("Bird dog")).click()
    expect(page.get_by_role("heading", name="Bird dog", level=1)).to_be_visible()
    pictures = page.get_by_role("region", name="Your clinic's pictures")
    expect(pictures).to_contain_text("No pictures yet.")

    # a program renamed to look like a photo: refused, in words, nothing kept
    disguised = tmp_path / "exercise.jpg"
    disguised.write_bytes(b"MZ\x90\x00" + bytes(200))
    pictures.locator("input[type=file]").set_input_files(disguised)
    expect(page.get_by_role("alert")).to_contain_text("exercise.jpg:")
    expect(pictures).to_contain_text("No pictures yet.")

    photo = tmp_path / "bird-dog.jpg"
    photo.write_bytes(clinic_photo())
    pictures.locator("input[type=file]").set_input_files(photo)
    expect(page.get_by_role("alert")).to_have_text("Picture added.")
    expect(pictures.get_by_role("img", name="Picture 1 of Bird dog")).to_be_visible()
    expect(pictures).to_contain_text("800 × 400")
    screenshot(page, "library-exercise-desktop")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.get_by_role("link", name="← Exercise library").click()
    expect(page.locator(".library-card").filter(has_text="Bird dog")).to_contain_text(
        "1 picture"
    )
    page.get_by_role("link", name=re.compile("Bird dog")).click()
    pictures.get_by_role("button", name="Delete picture").click()
    expect(page.get_by_role("alert")).to_have_text("The picture was deleted.")
    expect(pictures).to_contain_text("No pictures yet.")
