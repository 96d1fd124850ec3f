"""Accounts in the PWA: a therapist sets up two-step sign-in and signs in with
a code, a patient resets a forgotten password from the email, and a patient
signs out one of their other devices."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD


@pytest.fixture
def second_factor_on(app):
    app.config["SECOND_FACTOR_FOR_STAFF"] = True
    yield
    app.config["SECOND_FACTOR_FOR_STAFF"] = False


def password_step(page, email, password=PASSWORD):
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def next_step_code(secret: str) -> str:
    """A code from a time step no earlier sign-in used (codes never work twice)."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    return totp.at(now + 30)  # within the accepted window, one step ahead


def test_a_therapist_sets_up_two_step_sign_in_and_signs_in_with_a_code(
    world, desktop, second_factor_on, mailbox, screenshot
):
    page = desktop.new_page()
    password_step(page, "ther@a.test")
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    key = page.get_by_label("Key, if you cannot scan")
    expect(key).not_to_have_value("")
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    page.wait_for_function(  # the SVG from the server really draws
        "(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle()
    )
    screenshot(page, "accounts-enrol")
    secret = key.input_value().replace(" ", "")
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(
        re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){2}", c) for c in codes
    )
    next_button = page.get_by_role("button", name="Continue")
    expect(next_button).to_be_disabled()
    page.get_by_label("I have saved my recovery codes").check()
    next_button.click()
    expect(page.get_by_role("heading", level=1, name="Patients")).to_be_visible()
    assert any("second sign-in step" in m["Subject"] for m in mailbox.to("ther@a.test"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    password_step(page, "ther@a.test")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong or was used")
    screenshot(page, "accounts-code-step")
    page.get_by_label("6-digit code").fill(next_step_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Patients")).to_be_visible()


def test_a_patient_resets_a_forgotten_password_from_the_email(world, phone, mailbox):
    page = phone.new_page()
    page.goto("/")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill("pat@a.test")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").filter(has_text="is on its way")).to_be_visible()
    [message] = mailbox.to("pat@a.test")
    link = mailbox.link(message, "#/reset/")

    page.goto(link)
    page.get_by_label("New password", exact=True).fill("1234567890")
    page.get_by_label("Repeat the password").fill("1234567890")
    page.get_by_role("button", name="Save the new password").click()
    expect(
        page.get_by_text("top-100 common password")
    ).to_be_visible()  # the server's reason
    new = "lilac kettles drift north"
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Repeat the password").fill(new)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your new password is saved")).to_be_visible()

    page.goto("/")
    page.goto(link)  # the link works once
    page.get_by_label("New password", exact=True).fill("another fine passphrase")
    page.get_by_label("Repeat the password").fill("another fine passphrase")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("alert")).to_contain_text("has been used or has expired")

    password_step(page, "pat@a.test", new)
    expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()


def test_a_patient_signs_out_another_device(
    world, browser, live_server, sign_in_page, screenshot
):
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server
    )
    laptop = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server
    )
    try:
        on_phone = phone.new_page()
        sign_in_page(on_phone, "pat@a.test")
        on_laptop = laptop.new_page()
        sign_in_page(on_laptop, "pat@a.test")
        on_laptop.get_by_role("link", name="Account").click()
        devices = on_laptop.locator(".device")
        expect(devices).to_have_count(2)
        screenshot(on_laptop, "accounts-devices")
        other = devices.filter(has_not_text="This device")
        other.get_by_role("button", name=re.compile("^Sign out")).click()
        expect(
            on_laptop.get_by_role("alert").filter(has_text="is signed out")
        ).to_be_visible()
        expect(devices).to_have_count(1)

        on_phone.reload()
        expect(on_phone.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        phone.close()
        laptop.close()


def test_a_patient_changes_their_password(world, phone, sign_in_page, screenshot):
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    page.get_by_role("link", name="Account").click()
    form = page.locator("form").filter(has=page.get_by_label("Current password"))
    form.get_by_label("Current password").fill("not my password")
    form.get_by_label("New password", exact=True).fill("quiet harbour lights")
    form.get_by_label("Repeat the new password").fill("quiet harbour lights")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_text("This is not your current password.")).to_be_visible()
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("alert")).to_contain_text("Password changed")
    screenshot(page, "accounts-password")
