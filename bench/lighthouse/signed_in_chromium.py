"""Starts Chromium with a debugging port and a throw-away profile, signs the demo
patient in there, and leaves it running for Lighthouse (`--port`) to audit Today
with that session. Prints the Chromium pid; bench/lighthouse.sh stops it.

    python bench/lighthouse/signed_in_chromium.py BASE_URL PORT PROFILE_DIR
"""

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.serving import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402


def main(base_url, port, profile):
    chromium = subprocess.Popen(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/json/version", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(endpoint)
        page = browser.contexts[0].new_page()
        page.goto(base_url + "/")
        page.get_by_label("Email").fill("patient@demo.test")
        page.get_by_label("Password").fill("demo-password-1")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Today")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.close()
    print(chromium.pid)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
