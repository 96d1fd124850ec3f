"""The app shell: installable (manifest + service worker), accessible names on
every screen, keyboard use, the CSP respected, and the invitation flow."""

import re
import struct

import pytest
from playwright.sync_api import expect

from tests.conftest import exercise_id, item, new_id, prescribe

NAMED_ROLES = [
    "button",
    "link",
    "textbox",
    "searchbox",
    "checkbox",
    "radio",
    "combobox",
    "slider",
    "spinbutton",
]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def watched(request):
    """watched(page) collects page errors and CSP violations; none may happen."""
    problems = []

    def watch(page):
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and problems.append(message.text)
            ),
        )
        return page

    yield watch
    assert problems == []


def assert_screen_is_accessible(page, title):
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("main")).to_have_count(1)
    for role in NAMED_ROLES:
        for control in page.get_by_role(role).all():
            expect(control).to_have_accessible_name(re.compile(r"\S"))


def test_service_worker_controls_the_page_and_manifest_is_installable(phone, watched):
    page = watched(phone.new_page())
    page.goto("/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith(
        "/sw.js"
    )
    cached = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys())
            for (const request of await (await caches.open(name)).keys())
              urls.push(request.url);
          return urls;
        }"""
    )
    assert any(
        url.endswith("/vendor/uplot.js") for url in cached
    )  # charts work offline
    assert any(url.endswith("/js/screens/patient/today.js") for url in cached)

    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.request.get(href).json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["name"] and manifest["short_name"] == "Homeward"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {}
    for icon in manifest["icons"]:
        response = page.request.get(icon["src"])
        assert response.ok and response.headers["content-type"] == "image/png"
        width, height = png_size(response.body())
        assert f"{width}x{height}" == icon["sizes"]
        sizes.setdefault(icon.get("purpose", "any"), set()).add(width)
    assert sizes["any"] >= {192, 512}
    assert 512 in sizes["maskable"]


# After a deploy, the new service worker's precache: the new version's URLs,
# filled from the old cache for every file whose revision did not change.
NEXT_PRECACHE = """async ({ version, unchanged, changed }) => {
  const registration = await navigator.serviceWorker.ready;
  await registration.update();
  const cache = await caches.open(`homeward-shell-${version}`);
  const done = `/assets/${version}/.revisions`;
  for (let i = 0; i < 100 && !(await cache.match(done)); i += 1)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const read = async (file) => (await cache.match(`/assets/${version}/${file}`))?.url;
  return { unchanged: await read(unchanged), changed: await read(changed) };
}"""


def test_a_deploy_fetches_only_the_files_it_changed(app, phone, watched):
    page = watched(phone.new_page())
    page.goto("/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    before = app.extensions["homeward_frontend"]
    unchanged, changed = "js/core/api.js", "js/screens/patient/week.js"
    app.extensions["homeward_frontend"] = {
        **before,
        "version": "0decade0cafe",
        "revisions": {**before["revisions"], changed: "0" * 12},
    }
    try:
        urls = page.evaluate(
            NEXT_PRECACHE,
            {"version": "0decade0cafe", "unchanged": unchanged, "changed": changed},
        )
    finally:
        app.extensions["homeward_frontend"] = before
    # the unchanged file is the old version's response, copied: not fetched again
    assert urls["unchanged"].endswith(f"/assets/{before['version']}/{unchanged}")
    assert urls["changed"].endswith(f"/assets/0decade0cafe/{changed}")


def test_every_control_has_an_accessible_name_on_every_patient_screen(
    world, signed_in, phone, sign_in_page, watched
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist, "bird dog"))])
    page = watched(phone.new_page())
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert_screen_is_accessible(page, "Sign in")
    sign_in_page(page, "pat@a.test", go=False)
    expect(page.get_by_role("button", name="Done: Bird dog")).to_be_visible()
    assert_screen_is_accessible(page, "Today")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Progress").click()
    expect(page.get_by_role("group", name="Period")).to_be_visible()
    expect(page.locator(".chart canvas").first).to_be_attached()  # uPlot, loaded lazily
    page.get_by_text("Table: Daily pain").click()
    assert_screen_is_accessible(page, "Progress")

    page.get_by_role("navigation").get_by_role("link", name="Questionnaire").click()
    expect(page.get_by_role("group", name=re.compile("Sex life"))).to_be_visible()
    assert_screen_is_accessible(page, "questionnaire")


def test_every_control_has_an_accessible_name_on_every_staff_screen(
    world, signed_in, desktop, sign_in_page, watched
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist, "bird dog"))])
    page = watched(desktop.new_page())
    sign_in_page(page, "admin@a.test")
    page.get_by_text("Enrol a patient").click()
    expect(page.get_by_role("button", name="Adherence (7 d)")).to_be_visible()
    assert_screen_is_accessible(page, "Patients")

    page.get_by_role("link", name="pat", exact=True).click()
    expect(page.get_by_role("heading", name="Programme history")).to_be_visible()
    expect(page.locator(".chart canvas").first).to_be_attached()
    assert_screen_is_accessible(page, "pat")

    page.get_by_role("link", name="Edit programme").click()
    expect(page.get_by_role("button", name="Add: Glute bridge")).to_be_visible()
    assert_screen_is_accessible(page, "Programme for pat")

    nav = page.get_by_role("navigation", name="Main")
    for link, title in [
        ("Reports", "Adherence report"),
        ("Staff", "Staff"),
        ("API tokens", "API tokens"),
        ("Audit log", "Audit log"),
    ]:
        nav.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(
            page.get_by_role("table").or_(page.get_by_text("No tokens yet."))
        ).to_be_visible()
        assert_screen_is_accessible(page, title)


def test_patient_list_sorts_by_each_column(world, signed_in, desktop, sign_in_page):
    therapist = signed_in("therapist_a")
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee)])
    patient = signed_in("patient_a")
    today = patient.get(f"/api/patients/{world.patient_a}/routine").json["today"]
    patient.post(
        f"/api/patients/{world.patient_a}/pain-logs",
        json={"id": new_id(), "logged_on": today, "score": 7},
    )
    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    names = page.locator("table.patients tbody th a")
    expect(names).to_have_text(["pat", "pat2"])
    pain = page.get_by_role("button", name="Latest pain")
    pain.click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Latest pain")
    expect(names).to_have_text(["pat", "pat2"])  # blanks sort last both ways
    pain.click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Latest pain")
    page.get_by_role("button", name="Name").click()
    page.get_by_role("button", name="Name").click()
    expect(names).to_have_text(["pat2", "pat"])


def test_keyboard_alone_ticks_an_exercise_with_visible_focus(
    world, signed_in, phone, sign_in_page
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist, "bird dog"))])
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    done = page.get_by_role("button", name="Done: Bird dog")
    expect(done).to_be_visible()
    for _ in range(30):
        page.keyboard.press("Tab")
        if (
            page.evaluate("document.activeElement.getAttribute('aria-label')")
            == "Done: Bird dog"
        ):
            break
    else:
        pytest.fail("Tab never reached the Done button")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    expect(page.get_by_role("listitem").filter(has_text="Bird dog")).to_contain_text(
        "1 of 1"
    )
    expect(page.get_by_role("button", name="Undo: Bird dog")).to_be_visible()


def test_enrolled_patient_accepts_the_invitation_and_lands_on_today(
    world, desktop, browser, live_server, sign_in_page
):
    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")
    page.get_by_text("Enrol a patient").click()
    page.get_by_label("Full name").fill("Nia Newcomer")
    page.get_by_label("Email").fill("nia@a.test")
    page.get_by_label("Timezone").fill("Europe/Berlin")
    page.get_by_role("button", name="Enrol patient").click()
    link = page.get_by_label("Invitation link")
    expect(link).to_have_value(re.compile(r"#/invite/"))
    invite_url = link.input_value()
    expect(page.get_by_role("link", name="Nia Newcomer")).to_be_visible()

    context = browser.new_context(base_url=live_server, service_workers="allow")
    try:
        phone_page = context.new_page()
        phone_page.goto(invite_url)
        phone_page.get_by_label("New password").fill("too short")
        phone_page.get_by_role("button", name="Set password and sign in").click()
        expect(phone_page.get_by_text("at least 10 characters").first).to_be_visible()
        phone_page.get_by_label("New password").fill("a long enough password")
        phone_page.get_by_label("Repeat the password").fill("a long enough password")
        phone_page.get_by_role("button", name="Set password and sign in").click()
        expect(phone_page.get_by_role("heading", level=1)).to_have_text("Today")
        expect(phone_page.get_by_text("Nothing is due today")).to_be_visible()
    finally:
        context.close()
