"""The printed handout in the PWA: the therapist's and the patient's links to
the PDF, the admin's paper size, and the patient page printed from the
browser (the chart stays, the controls go)."""

from playwright.sync_api import expect

from tests.conftest import exercise_id, item, prescribe


def test_the_therapist_prints_the_handout_and_the_page_prints_with_its_chart(
    world, signed_in, desktop, sign_in_page, screenshot
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist))])
    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")
    page.goto(f"/#/patients/{world.patient_a}")
    link = page.get_by_role("link", name="Print handout")
    expect(link).to_be_visible()
    href = f"/api/patients/{world.patient_a}/programme.pdf"
    assert link.get_attribute("href") == href
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("download") is None
    pdf = page.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"

    chart = page.locator(".chart canvas").first
    expect(chart).to_be_visible()
    page.emulate_media(media="print")
    expect(chart).to_be_visible()
    width = page.evaluate("document.documentElement.clientWidth")
    assert chart.bounding_box()["width"] <= width
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(link).to_be_hidden()
    expect(page.get_by_role("button", name="30 days")).to_be_hidden()
    screenshot(page, "patient-page-printed")


def test_no_handout_link_before_a_programme(world, desktop, sign_in_page):
    page = desktop.new_page()
    sign_in_page(page, "ther@a.test")
    page.goto(f"/#/patients/{world.patient_a}")
    expect(page.get_by_text("No programme yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Print handout")).to_have_count(0)


def test_a_patient_prints_their_handout_from_account(
    world, signed_in, phone, sign_in_page
):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist))])
    page = phone.new_page()
    sign_in_page(page, "pat@a.test")
    page.get_by_role("link", name="Account").click()
    link = page.get_by_role("link", name="Print handout")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href == f"/api/patients/{world.patient_a}/programme.pdf"
    assert page.request.get(href).headers["content-type"] == "application/pdf"


def test_the_admin_lays_handouts_out_for_letter_paper(
    world, signed_in, desktop, sign_in_page
):
    page = desktop.new_page()
    sign_in_page(page, "admin@a.test")
    page.goto("/#/admin/staff")
    paper = page.get_by_label("Paper size")
    expect(paper).to_be_enabled()
    expect(paper).to_have_value("A4")
    paper.select_option(label="US Letter")
    expect(page.get_by_text("laid out for US Letter paper")).to_be_visible()
    assert signed_in("admin_a").get("/api/clinic").json["paper_size"] == "Letter"
