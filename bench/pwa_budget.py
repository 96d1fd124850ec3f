"""The patient app's first-load weight: bytes on the wire (compressed, with headers)
from a cold cache to the signed-in Today screen, in Chromium, against the budget.

It also counts what the service worker then downloads in the background to make the
app work offline (the precache entries the page itself did not load).

    make run   # in another terminal (the demo clinic is seeded once)
    .venv/bin/python bench/pwa_budget.py [BASE_URL] [--budget-kb 150]
"""

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serving import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:5000")
    parser.add_argument("--email", default="patient@demo.test")
    parser.add_argument("--password", default="demo-password-1")
    parser.add_argument("--budget-kb", type=float, default=150)
    return parser.parse_args()


def wire_size(url: str) -> int:
    """Compressed bytes of one response body, as a browser would receive it."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request) as response:
        return len(response.read())


def load_today(base_url, email, password):
    """(bytes per URL the page loaded, the service worker's precache list)."""
    sizes, urls = {}, {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, service_workers="allow"
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        cdp.on(
            "Network.responseReceived",
            lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(
                urls.get(e["requestId"], e["requestId"]), e["encodedDataLength"]
            ),
        )
        page.goto(base_url + "/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Today")
        done_buttons = page.get_by_role("button", name=re.compile("^Done: "))
        expect(done_buttons.first).to_be_visible()
        page.wait_for_load_state("networkidle")
        precache = page.evaluate(
            "async () => (await navigator.serviceWorker.ready) && "
            "(await fetch('/sw.js').then((r) => r.text()))"
        )
        browser.close()
    match = re.search(r"const PRECACHE = (\[.*?\]);", precache, re.S)
    return sizes, json.loads(match.group(1)) if match else []


def main():
    args = parse_args()
    base = args.base_url.rstrip("/")
    sizes, precache = load_today(base, args.email, args.password)
    sizes.pop(base + "/sw.js", None)  # our own fetch of the precache list below
    page_total = sum(sizes.values())
    print(f"First load of the patient app (cold cache, signed in, Today) at {base}")
    for url, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        if size:
            print(f"  {size / 1024:7.1f} KB  {url.removeprefix(base)}")
    print(f"  {page_total / 1024:7.1f} KB  total on the wire for the page")
    # served by the service worker (0 bytes for the page) still came over the wire once
    loaded = {url.removeprefix(base) for url, size in sizes.items() if size > 0}
    background = sum(wire_size(base + url) for url in precache if url not in loaded)
    print(
        f"  {background / 1024:7.1f} KB  more fetched by the service worker "
        "(the rest of the offline precache)"
    )
    ok = page_total <= args.budget_kb * 1024
    print(
        f"Budget {args.budget_kb:.0f} KB: {'OK' if ok else 'OVER'} "
        f"({page_total / 1024:.1f} KB page, "
        f"{(page_total + background) / 1024:.1f} KB with the precache)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
