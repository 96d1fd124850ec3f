"""An admin's big report in the browser: a progress bar, then a Download link."""

import json

import pytest
from playwright.sync_api import expect

from backend.extensions import db
from backend.services import jobs


@pytest.fixture
def big(app, monkeypatch, tmp_path):
    """Every report of clinic A (2 patients) is a big one."""
    monkeypatch.setitem(app.config, "EXPORT_JOB_PATIENTS", 1)
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path / "exports"))


def run_worker(app):
    with app.app_context():
        assert jobs.run_queued() == 1
        db.session.remove()


def test_admin_follows_a_big_report_to_its_file(
    app, big, world, desktop, sign_in_page, tmp_path
):
    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.get_by_role("navigation").get_by_role("link", name="Reports").click()
    bar = page.get_by_role("progressbar", name="Preparing the report")
    expect(bar).to_be_visible()
    expect(page.get_by_text("prepares it as a JSON file")).to_be_visible()
    run_worker(app)
    link = page.get_by_role("link", name="Download the report (JSON)")
    expect(link).to_be_visible(timeout=5000)  # polled every 2 s
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "report.json"
    download.value.save_as(path)
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert {row["patient_name"] for row in rows} == {"pat", "pat2"}

    page.get_by_role("link", name="Download CSV").click()  # big too: a CSV job
    expect(page.get_by_text("prepares it as a CSV file")).to_be_visible()
    run_worker(app)
    link = page.get_by_role("link", name="Download the report (CSV)")
    expect(link).to_be_visible(timeout=5000)
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "report.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith('"Patient ID","Patient","Therapist"')
