"""The printed programme handout (PDF): what it says, its paper, the QR code of
an invitation link for a patient not set up yet, who may print it, and the
audit trail of staff downloads."""

import hashlib
import io
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest
import segno
import zxingcpp
from cryptography.fernet import Fernet
from PIL import Image
from sqlalchemy import func, select, text, update

from backend.extensions import db
from backend.models import AuditEvent, Invitation, User
from backend.services import handout, invitations
from backend.services.dates import now_utc
from tests.conftest import EMAILS, ApiClient, exercise_id, item, prescribe
from tests.test_media import upload

A4 = (595, 842)
LETTER = (612, 792)
NEW_PASSWORD = "my-new-password"


def pdf_of(client, patient_id) -> pypdf.PdfReader:
    response = client.get(f"/api/patients/{patient_id}/programme.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    return pypdf.PdfReader(io.BytesIO(response.data))


def text_of(pdf: pypdf.PdfReader) -> str:
    """All the pages' text, each run of whitespace one space."""
    return " ".join(" ".join(page.extract_text() for page in pdf.pages).split())


def page_size(pdf: pypdf.PdfReader) -> tuple[int, int]:
    box = pdf.pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def qr_links(pdf: pypdf.PdfReader) -> list[str]:
    """The text of every QR code in the pictures of the first page."""
    return [
        barcode.text
        for picture in pdf.pages[0].images
        for barcode in zxingcpp.read_barcodes(picture.image)
    ]


def accept(app, link_or_token: str):
    token = link_or_token.rpartition("#/invite/")[2]
    return ApiClient(app.test_client()).post(
        "/api/auth/accept-invite", json={"token": token, "password": NEW_PASSWORD}
    )


@pytest.fixture
def programme(world, therapist, admin):
    """patient_a ("Pat Mullins", therapist "Tess Okafor") on three exercises."""
    therapist.patch(f"/api/patients/{world.patient_a}", json={"name": "Pat Mullins"})
    admin.patch(f"/api/staff/{world.therapist_a}", json={"name": "Tess Okafor"})
    items = [
        item(exercise_id(therapist), times=2, sets=3, reps=10, hold_seconds=30)
        | {"notes": "Only as far as is comfortable."},
        item(exercise_id(therapist, "cat-camel"), sets=2, reps=8, days=[0, 2, 4]),
        item(exercise_id(therapist, "bird"), reps=6, hold_seconds=120, days=[5]),
    ]
    return prescribe(
        therapist, world.patient_a, items, note="Walk for 20 minutes each day too."
    )


@pytest.fixture
def invited(app, world, therapist):
    """A patient just enrolled (invitation pending) with a programme: their
    enrolment answer, with the emailed link."""
    enrolled = therapist.post(
        "/api/patients",
        json={"name": "Nia Newman", "email": "nia@a.test", "timezone": "Europe/London"},
    ).json
    prescribe(therapist, enrolled["id"], [item(exercise_id(therapist))])
    return enrolled


def test_the_handout_names_every_exercise_its_dose_and_who_it_is_for(
    world, therapist, programme
):
    text = text_of(pdf_of(therapist, world.patient_a))
    for words in (
        "Knee-to-chest stretch",
        "3 sets of 10 · hold 30 seconds · twice a day · every day",
        "Only as far as is comfortable.",
        "Cat-camel",
        "2 sets of 8 · once a day · Monday, Wednesday and Friday",
        "Bird dog",
        "1 set of 6 · hold 2 minutes · once a day · Saturday",
        "Walk for 20 minutes each day too.",
        "Clinic A",
        "Pat Mullins",
        "Tess Okafor",
        "Version 1",
    ):
        assert words in text, words
    starts_on = date.fromisoformat(programme["starts_on"])
    assert f"{starts_on.day} {starts_on:%B %Y}" in text
    for instructions in [i["exercise"]["instructions"] for i in programme["items"]]:
        assert " ".join(instructions.split()[:8]) in text


def test_the_handout_is_a4_until_the_admin_chooses_letter(
    world, therapist, admin, programme
):
    assert admin.get("/api/clinic").json["paper_size"] == "A4"
    assert page_size(pdf_of(therapist, world.patient_a)) == A4
    changed = admin.patch("/api/clinic", json={"paper_size": "Letter"})
    assert changed.status_code == 200 and changed.json["paper_size"] == "Letter"
    assert page_size(pdf_of(therapist, world.patient_a)) == LETTER


def test_only_a4_or_letter_and_only_by_an_admin(world, therapist, admin):
    wrong = admin.patch("/api/clinic", json={"paper_size": "A5"})
    assert wrong.status_code == 422 and "paper_size" in wrong.json["errors"]["json"]
    assert (
        therapist.patch("/api/clinic", json={"paper_size": "Letter"}).status_code == 403
    )
    assert admin.get("/api/clinic").json["paper_size"] == "A4"


@pytest.mark.parametrize("who", ["patient_a", "therapist_a", "admin_a"])
def test_the_patient_their_therapist_and_the_admin_get_the_pdf(
    signed_in, world, programme, who
):
    pdf = pdf_of(signed_in(who), world.patient_a)
    assert "Knee-to-chest stretch" in text_of(pdf)


@pytest.mark.parametrize(
    "who", ["patient_a2", "therapist_a2", "admin_b", "therapist_b"]
)
def test_anyone_else_finds_no_such_patient(signed_in, world, programme, who):
    response = signed_in(who).get(f"/api/patients/{world.patient_a}/programme.pdf")
    assert response.status_code == 404
    assert response.json["message"] == "No such patient."


def test_without_a_programme_it_is_a_404_that_says_so(world, patient, anonymous):
    response = patient.get(f"/api/patients/{world.patient_a}/programme.pdf")
    assert response.status_code == 404
    assert response.json["message"] == "No programme yet."
    assert (
        anonymous.get(f"/api/patients/{world.patient_a}/programme.pdf").status_code
        == 401
    )


def test_the_clinics_own_picture_is_printed_instead_of_the_drawing(
    world, therapist, programme
):
    assert [
        picture.image.size
        for picture in pdf_of(therapist, world.patient_a).pages[0].images
    ] == []  # drawings are vector
    photo = Image.new("RGB", (900, 600), (30, 120, 90))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG")
    knee = exercise_id(therapist)
    stored = upload(therapist, knee, buffer.getvalue()).json
    assert [
        picture.image.size
        for picture in pdf_of(therapist, world.patient_a).pages[0].images
    ] == [(stored["width"], stored["height"])]


def test_a_patient_already_signed_in_gets_no_qr_code(
    world, therapist, patient, programme
):
    for client in (therapist, patient):
        pdf = pdf_of(client, world.patient_a)
        assert qr_links(pdf) == []
        assert "Scan to set up" not in text_of(pdf)


def test_a_pending_patients_handout_carries_a_working_invitation_link(
    app, therapist, invited
):
    pdf = pdf_of(therapist, invited["id"])
    [link] = qr_links(pdf)
    assert link == invited["invite_url"]  # the patient's live (emailed) link
    text = text_of(pdf)
    assert "Scan to set up Homeward on your phone" in text
    assert link in text.replace(" ", "")  # written out too (it may wrap)
    signed_in = accept(app, link)
    assert signed_in.status_code == 200
    assert signed_in.json["user"]["id"] == invited["id"]
    # set up: the emailed link is spent, and a new handout has no QR code
    assert accept(app, invited["invite_url"]).status_code == 400
    assert qr_links(pdf_of(therapist, invited["id"])) == []


def live_invitations(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(Invitation.id)).where(
                Invitation.user_id == user_id,
                Invitation.used_at.is_(None),
                Invitation.expires_at > now_utc(),
            )
        )


