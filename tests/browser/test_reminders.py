"""Reminders in the PWA: the patient's settings on Account (email, quiet hours,
pause, one-tap stop); notification permission asked only after a tap, email
offered when subscribing fails; with a stand-in push service in the page, this
phone's subscription sent, dropped at sign-out and renewed by the service
worker; a push shown and clicked through the service worker (delivered over
CDP); the therapist's "Send a reminder"; an email's stop link."""

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Error, expect
from sqlalchemy import select

from backend.extensions import db
from backend.models import PushSubscription
from backend.services import reminders
from tests.browser.test_offline_outbox import wait_for_service_worker

LONDON = ZoneInfo("Europe/London")  # the world's patients live there
REMINDER = {
    "title": "Homeward",
    "body": "3 exercises left today",
    "url": "/#/today",
    "tag": "homeward-reminder",
}
# the worker's notifications, once there are `count` of them (each with `body`,
# when given), or after 10 s: once, with the PostgreSQL suite loading a slow
# 2-core machine, a pushed notification had not shown after 5
NOTIFICATIONS = """async ({count, body}) => {
  const registration = await navigator.serviceWorker.ready;
  for (let tries = 0; ; tries++) {
    const shown = await registration.getNotifications();
    const same = shown.every((n) => !body || n.body === body);
    if ((shown.length === count && same) || tries === 200) {
      return shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, icon: n.icon,
                                data: n.data}));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}"""


def reminders_of(signed_in, world):
    answer = signed_in("patient_a").get(f"/api/patients/{world.patient_a}/reminders")
    assert answer.status_code == 200, answer.json
    return answer.json


def set_reminders(signed_in, world, channel, times=("18:00",)):
    answer = signed_in("patient_a").put(
        f"/api/patients/{world.patient_a}/reminders",
        json={"times": list(times), "days_of_week": list(range(7)), "channel": channel},
    )
    assert answer.status_code == 200, answer.json


def reminders_card(page):
    page.get_by_role("link", name="Account").click()
    card = page.get_by_role("region", name="Reminders")
    expect(card.get_by_role("button", name="Save reminders")).to_be_visible()
    return card


# A push service for the page alone: headless Chromium has none, so that the
# page's part (permission, subscribe, POST, PUT, and at sign-out DELETE and
# unsubscribe) runs against the real server with an endpoint it accepts.
FAKE_PUSH_SERVICE = """(() => {
  let current = null;
  window.unsubscribed = 0;
  PushManager.prototype.getSubscription = async () => current;
  PushManager.prototype.subscribe = async (options) => {
    current = {
      endpoint: "http://127.0.0.1:9/push/this-phone",
      options,
      toJSON() {
        const keys = {p256dh: "BFakePointOfThisPhone", auth: "FakeAuthSecret"};
        return {endpoint: this.endpoint, keys};
      },
      async unsubscribe() {
        current = null;
        window.unsubscribed += 1;
        return true;
      },
    };
    return current;
  };
})()"""


def turn_notifications_on(phone, page, live_server, sign_in_page):
    """pat signs in on a phone with FAKE_PUSH_SERVICE and chooses notifications."""
    phone.add_init_script(FAKE_PUSH_SERVICE)
    phone.grant_permissions(["notifications"], origin=live_server)
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    card = reminders_card(page)
    card.get_by_label("Notifications on this phone").check()
    card.get_by_role("button", name="Save reminders").click()
    expect(card.locator(".reminder-status")).to_have_text(
        "Reminders on: 18:00, every day, on this phone."
    )


def push_endpoints(app, patient_id):
    with app.app_context():
        found = db.session.scalars(
            select(PushSubscription.endpoint).where(
                PushSubscription.user_id == patient_id
            )
        ).all()
        db.session.remove()
    return found


def in_service_worker(page, script):
    """Runs `script` in the page's service worker. Chromium may stop an idle
    worker at any time: then a request from the page starts it again."""
    for _ in range(20):
        for worker in page.context.service_workers:
            try:
                return worker.evaluate(script)
            except Error as error:  # stopped while we asked
                if "closed" not in str(error):
                    raise
        page.evaluate("fetch('/manifest.webmanifest')")
        page.wait_for_timeout(100)
    raise AssertionError("the service worker did not start")


