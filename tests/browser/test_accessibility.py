"""WCAG 2.2 AA in the browser: axe-core (from npm, a test dependency) finds no
violation on any screen, for each role, in light and dark mode and in English
and Spanish; the patient's screens fit a 360-px phone at 200 % text size; each
exercise card's controls name their exercise; the pain slider says its score in
words; the therapist's list is cards on a phone; and the programme editor names
the exercise and the field of each problem."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backend.extensions import db
from tests.conftest import add_patient, exercise_id, item, new_id, prescribe

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CATALOG = Path(__file__).resolve().parents[2] / "frontend" / "locales" / "es.json"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NARROW = {"width": 360, "height": 740}

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      summary: n.failureSummary,
    })),
  }));
}"""


def assert_no_violations(page, where):
    """Runs axe-core on the page as it is; the CSP forbids script tags, so its
    source is evaluated over the DevTools protocol, which the CSP does not see."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(RUN_AXE, WCAG_AA)
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}\n      {node['summary']}")
    assert not violations, f"axe on {where}:\n" + "\n".join(lines)


# a cancelled animation rejects `finished`: ended either way
ANIMATIONS_ENDED = """() => Promise.all(
  document.getAnimations().map((a) => a.finished.catch(() => null))
)"""


def settle(page):
    """Waits for the screen's heading and for nothing to be loading any more."""
    expect(page.locator("main h1").first).to_be_visible()
    expect(page.locator("main .loading")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    page.evaluate(ANIMATIONS_ENDED)


def visit(page, hash_path):
    page.evaluate("(hash) => { location.hash = hash; }", hash_path)
    page.wait_for_function("(hash) => location.hash === hash", arg=hash_path)
    settle(page)


def spanish_ready():
    return CATALOG.exists() and bool(json.loads(CATALOG.read_text(encoding="utf-8")))


@pytest.fixture(params=["en", "es"])
def language(request):
    if request.param == "es" and not spanish_ready():
        pytest.skip("frontend/locales/es.json has no entries yet: nothing is Spanish")
    return request.param


@pytest.fixture(params=["light", "dark"])
def scheme(request):
    return request.param


@pytest.fixture
def themed(browser, live_server, language, scheme):
    """A phone page in the language and colour scheme under test that must
    raise no script error."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server,
        color_scheme=scheme,
        locale="es-ES" if language == "es" else "en-GB",  # Accept-Language too
        service_workers="block",
    )
    context.add_init_script(f"localStorage.setItem('homeward-language', '{language}')")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def in_language(page, language):
    if language != "en":
        expect(page.locator("html")).to_have_attribute("lang", language)


def signed_in_at_home(page, sign_in_page, email):
    """Opens the app, signs in as `email` and waits for the first screen."""
    page.goto("/")
    settle(page)
    sign_in_page(page, email, go=False)
    settle(page)


def a_patient_with_a_history(world, signed_in):
    """Bird dog (with a hold, so the guide shows its timer) and Cat-camel; pain,
    a flare-up, a message, an ODI and a PSFS: every screen has something to show."""
    therapist = signed_in("therapist_a")
    prescribe(
        therapist,
        world.patient_a,
        [
            item(exercise_id(therapist, "Bird dog"), sets=2, reps=5, hold_seconds=10),
            item(exercise_id(therapist, "Cat-camel"), times=2),
        ],
        note="Starting gently",
    )
    patient = signed_in("patient_a")
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    for day, score in ((yesterday, 6), (today, 4)):
        pain = {"id": new_id(), "logged_on": day, "score": score, "spasms": 1}
        assert patient.post(f"{url}/pain-logs", json=pain).status_code == 201
    flare = {
        "id": new_id(),
        "started_on": yesterday,
        "severity": 8,
        "triggers": ["lifting"],
        "helped": ["heat"],
        "note": "Moved the sofa",
    }
    assert patient.post(f"{url}/flare-ups", json=flare).status_code == 201
    message = {"id": new_id(), "body": "Is the stiffness normal?"}
    assert patient.post(f"{url}/messages", json=message).status_code == 201
    odi = patient.post(f"{url}/questionnaires/odi", json={"answers": [2] * 10})
    assert odi.status_code == 201
    activities = [{"name": "Gardening", "score": 3}, {"name": "Driving", "score": 6}]
    psfs = {"activities": activities}
    assert patient.post(f"{url}/questionnaires/psfs", json=psfs).status_code == 201
    return therapist


PATIENT_SCREENS = ["#/week", "#/progress", "#/odi", "#/psfs", "#/messages", "#/account"]


def test_signed_out_screens_have_no_violations(themed, language, scheme):
    page = themed
    page.goto("/")
    settle(page)
    in_language(page, language)
    assert_no_violations(page, f"sign-in ({language}, {scheme})")
    visit(page, "#/forgot")
    assert_no_violations(page, f"forgot password ({language}, {scheme})")


def test_patient_screens_have_no_violations(
    world, signed_in, themed, sign_in_page, language, scheme
):
    a_patient_with_a_history(world, signed_in)
    page = themed
    signed_in_at_home(page, sign_in_page, "pat@a.test")
    in_language(page, language)
    where = f"({language}, {scheme})"
    assert_no_violations(page, f"Today {where}")

    card = page.locator(".exercise-card").first  # Bird dog, by its name in any language
    card.locator("summary").click()
    expect(card.locator("details")).to_have_attribute("open", "")
    assert_no_violations(page, f"Today with How to do it open {where}")

    card.locator("button.start").click()
    guide = page.locator(".guide")
    expect(guide).to_be_visible()
    page.evaluate(ANIMATIONS_ENDED)
    assert_no_violations(page, f"the guided set {where}")
    guide.locator("button.danger").click()  # Stop
    expect(guide).to_have_count(0)

    page.locator(".flare-up-button").click()
    expect(page.locator(".flare-up-form")).to_be_visible()
    assert_no_violations(page, f"the flare-up form {where}")

    for screen in PATIENT_SCREENS:
        visit(page, screen)
        assert_no_violations(page, f"{screen} {where}")


def test_therapist_screens_have_no_violations(
    world, signed_in, themed, sign_in_page, language, scheme, app
):
    therapist = a_patient_with_a_history(world, signed_in)
    bird_dog = exercise_id(therapist, "Bird dog")
    page = themed
    signed_in_at_home(page, sign_in_page, "ther@a.test")
    in_language(page, language)
    where = f"({language}, {scheme})"
    assert_no_violations(page, f"Patients {where}")
    patient = f"#/patients/{world.patient_a}"
    for screen in [
        patient,
        f"{patient}/programme",
        f"{patient}/odi",
        f"{patient}/psfs",
        "#/alerts",
        "#/reports",
        "#/library",
        f"#/library/{bird_dog}",
        "#/account",
    ]:
        visit(page, screen)
        assert_no_violations(page, f"{screen} {where}")


def test_admin_screens_have_no_violations(
    world, signed_in, themed, sign_in_page, language, scheme
):
    a_patient_with_a_history(world, signed_in)
    page = themed
    signed_in_at_home(page, sign_in_page, "admin@a.test")
    in_language(page, language)
    where = f"({language}, {scheme})"
    for screen in ["#/admin/staff", "#/admin/tokens", "#/admin/audit", "#/patients"]:
        visit(page, screen)
        assert_no_violations(page, f"{screen} {where}")


OUT_OF_REACH = """() => {
  const width = window.innerWidth;
  const outside = (el) => {
    const box = el.getBoundingClientRect();
    return box.left < -0.5 || box.right > width + 0.5;
  };
  const controls = [...document.querySelectorAll(
    "a[href], button, input, select, textarea, summary, [tabindex='0']"
  )].filter((el) => el.checkVisibility() && el.getBoundingClientRect().width > 0);
  const found = [];
  for (const el of controls) {
    if (!outside(el)) continue;
    // what focus brings into view (the skip link, a table's own scroll) is reachable
    el.focus();
    if (outside(el)) {
      const box = el.getBoundingClientRect();
      const name = (el.textContent || el.getAttribute("aria-label") || el.name || "");
      const at = `${Math.round(box.left)}–${Math.round(box.right)}`;
      found.push(`${el.tagName.toLowerCase()} "${name.trim().slice(0, 40)}" at ${at}`);
    }
  }
  document.activeElement?.blur();
  return found;
}"""


# what sticks out of the page (not out of a box that scrolls by itself), for the message
WIDEST = """() => {
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const reach = (el) => getComputedStyle(el).overflowX === "visible"
    ? el.getBoundingClientRect().left + el.scrollWidth
    : el.getBoundingClientRect().right;
  return [...document.querySelectorAll("body *")]
    .filter((el) => !clipped(el) && reach(el) > window.innerWidth + 0.5)
    .slice(-6)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} `
      + `"${el.textContent.slice(0, 30)}" ${Math.round(reach(el))}`);
}"""


# each visible table scrolls inside its own box: a focusable region named for it
# (uPlot's legend, a chart's key, is no data table)
UNBOXED_TABLES = """() => [...document.querySelectorAll("table:not(.u-legend)")]
  .filter((table) => table.checkVisibility())
  .filter((table) => {
    const box = table.closest(".table-wrap");
    return !(box && box.getAttribute("role") === "region" && box.tabIndex === 0
      && box.getAttribute("aria-label") && getComputedStyle(box).overflowX === "auto");
  })
  .map((table) => table.caption?.textContent || table.outerHTML.slice(0, 80))"""


def assert_fits_at_double_text(page, where):
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    assert page.evaluate(UNBOXED_TABLES) == [], where
    sizes = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert sizes[0] <= sizes[1], f"{where} scrolls sideways at 200 %: {sizes}, " + str(
        page.evaluate(WIDEST)
    )
    assert page.evaluate(OUT_OF_REACH) == [], f"{where} at 200 %"


@pytest.fixture
def narrow(browser, live_server):
    """A 360-px phone whose text is set to 200 % (the root font size, which
    every rem and em in frontend/css follows)."""
    context = browser.new_context(
        viewport=NARROW, base_url=live_server, service_workers="block"
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script("""document.addEventListener("DOMContentLoaded",
      () => { document.documentElement.style.fontSize = "200%"; })""")
    yield page
    context.close()
    assert errors == []


def test_patient_screens_fit_a_360px_phone_at_200_percent_text(
    world, signed_in, narrow, sign_in_page, screenshot
):
    a_patient_with_a_history(world, signed_in)
    page = narrow
    page.goto("/")
    settle(page)
    assert_fits_at_double_text(page, "sign-in")
    sign_in_page(page, "pat@a.test", go=False)
    settle(page)
    root = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert root == "32px"
    assert_fits_at_double_text(page, "Today")
    done = page.get_by_role("button", name="Done: Bird dog")
    done.scroll_into_view_if_needed()
    box = done.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], box
    screenshot(page, "today-200pc-360px")
    card = page.locator(".exercise-card").filter(has_text="Bird dog")
    card.locator("summary").click()
    assert_fits_at_double_text(page, "Today, How to do it open")
    page.get_by_role("button", name="I'm having a flare-up").click()
    assert_fits_at_double_text(page, "the flare-up form")
    for screen in PATIENT_SCREENS:
        visit(page, screen)
        assert_fits_at_double_text(page, screen)


def test_therapist_list_fits_a_360px_phone_at_200_percent_text(
    world, signed_in, narrow, sign_in_page
):
    a_patient_with_a_history(world, signed_in)
    page = narrow
    signed_in_at_home(page, sign_in_page, "ther@a.test")
    assert_fits_at_double_text(page, "Patients")
    for screen in [f"#/patients/{world.patient_a}", "#/reports", "#/alerts"]:
        visit(page, screen)
        assert_fits_at_double_text(page, screen)


def test_the_patient_list_is_a_list_of_cards_on_a_phone(
    app, world, signed_in, phone, desktop, sign_in_page, screenshot
):
    a_patient_with_a_history(world, signed_in)
    with app.app_context():
        long = add_patient(world.clinic_a, "maria.long@a.test", world.therapist_a)
        long.name = "María Fernanda Villalobos-Castellanos de la Torre"
        db.session.commit()
    page = phone.new_page()
    sign_in_page(page, "ther@a.test")
    cards = page.get_by_role("list", name="Patients").locator(":scope > li")
    expect(cards).to_have_count(2)
    expect(page.get_by_role("table")).to_have_count(0)  # the table is for wide screens
    pat = cards.filter(has=page.get_by_role("link", name="pat", exact=True))
    for fact in ["Adherence (7 d)", "Latest pain", "4", "1 open alert", "1 unread"]:
        expect(pat).to_contain_text(fact)
    expect(pat.locator(".flags li").first).to_be_visible()  # a flag, e.g. low adherence
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    for link in page.get_by_role("list", name="Patients").get_by_role("link").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.get_by_label("Sort by").select_option(label="Name")
    page.get_by_label("Order").select_option(label="Descending")
    expect(cards.first).to_contain_text("pat@a.test")
    screenshot(page, "patients-phone")

    wide = desktop.new_page()
    sign_in_page(wide, "ther@a.test")
    rows = wide.get_by_role("region", name="Patients").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(wide.get_by_role("list", name="Patients")).to_be_hidden()


def test_each_card_names_its_exercise_and_the_pain_slider_says_its_words(
    world, signed_in, page, sign_in_page
):
    a_patient_with_a_history(world, signed_in)
    sign_in_page(page, "pat@a.test")
    for name in ("Bird dog", "Cat-camel"):
        # the accessible name starts with the visible word (WCAG 2.5.3)
        expect(page.get_by_role("button", name=f"Done: {name}")).to_have_text("Done")
        expect(page.get_by_role("button", name=f"Start: {name}")).to_be_visible()
        # a <summary> has no ARIA role to find it by; its name is its text
        how_to = page.locator("summary").filter(has_text=f"How to do {name}")
        expect(how_to).to_have_accessible_name(f"How to do {name}")
        expect(page.get_by_role("button", name=f"Undo: {name}")).to_have_count(0)
    page.get_by_role("button", name="Done: Bird dog").click()
    expect(page.get_by_role("button", name="Undo: Bird dog")).to_have_text("Undo")
    expect(page.get_by_role("button", name="Undo: Cat-camel")).to_have_count(0)

    slider = page.get_by_role("slider", name="Pain (0-10)")
    expect(slider).to_have_attribute("aria-valuetext", "4 — moderate pain")  # today's
    for score, words in [
        (0, "0 — no pain"),
        (2, "2 — mild pain"),
        (5, "5 — moderate pain"),
        (8, "8 — severe pain"),
        (10, "10 — worst pain imaginable"),
    ]:
        slider.fill(str(score))
        expect(slider).to_have_attribute("aria-valuetext", words)


def open_the_editor_with_two_exercises(world, signed_in, desktop, sign_in_page):
    therapist = signed_in("therapist_a")
    prescribe(
        therapist,
        world.patient_a,
        [
            item(exercise_id(therapist, "Bird dog")),
            item(exercise_id(therapist, "Cat-camel")),
        ],
    )
    page = desktop.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def enter_two_mistakes(page):
    bird_dog = page.get_by_role("group", name="Bird dog", exact=True)
    cat_camel = page.get_by_role("group", name="Cat-camel", exact=True)
    bird_dog.get_by_label("Reps").fill("500")
    cat_camel.get_by_label("Sets").fill("0")
    page.get_by_role("button", name="Save programme").click()
    return bird_dog.get_by_label("Reps"), cat_camel.get_by_label("Sets")


def assert_marked(page, field, words):
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby").split()
    notes = [page.locator(f"[id='{id_}']").text_content() for id_ in described]
    assert any(words in note for note in notes), notes


def test_programme_editor_names_each_exercise_and_field_that_is_wrong(
    world, signed_in, desktop, sign_in_page, screenshot
):
    page, errors = open_the_editor_with_two_exercises(
        world, signed_in, desktop, sign_in_page
    )
    sign_in_page(page, "ther@a.test")
    page.goto(f"/#/patients/{world.patient_a}/programme")
    reps, sets = enter_two_mistakes(page)

    summary = page.get_by_role("alert").filter(has_text="2 problems to fix")
    expect(summary).to_contain_text("Bird dog — Reps: must be between 1 and 100.")
    expect(summary).to_contain_text("Cat-camel — Sets: must be between 1 and 20.")
    assert_marked(page, reps, "Bird dog — Reps: must be between 1 and 100.")
    assert_marked(page, sets, "Cat-camel — Sets: must be between 1 and 20.")
    expect(reps).to_be_focused()  # the first problem
    screenshot(page, "programme-editor-errors")
    assert_no_violations(page, "the editor showing its errors")

    summary.get_by_role("link", name="Cat-camel — Sets").click()
    expect(sets).to_be_focused()
    assert page.url.endswith("/programme")  # the link moved focus, not the router
    reps.fill("12")
    sets.fill("2")
    page.get_by_role("button", name="Save programme").click()
    expect(page.get_by_text("Version 2")).to_be_visible()
    assert errors == []


def test_programme_editor_shows_the_servers_422_the_same_way(
    world, signed_in, desktop, sign_in_page
):
    page, errors = open_the_editor_with_two_exercises(
        world, signed_in, desktop, sign_in_page
    )
    # without the schema's bounds in the browser, only the server can judge
    page.route("**/api/openapi.json", lambda route: route.fulfill(status=404))
    sign_in_page(page, "ther@a.test")
    page.goto(f"/#/patients/{world.patient_a}/programme")
    reps, sets = enter_two_mistakes(page)

    summary = page.get_by_role("alert").filter(has_text="2 problems to fix")
    expect(summary).to_contain_text("Bird dog — Reps: ")
    expect(summary).to_contain_text("Cat-camel — Sets: ")
    assert_marked(page, reps, "Bird dog — Reps: ")
    assert_marked(page, sets, "Cat-camel — Sets: ")
    expect(reps).to_be_focused()
    assert errors == []