def test_a_reprinted_handout_carries_the_same_link_and_the_email_keeps_working(
    app, therapist, invited, mailbox
):
    """Printing adds no live links: every paper carries the patient's live
    invitation, so the emailed link still works after any number of prints."""
    [message] = mailbox
    emailed = mailbox.link(message, "#/invite/")
    assert emailed == invited["invite_url"]
    assert live_invitations(app, invited["id"]) == 1
    [first] = qr_links(pdf_of(therapist, invited["id"]))
    [second] = qr_links(pdf_of(therapist, invited["id"]))
    assert first == second == emailed
    assert live_invitations(app, invited["id"]) == 1
    assert accept(app, emailed).status_code == 200


def unseal(app, user_id: int) -> None:
    """Make the user's invitations look made before links were sealed."""
    with app.app_context():
        db.session.execute(
            update(Invitation)
            .where(Invitation.user_id == user_id)
            .values(token_sealed=None)
        )
        db.session.commit()


def test_without_a_reusable_link_a_print_adds_one_that_leaves_the_others_working(
    app, therapist, invited
):
    unseal(app, invited["id"])
    [first] = qr_links(pdf_of(therapist, invited["id"]))
    assert first != invited["invite_url"]
    [second] = qr_links(pdf_of(therapist, invited["id"]))
    assert second == first
    assert live_invitations(app, invited["id"]) == 2
    assert accept(app, invited["invite_url"]).status_code == 200
    assert accept(app, first).status_code == 400  # redeeming one ends the others


def stored_seals(app, user_id: int) -> list[str | None]:
    """The invitations.token_sealed column as the database holds it."""
    with app.app_context():
        return list(
            db.session.execute(
                text(
                    "SELECT token_sealed FROM invitations"
                    " WHERE user_id = :id ORDER BY id"
                ),
                {"id": user_id},
            ).scalars()
        )