def test_a_patient_chooses_email_reminders_and_stops_them_in_one_tap(
    world, signed_in, page, sign_in_page, screenshot
):
    sign_in_page(page, "pat@a.test")
    card = reminders_card(page)
    status = card.locator(".reminder-status")
    expect(status).to_have_text("Reminders are off.")
    expect(card).to_contain_text("quiet hours, 21:00 to 08:00 (Europe/London)")

    card.get_by_label("One email a day").check()
    card.get_by_label("Time 1", exact=True).fill("08:00")
    card.get_by_role("button", name="Add a time").click()
    expect(card.get_by_label("Time 2", exact=True)).to_be_focused()
    card.get_by_label("Time 2", exact=True).fill("18:00")
    card.get_by_label("Saturday").uncheck()
    card.get_by_label("Sunday").uncheck()
    card.get_by_role("button", name="Save reminders").click()
    expect(status).to_have_text("Reminders on: 08:00 and 18:00, on weekdays, by email.")
    saved = reminders_of(signed_in, world)
    assert (saved["times"], saved["days_of_week"], saved["channel"]) == (
        ["08:00", "18:00"],
        [0, 1, 2, 3, 4],
        "email",
    )

    card.get_by_role("button", name="Add a time").click()
    card.get_by_label("Time 3", exact=True).fill("22:00")
    expect(card.get_by_role("button", name="Add a time")).to_be_disabled()
    card.get_by_role("button", name="Save reminders").click()
    late = card.get_by_label("Time 3", exact=True)
    expect(late).to_have_attribute("aria-invalid", "true")
    expect(late).to_be_focused()
    expect(card.locator(".time-row").nth(2)).to_contain_text(
        "22:00 is in quiet hours (21:00–08:00)"
    )
    expect(status).to_have_text("Reminders on: 08:00 and 18:00, on weekdays, by email.")
    assert reminders_of(signed_in, world)["times"] == ["08:00", "18:00"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "reminders-settings-phone")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "reminders-settings-phone-dark")
    page.emulate_media(color_scheme="light")

    card.get_by_role("button", name="Remove time 3").click()
    card.get_by_role("button", name="Pause for a week").click()
    today = datetime.now(LONDON).date()  # the patient's
    expect(status).to_contain_text("Reminders paused. They start again on")
    last_quiet_day = (today + timedelta(days=6)).isoformat()  # seven days off
    assert reminders_of(signed_in, world)["paused_until"] == last_quiet_day
    card.get_by_role("button", name="Resume now").click()
    expect(status).to_have_text("Reminders on: 08:00 and 18:00, on weekdays, by email.")
    assert reminders_of(signed_in, world)["paused_until"] is None

    card.get_by_role("button", name="Stop all reminders").click()
    expect(status).to_have_text("Reminders are off.")
    expect(card.get_by_role("button", name="Stop all reminders")).to_have_count(0)
    assert reminders_of(signed_in, world)["channel"] == "off"


def test_notifications_are_asked_for_only_after_a_tap_and_a_failed_subscription_offers_email(  # noqa: E501
    world, signed_in, phone, page, live_server, sign_in_page, screenshot
):
    permission = "() => Notification.permission"
    sign_in_page(page, "pat@a.test")
    expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    wait_for_service_worker(page)
    assert page.evaluate(permission) == "default"
    card = reminders_card(page)
    assert page.evaluate(permission) == "default"

    # allowed, but headless Chromium has no push service: subscribing fails
    phone.grant_permissions(["notifications"], origin=live_server)
    card.get_by_label("Notifications on this phone").check()
    card.get_by_role("button", name="Save reminders").click()
    offer = card.get_by_role("alert").filter(has_text="could not sign up")
    expect(offer).to_contain_text("Your reminders are as they were.")
    screenshot(page, "reminders-push-failed-phone")
    assert reminders_of(signed_in, world)["channel"] == "off"
    assert reminders_of(signed_in, world)["push_devices"] == 0

    offer.get_by_role("button", name="Send me an email instead").click()
    expect(card.locator(".reminder-status")).to_have_text(
        "Reminders on: 18:00, every day, by email."
    )
    expect(offer).to_be_hidden()
    assert reminders_of(signed_in, world)["channel"] == "email"


def test_notifications_on_this_phone_until_it_signs_out(
    world, signed_in, phone, page, live_server, sign_in_page
):
    turn_notifications_on(phone, page, live_server, sign_in_page)
    saved = reminders_of(signed_in, world)
    assert (saved["channel"], saved["push_devices"]) == ("push", 1)

    sent = []
    page.on(
        "request",
        lambda request: sent.append(
            (request.method, request.url.removeprefix(live_server))
        ),
    )
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert [r for r in sent if r[1].startswith("/api/") and r[0] != "GET"] == [
        ("DELETE", "/api/push-subscriptions"),
        ("POST", "/api/auth/logout"),
    ]
    assert page.evaluate("window.unsubscribed") == 1
    assert reminders_of(signed_in, world)["push_devices"] == 0


def test_a_subscription_the_browser_replaced_is_replaced_on_the_server(
    app, world, phone, page, live_server, sign_in_page
):
    turn_notifications_on(phone, page, live_server, sign_in_page)
    assert push_endpoints(app, world.patient_a) == [
        "http://127.0.0.1:9/push/this-phone"
    ]
    # Chromium never fires pushsubscriptionchange: the worker gets the event
    in_service_worker(
        page,
        """() => {
          const keys = {p256dh: "BRenewedPoint", auth: "RenewedAuth"};
          const subscription = (path) => {
            const endpoint = `http://127.0.0.1:9/push/${path}`;
            return {endpoint, options: {}, toJSON: () => ({endpoint, keys})};
          };
          const event = new ExtendableEvent("pushsubscriptionchange");
          Object.defineProperties(event, {
            oldSubscription: {value: subscription("this-phone")},
            newSubscription: {value: subscription("renewed")},
          });
          self.dispatchEvent(event);
        }""",
    )
    for _ in range(100):
        endpoints = push_endpoints(app, world.patient_a)
        if endpoints == ["http://127.0.0.1:9/push/renewed"]:
            break
        page.wait_for_timeout(50)
    assert endpoints == ["http://127.0.0.1:9/push/renewed"]


