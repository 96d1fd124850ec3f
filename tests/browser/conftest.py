"""Browser tests: the app served on a real port, driven by Debian's headless Chromium
through Playwright (no downloaded browsers)."""

import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from config import TestConfig
from tests.serving import CHROMIUM, CHROMIUM_FLAGS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def closed_before_sent(app):
    """`app`, each answer read whole and closed before the server sends it.
    werkzeug's development server closes an answer only after reading what
    is left of the request; when the browser has dropped the connection
    (a page left mid-download), that read raises first and a file being
    sent stays open until the garbage collector finds it: a ResourceWarning
    that the suite's warnings-as-errors turns into another test's error. The
    answers here are small."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return list(body)
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture
def live_server(app):
    """The test app on 127.0.0.1 at a free port, for the length of one test;
    the links it mails lead there (PUBLIC_URL)."""
    server = make_server("127.0.0.1", 0, closed_before_sent(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = address
    try:
        yield address
    finally:
        app.config["PUBLIC_URL"] = TestConfig.PUBLIC_URL
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone-sized context: its own cookies, storage and service worker."""
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, service_workers="allow"
    )
    yield context
    context.close()


@pytest.fixture
def page(phone):
    """A page on the phone that must raise no script error."""
    errors = []
    page = phone.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_server, service_workers="allow"
    )
    yield context
    context.close()


@pytest.fixture
def sign_in_page():
    """sign_in_page(page, "pat@a.test") → signs in through the form, by its labels
    (in English or Spanish, whichever the page speaks)."""
    import re

    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    def sign_in(page, email, password=PASSWORD, go=True):
        if go:
            page.goto("/")
        page.get_by_label(re.compile(r"^(Email|Correo electrónico)$")).fill(email)
        page.get_by_label(re.compile(r"^(Password|Contraseña)$")).fill(password)
        sign_in_button = re.compile(r"^(Sign in|Iniciar sesión)$")
        page.get_by_role("button", name=sign_in_button).click()
        sign_out = re.compile(r"^(Sign out|Cerrar sesión)$")
        expect(page.get_by_role("button", name=sign_out)).to_be_visible()

    return sign_in


@pytest.fixture
def server_logs(app):
    """server_logs(patient_id) → (live exercise logs, pain logs) in the database."""
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.models import ExerciseLog, PainLog

    def count(patient_id):
        with app.app_context():
            ticks = db.session.scalar(
                select(func.count())
                .select_from(ExerciseLog)
                .where(
                    ExerciseLog.patient_id == patient_id,
                    ExerciseLog.deleted_at.is_(None),
                )
            )
            pain = db.session.scalar(
                select(func.count())
                .select_from(PainLog)
                .where(PainLog.patient_id == patient_id)
            )
            db.session.remove()
            return ticks, pain

    return count


@pytest.fixture
def screenshot():
    """screenshot(page, "name") saves a full-page PNG to the folder named by
    HOMEWARD_SCREENSHOTS (for people to look at); without it, nothing."""
    folder = os.environ.get("HOMEWARD_SCREENSHOTS")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take