def test_a_patients_invitation_is_sealed_encrypted_and_unsealed_once_used(app, invited):
    token = invited["invite_token"]
    [sealed] = stored_seals(app, invited["id"])
    assert token not in sealed
    key = Fernet(app.config["FIELD_ENCRYPTION_KEYS"][0])
    assert key.decrypt(sealed.encode()).decode() == token
    assert accept(app, token).status_code == 200
    assert stored_seals(app, invited["id"]) == [None]


def test_a_reset_token_is_only_hashed(app, world, ctx):
    token, _ = invitations.issue(
        world.patient_a, None, now_utc(), timedelta(hours=1), invitations.RESET
    )
    db.session.commit()
    [stored] = db.session.scalars(
        select(Invitation).filter_by(user_id=world.patient_a, purpose="reset")
    ).all()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored_seals(app, world.patient_a) == [None]
    with pytest.raises(ValueError):
        invitations.issue(
            world.patient_a,
            None,
            now_utc(),
            timedelta(hours=1),
            invitations.RESET,
            seal=True,
        )


def test_rotating_the_keys_keeps_the_printed_link(app, therapist, invited, make_app):
    before = stored_seals(app, invited["id"])
    newest = Fernet.generate_key().decode()
    rotated = make_app(
        FIELD_ENCRYPTION_KEYS=[newest, *app.config["FIELD_ENCRYPTION_KEYS"]]
    )
    result = rotated.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "1 invitation link" in result.output
    [after] = stored_seals(app, invited["id"])
    assert [after] != before
    assert Fernet(newest).decrypt(after.encode()).decode() == invited["invite_token"]
    # the older key dropped: the handout still prints the emailed link
    newest_only = make_app(FIELD_ENCRYPTION_KEYS=[newest])
    staff = ApiClient(newest_only.test_client()).login(EMAILS["therapist_a"])
    assert qr_links(pdf_of(staff, invited["id"])) == [invited["invite_url"]]


def test_a_patient_printing_their_own_handout_issues_no_link(app, world, invited):
    with app.app_context():
        issued = db.session.query(Invitation).filter_by(user_id=invited["id"]).count()
    accept(app, invited["invite_url"])
    patient = ApiClient(app.test_client()).login("nia@a.test", NEW_PASSWORD)
    assert qr_links(pdf_of(patient, invited["id"])) == []
    with app.app_context():
        after = db.session.query(Invitation).filter_by(user_id=invited["id"]).count()
    assert after == issued


def test_redeeming_one_link_ends_the_users_other_links_of_its_kind(app, world, ctx):
    """Two links issued at the same moment (two staff at once) both stay live
    until one is used; then the other is ended, but not a link of another kind."""
    now = now_utc()
    user = db.session.get(User, world.patient_a)
    links = {"emailed": "invite", "printed": "invite", "reset": "reset"}
    for token, purpose in links.items():
        db.session.add(
            Invitation(
                user_id=user.id,
                purpose=purpose,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
    db.session.commit()
    assert invitations.redeem("printed", now).id == user.id
    db.session.commit()
    assert invitations.redeem("emailed", now) is None
    assert invitations.redeem("reset", now, invitations.RESET).id == user.id


def test_a_staff_download_is_recorded_once_a_day_as_a_read(
    app, world, therapist, patient, admin, programme
):
    for client in (therapist, therapist, patient):
        pdf_of(client, world.patient_a)
    with app.app_context():
        reads = db.session.scalars(
            select(AuditEvent)
            .filter_by(action="patient.read", target_id=str(world.patient_a))
            .order_by(AuditEvent.id)
        ).all()
        assert [(r.actor_id, r.detail) for r in reads] == [
            (world.therapist_a, {"read": "programmes.programme_handout"})
        ]
    shown = admin.get("/api/audit", query_string={"action": "patient.read"}).json
    assert shown[0]["sentence"] == "Tess Okafor viewed Pat Mullins's handout"


def test_a_printed_invitation_link_is_in_the_audit_trail(
    world, therapist, admin, invited
):
    pdf_of(therapist, invited["id"])
    [event] = admin.get(
        "/api/audit", query_string={"action": "programmes.handout_invite"}
    ).json
    assert event["actor_id"] == world.therapist_a
    assert event["sentence"] == (
        "ther printed an invitation link for Nia Newman on a handout"
    )


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802 (http.server)
        type(self).hits += 1
        self.send_error(404)

    def log_message(self, *args):
        pass


def test_rendering_fetches_nothing_from_the_network_or_the_disk(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    on_disk = tmp_path / "picture.png"
    segno.make("on disk").save(on_disk, scale=4)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        pdf = handout.to_pdf(
            f'<link rel="stylesheet" href="{url}/style.css">'
            f'<img src="{url}/picture.png"><img src="{on_disk.as_uri()}">'
            f"<p style=\"background: url('{url}/background.png')\">Hello</p>"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert _Counting.hits == 0
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images) == 0