def test_a_pushed_reminder_is_shown_and_a_click_opens_today(
    world, phone, page, live_server, sign_in_page
):
    sign_in_page(page, "pat@a.test")
    wait_for_service_worker(page)
    page.get_by_role("link", name="Account").click()
    expect(page).to_have_url(re.compile("#/account$"))
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
    phone.grant_permissions(["notifications"], origin=live_server)

    def deliver(data: str):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server,
                "registrationId": registration["registrationId"],
                "data": data,
            },
        )

    deliver("not JSON")  # a payload the worker cannot read: a plain reminder
    [plain] = page.evaluate(NOTIFICATIONS, {"count": 1})
    assert (plain["title"], plain["body"]) == ("Homeward", "Time for your exercises.")
    assert plain["data"] == {"url": f"{live_server}/#/today"}

    # the next reminder replaces it (same tag) rather than piling up
    deliver(json.dumps(REMINDER))
    [shown] = page.evaluate(NOTIFICATIONS, {"count": 1, "body": REMINDER["body"]})
    assert (shown["title"], shown["body"], shown["tag"]) == (
        "Homeward",
        "3 exercises left today",
        "homeward-reminder",
    )
    assert shown["icon"].endswith("/icons/icon-192.png")
    assert shown["data"] == {"url": f"{live_server}/#/today"}

    # no CDP command clicks a notification: the worker gets the event it would
    in_service_worker(
        page,
        """async () => {
          const [notification] = await self.registration.getNotifications();
          const click = new NotificationEvent("notificationclick", {notification});
          self.dispatchEvent(click);
        }""",
    )
    expect(page).to_have_url(re.compile("#/today$"))
    expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    assert page.evaluate(NOTIFICATIONS, {"count": 0}) == []  # closed by the click


def test_the_therapist_sends_a_reminder_once_a_day_and_only_when_one_can_reach(
    world, signed_in, desktop, sign_in_page, mailbox, screenshot
):
    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")
    page.goto(f"/#/patients/{world.patient_a}")
    section = page.get_by_role("region", name="Reminders")
    send = section.get_by_role("button", name="Send a reminder")
    expect(section).to_contain_text("has reminders off")
    expect(send).to_be_disabled()

    set_reminders(signed_in, world, "email")
    page.reload()
    expect(section.locator(".facts")).to_contain_text("Email")
    expect(section.locator(".facts")).to_contain_text("18:00, every day")
    expect(send).to_be_enabled()

    # the patient turns them off while the page is open: the server says so
    set_reminders(signed_in, world, "off")
    send.click()
    expect(section.get_by_role("status")).to_have_text(
        "pat has reminders off: nothing can reach them."
    )
    expect(send).to_be_disabled()

    set_reminders(signed_in, world, "email")
    page.reload()
    send.click()
    answer = section.get_by_role("status")
    expect(answer).to_have_text(
        re.compile(r"^(Sent by email\.|Held until 08:00 \(quiet hours\)\.)$")
    )
    if answer.text_content() == "Sent by email.":
        assert len(mailbox.to("pat@a.test")) == 1
        expect(section.locator(".facts")).to_contain_text(
            "Reminder from the clinic sent by email"
        )
    else:
        assert mailbox.to("pat@a.test") == []
    send.click()
    expect(answer).to_have_text("pat was sent a reminder today already.")
    screenshot(page, "reminders-therapist-desktop")


@pytest.mark.parametrize("signed_in_here", [False, True])
def test_the_stop_link_of_an_email_turns_reminders_off(
    app, world, signed_in, page, sign_in_page, signed_in_here
):
    set_reminders(signed_in, world, "email")
    with app.app_context():
        token = reminders.stop_token(world.patient_a)
    if signed_in_here:
        sign_in_page(page, "pat@a.test")
    page.goto(f"/#/reminders/stop/{token}")
    expect(page.get_by_role("status").filter(has_text="stopped")).to_have_text(
        "Reminders are stopped. You can turn them on again under Account."
    )
    assert reminders_of(signed_in, world)["channel"] == "off"
    onward = "Go to Account" if signed_in_here else "Sign in"
    expect(page.get_by_role("link", name=onward)).to_be_visible()

    page.goto(f"/#/reminders/stop/{token[:-4]}")
    expect(page.get_by_role("alert")).to_contain_text("This link does not work")
    wait_for_service_worker(page)  # its precache done before the page closes
