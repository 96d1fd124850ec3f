"""The PWA in Spanish: a patient chooses Español under Account and every screen
they use speaks it at once, also offline; no English is left on them (checked
against a marked copy of the catalog); a therapist's screens follow their own
account's language."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.extensions import db
from backend.models import User
from tests.browser.conftest import PHONE
from tests.browser.test_offline_outbox import pending, wait_for_service_worker
from tests.conftest import PASSWORD, exercise_id, item, prescribe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CATALOG = Path(__file__).resolve().parents[2] / "frontend" / "locales" / "es.json"
MARK = "⟦"

# Visible words (text and accessible names) of the page that are neither marked
# as coming from the catalog nor inside an element showing the server's or the
# person's own data (data-l10n-skip: exercise names, notes, dates, ...), nor
# weekday names (Intl's, in the page's language).
UNMARKED = """() => {
  const found = [];
  const intl = new Set();
  const lang = document.documentElement.lang;
  for (const weekday of ["short", "long"]) {
    const format = new Intl.DateTimeFormat(lang, { weekday, timeZone: "UTC" });
    for (let day = 0; day < 7; day++) {
      intl.add(format.format(new Date(Date.UTC(2024, 0, 1 + day))));
    }
  }
  const skipped = "[data-l10n-skip], script, style, noscript, .brand";
  const ours = (el) => !el.closest(skipped) && el.checkVisibility();
  const words = (text) =>
    /\\p{L}/u.test(text) && !text.includes("⟦") && !intl.has(text);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (words(text) && ours(el)) found.push(text);
  }
  for (const el of document.querySelectorAll("[aria-label]")) {
    const label = el.getAttribute("aria-label");
    if (words(label) && ours(el)) found.push(`aria-label: ${label}`);
  }
  return found;
}"""


def marked_catalog() -> str:
    """es.json with every message wrapped in ⟦…⟧."""

    def mark(entry):
        if isinstance(entry, dict):
            return {form: mark(text) for form, text in entry.items()}
        return f"⟦{entry}⟧"

    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    return json.dumps({key: mark(entry) for key, entry in catalog.items()})


def prescribe_for_the_guide(signed_in, patient_id):
    """One exercise of reps only (its guide waits for "Set done") and one with notes."""
    therapist = signed_in("therapist_a")
    bird_dog = exercise_id(therapist, "Bird dog")
    bridge = exercise_id(therapist, "Glute bridge")
    prescribe(
        therapist,
        patient_id,
        [
            item(bird_dog, sets=2, reps=5),
            item(bridge, hold_seconds=5, notes="Slowly, keep the back flat"),
        ],
    )


def choose_spanish(page):
    page.get_by_role("link", name="Account").click()
    page.get_by_role("combobox", name="Language").select_option("es")
    page.get_by_role("button", name="Save language").click()


def no_english_left(page, where):
    page.wait_for_load_state("networkidle")
    unmarked = page.evaluate(UNMARKED)
    assert unmarked == [], f"{where}: {unmarked}"


def test_every_patient_screen_is_in_the_catalog(
    world, signed_in, browser, live_server, sign_in_page
):
    prescribe_for_the_guide(signed_in, world.patient_a)
    # no service worker: the marked catalog is what the page fetches
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, service_workers="block"
    )
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        re.compile(r".*/locales/es\.json$"),
        lambda route: route.fulfill(
            body=marked_catalog(), content_type="application/json"
        ),
    )
    sign_in_page(page, "pat@a.test")
    choose_spanish(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("⟦Cuenta⟧")
    no_english_left(page, "Account")

    page.get_by_role("link", name="⟦Hoy⟧").click()
    expect(page.locator(".exercise-card")).to_have_count(2)
    no_english_left(page, "Today")

    page.get_by_role("button", name="⟦Tengo una crisis de dolor⟧").click()
    no_english_left(page, "Today, the flare-up form")
    page.get_by_role("button", name="⟦Cancelar⟧").click()

    page.get_by_label("⟦Dolor (0-10)⟧").fill("3")
    page.get_by_label("⟦Espasmos hoy (opcional)⟧").fill("2")
    page.get_by_role("button", name="⟦Guardar dolor⟧").click()
    expect(page.get_by_text("⟦Guardado: dolor 3 de 10.⟧")).to_be_visible()
    no_english_left(page, "Today, a pain check-in saved")

    page.get_by_role("button", name=re.compile("^⟦Empezar: ")).first.click()
    guide = page.locator("section.guide")
    expect(guide).to_contain_text("⟦Serie 1 de 2⟧")
    no_english_left(page, "the guide")
    page.get_by_role("button", name="⟦Serie hecha⟧").click()
    expect(guide).to_contain_text("⟦Descanso⟧")
    no_english_left(page, "the guide, resting")
    page.get_by_role("button", name="⟦Parar⟧").click()

    page.get_by_role("link", name="⟦Progreso⟧").click()
    expect(page.locator(".chart-figure").first).to_be_visible()
    no_english_left(page, "Progress")

    page.get_by_role("link", name="⟦Cuestionario⟧").click()
    expect(page.locator("fieldset.odi-section")).to_have_count(10)
    no_english_left(page, "Questionnaire")

    page.get_by_role("link", name="⟦Esta semana⟧").click()
    expect(page.locator(".week-day")).to_have_count(7)
    no_english_left(page, "This week")

    page.get_by_role("link", name="⟦Mensajes⟧").click()
    expect(page.get_by_role("button", name="⟦Enviar⟧")).to_be_visible()
    no_english_left(page, "Messages")
    context.close()
    assert errors == []


def test_a_patient_switches_to_spanish_and_it_stays_offline(
    world, signed_in, app, page, phone, sign_in_page, server_logs, screenshot
):
    prescribe_for_the_guide(signed_in, world.patient_a)
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    choose_spanish(page)

    nav = page.get_by_role("navigation")
    expect(page.get_by_role("heading", name="Cuenta", level=1)).to_be_visible()
    expect(nav.get_by_role("link", name="Hoy")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("combobox", name="Idioma")).to_have_value("es")
    screenshot(page, "spanish-account")
    with app.app_context():
        stored = db.session.scalar(
            select(User.language).where(User.id == world.patient_a)
        )
        db.session.remove()
    assert stored == "es"

    nav.get_by_role("link", name="Hoy").click()
    expect(page.get_by_role("heading", name="Tus ejercicios")).to_be_visible()
    expect(page.get_by_text("0 de 2 sesiones hechas hoy")).to_be_visible()
    expect(
        page.get_by_text("2 series × 5 repeticiones · una vez al día")
    ).to_be_visible()
    expect(page.get_by_text("De tu fisioterapeuta:")).to_be_visible()
    screenshot(page, "spanish-today")

    # a guided set: two sets of reps, the last one ticks the exercise
    first = page.locator(".exercise-card").first
    first.get_by_role("button", name=re.compile("^Empezar: ")).click()
    guide = page.locator("section.guide")
    expect(guide).to_contain_text("Serie 1 de 2")
    expect(guide).to_contain_text("5 repeticiones y luego toca Serie hecha")
    screenshot(page, "spanish-guide")
    page.get_by_role("button", name="Serie hecha").click()
    expect(guide).to_contain_text("Descansa 30 segundos.")
    page.get_by_role("button", name="Saltar descanso").click()
    page.get_by_role("button", name="Serie hecha").click()
    expect(guide).to_contain_text("Hecho: ¡muy bien!")
    expect(first).to_contain_text("1 de 1")
    expect(page.get_by_text("1 de 2 sesiones hechas hoy")).to_be_visible()

    page.get_by_label("Dolor (0-10)").fill("4")
    page.get_by_role("button", name="Guardar dolor").click()
    expect(page.get_by_text("Guardado: dolor 4 de 10.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"· dolor 4/10"))).to_be_visible()
    expect(pending(page)).to_have_text("Todo guardado")
    assert server_logs(world.patient_a) == (1, 1)

    nav.get_by_role("link", name="Progreso").click()
    expect(
        page.get_by_text("Dolor diario (0–10), con las crisis marcadas", exact=True)
    ).to_be_visible()
    expect(page.get_by_role("button", name="30 días")).to_have_attribute(
        "aria-pressed", "true"
    )

    nav.get_by_role("link", name="Cuestionario").click()
    spanish = json.loads(CATALOG.read_text(encoding="utf-8"))
    expect(page.locator("fieldset.odi-section legend").first).to_have_text(
        f"1. {spanish['Pain right now']}"
    )
    expect(page.get_by_role("button", name="Enviar cuestionario")).to_be_visible()

    # offline: the shell, the catalog and the choice are on the phone
    phone.set_offline(True)
    nav.get_by_role("link", name="Hoy").click()
    reloaded = page.reload()
    assert reloaded.from_service_worker
    expect(page.get_by_role("heading", name="Tus ejercicios")).to_be_visible()
    expect(
        page.get_by_role("navigation").get_by_role("link", name="Progreso")
    ).to_be_visible()
    second = page.locator(".exercise-card").nth(1)
    second.get_by_role("button", name=re.compile("^Hecho: ")).click()
    expect(second).to_contain_text("1 de 1")
    expect(pending(page)).to_have_text("Sin conexión · 1 sin enviar")
    screenshot(page, "spanish-today-offline")
    expect(page.get_by_role("status").filter(has_text="1 de 1 hechas.")).to_have_count(
        1
    )

    phone.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(pending(page)).to_have_text("Todo guardado")
    assert server_logs(world.patient_a) == (2, 1)


def test_a_therapist_reads_the_patient_list_in_spanish(world, app, page, screenshot):
    with app.app_context():
        therapist = db.session.get(User, world.therapist_a)
        therapist.language = "es"
        db.session.commit()
        db.session.remove()
    page.goto("/")
    page.get_by_label("Email").fill("ther@a.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    expect(page.get_by_role("heading", name="Pacientes", level=1)).to_be_visible()
    expect(
        page.get_by_role("navigation").get_by_role("link", name="Ejercicios")
    ).to_be_visible()
    expect(page.get_by_text("Dar de alta a un paciente")).to_be_visible()
    expect(page.get_by_label("Buscar pacientes")).to_be_visible()
    screenshot(page, "spanish-patients")


def test_a_clinic_exercise_gets_its_spanish_words_in_the_library(
    world, signed_in, page, sign_in_page
):
    therapist = signed_in("therapist_a")
    created = therapist.post(
        "/api/exercises",
        json={
            "name": "Wall slide",
            "category": "mobility",
            "body_region": "back",
            "instructions": "Slide slowly down the wall.",
        },
    ).json
    sign_in_page(page, "ther@a.test")
    page.goto(f"/#/library/{created['id']}")
    page.get_by_label("Spanish name").fill("Deslizamiento en la pared")
    page.get_by_label("Spanish instructions").fill("Deslízate despacio por la pared.")
    page.get_by_role("button", name="Save Spanish words").click()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    stored = therapist.get(f"/api/exercises/{created['id']}").json
    assert stored["translations"] == {
        "es": {
            "name": "Deslizamiento en la pared",
            "instructions": "Deslízate despacio por la pared.",
        }
    }
