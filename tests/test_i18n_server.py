"""What the server writes, in each reader's language: the catalogs are
complete, the language is chosen in order (the account, the browser, the
clinic), and errors, emails, reminders, the handout, exercises and the CSV
report speak it."""

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import flask_migrate
import time_machine
from babel.messages.pofile import read_po
from sqlalchemy import func, select, text

import config as settings
from backend import create_app
from backend.extensions import db
from backend.models import Exercise, User
from backend.services.export import COLUMNS
from backend.services.library import load_library_file
from tests.conftest import PASSWORD, ApiClient, exercise_id, item, prescribe
from tests.test_handout import pdf_of, text_of
from tests.test_reminders import at, send_due, set_up

ROOT = Path(__file__).resolve().parent.parent
PYBABEL = str(Path(sys.executable).parent / "pybabel")
SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}


def choose(client, language):
    response = client.patch("/api/auth/me", json={"language": language})
    assert response.status_code == 200, response.json
    return response.json


def shipped(slug: str) -> dict:
    """The shipped exercise's entry in backend/seed/exercises.json."""
    [entry] = [e for e in load_library_file() if e["slug"] == slug]
    return entry


# ---- the catalogs ---------------------------------------------------------------


def test_every_server_string_has_its_spanish(tmp_path):
    """`pybabel extract` then `update` of a copy of the Spanish catalog: a
    string added in English without its Spanish (or left fuzzy) fails."""
    template = tmp_path / "messages.pot"
    catalog = tmp_path / "messages.po"
    shutil.copy(ROOT / "translations/es/LC_MESSAGES/messages.po", catalog)
    extract = [PYBABEL, "extract", "-F", "babel.cfg", "-k", "_l", "-k"]
    extract += ["lazy_gettext", "-k", "lazy_ngettext:1,2", "-o", str(template), "."]
    subprocess.run(extract, cwd=ROOT, check=True, capture_output=True)
    update = [PYBABEL, "update", "-i", str(template), "-o", str(catalog), "-l"]
    subprocess.run(update + ["es"], cwd=ROOT, check=True, capture_output=True)
    with open(catalog, "rb") as file:
        spanish = read_po(file, locale="es")
    assert len(spanish) > 200
    untranslated = [
        message.id
        for message in spanish
        if message.id
        and (
            message.fuzzy
            or not message.string
            or (isinstance(message.string, tuple) and not all(message.string))
        )
    ]
    assert untranslated == []


def test_the_migration_gives_the_shipped_exercises_their_translations(app, tmp_path):
    """0011 → 0012: the library's translations come from exercises.json, and
    every clinic reads English until its admin says otherwise (on a database
    file of its own, whatever the suite's engine)."""
    config = settings.TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'upgrade.db'}"
    fresh = create_app(config)
    with fresh.app_context():
        flask_migrate.upgrade(revision="0011")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO exercises (slug, name, category, body_region, "
                    "instructions, default_sets, default_reps, "
                    "default_hold_seconds, created_at) VALUES ('cat-camel', "
                    "'Cat-camel', 'mobility', 'back', 'Slowly.', 1, 1, 0, :t)"
                ),
                {"t": "2026-11-01 09:00:00+00:00"},
            )
            connection.execute(
                text("INSERT INTO clinics (name, created_at) VALUES ('C', :t)"),
                {"t": "2026-11-01 09:00:00+00:00"},
            )
        flask_migrate.upgrade()
        stored = db.session.scalar(select(Exercise.translations))
        assert stored == shipped("cat-camel")["translations"]
        with db.engine.connect() as connection:
            default = connection.execute(
                text("SELECT default_language FROM clinics")
            ).scalar_one()
        assert default == "en"
        db.session.remove()
        db.engine.dispose()


# ---- which language -----------------------------------------------------------


def test_the_account_beats_the_browser_which_beats_the_clinic(
    world, patient, admin, anonymous
):
    me = patient.get("/api/auth/me").json
    assert me["language"] == "en" and me["user"]["language"] is None
    assert patient.get("/api/auth/me", headers=SPANISH).json["language"] == "es"

    clinic = admin.patch("/api/clinic", json={"default_language": "es"})
    assert clinic.status_code == 200 and clinic.json["default_language"] == "es"
    assert patient.get("/api/auth/me").json["language"] == "es"
    english = {"Accept-Language": "en-GB,en;q=0.8"}
    assert patient.get("/api/auth/me", headers=english).json["language"] == "en"

    chosen = choose(patient, "en")
    assert chosen["language"] == "en" and chosen["user"]["language"] == "en"
    assert patient.get("/api/auth/me", headers=SPANISH).json["language"] == "en"
    assert choose(patient, None)["language"] == "es"  # the device's again
    refused = anonymous.get("/api/patients", headers=SPANISH)
    assert refused.json["message"] == "Primero inicia sesión."


def test_a_completed_sign_in_says_which_language_it_speaks(app, world, patient):
    choose(patient, "es")
    english = {"Accept-Language": "en-GB,en;q=0.8"}
    elsewhere = ApiClient(app.test_client()).post(
        "/api/auth/login",
        json={"email": "pat@a.test", "password": PASSWORD},
        headers=english,
    )
    assert elsewhere.status_code == 200
    # the account's choice, whatever this device prefers: the app needs no "me"
    assert elsewhere.json["language"] == "es"
    assert elsewhere.json["user"]["language"] == "es"
    staff = ApiClient(app.test_client()).post(
        "/api/auth/login",
        json={"email": "ther@a.test", "password": PASSWORD},
        headers=SPANISH,
    )
    assert staff.status_code == 200 and staff.json["language"] == "es"


def test_patch_me_answers_like_get_me_and_refuses_unknown_languages(
    world, patient, anonymous
):
    chosen = choose(patient, "es")
    assert set(chosen) == {"user", "csrf_token", "language"}
    assert chosen["user"] == patient.get("/api/auth/me").json["user"]
    assert chosen["user"]["language"] == "es" and chosen["language"] == "es"

    refused = patient.patch("/api/auth/me", json={"language": "fr"})
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["language"] == [
        "Debe ser uno de estos: en, es."
    ]
    assert patient.patch("/api/auth/me", json={}).status_code == 422
    assert anonymous.patch("/api/auth/me", json={"language": "es"}).status_code == 401
    no_token = patient.patch("/api/auth/me", json={"language": "en"}, csrf=False)
    assert no_token.status_code in (400, 403)
    assert patient.get("/api/auth/me").json["user"]["language"] == "es"


def test_the_clinic_default_language_is_the_admins_to_set(world, admin, therapist):
    assert admin.get("/api/clinic").json["default_language"] == "en"
    refused = admin.patch("/api/clinic", json={"default_language": "fr"})
    assert refused.status_code == 422
    assert therapist.patch("/api/clinic", json={"default_language": "es"}).status_code
    assert admin.get("/api/clinic").json["default_language"] == "en"


# ---- errors ---------------------------------------------------------------------


def test_a_spanish_patient_reads_errors_in_spanish_an_english_one_in_english(
    world, signed_in
):
    spanish, english = signed_in("patient_a"), signed_in("patient_a2")
    choose(spanish, "es")
    missing = spanish.get(f"/api/patients/{world.patient_b}")
    assert missing.status_code == 404
    assert missing.json["message"] == "No existe ese paciente."
    assert english.get(f"/api/patients/{world.patient_b}").json["message"] == (
        "No such patient."
    )
    bad_time = {"times": ["25:00"], "days_of_week": [0], "channel": "email"}
    path = "/api/patients/{}/reminders"
    refused = spanish.put(path.format(world.patient_a), json=bad_time)
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["times"]["0"] == [
        "Usa HH:MM, por ejemplo 08:30."
    ]
    refused = english.put(path.format(world.patient_a2), json=bad_time)
    assert refused.json["errors"]["json"]["times"]["0"] == ["Use HH:MM, e.g. 08:30."]


# ---- mail and reminders -------------------------------------------------------


def test_a_spanish_patients_password_reset_mail_is_in_spanish(
    world, signed_in, anonymous, mailbox
):
    choose(signed_in("patient_a"), "es")
    for email in ("pat@a.test", "pat2@a.test"):
        asked = anonymous.post("/api/auth/password-reset", json={"email": email})
        assert asked.status_code == 202
    [spanish] = mailbox.to("pat@a.test")
    assert spanish["Subject"] == "Restablece tu contraseña de Homeward (Clinic A)"
    text = mailbox.text(spanish)
    assert text.startswith("Hola, pat:")
    assert "Si fuiste tú, abre este enlace antes de que pase una hora" in text
    assert "Elige una contraseña nueva" in spanish.get_body(("html",)).get_content()
    [english] = mailbox.to("pat2@a.test")
    assert english["Subject"] == "Reset your Homeward password (Clinic A)"
    assert mailbox.text(english).startswith("Hello pat2,")


def test_a_patient_of_a_spanish_clinic_is_invited_in_spanish(
    world, admin, therapist, mailbox
):
    admin.patch("/api/clinic", json={"default_language": "es"})
    enrolled = therapist.post(
        "/api/patients",
        json={"name": "Rosa Díaz", "email": "rosa@a.test", "timezone": "UTC"},
    )
    assert enrolled.status_code == 201, enrolled.json
    [invitation] = mailbox.to("rosa@a.test")
    assert invitation["Subject"] == "Tus ejercicios en casa de Clinic A"
    text = mailbox.text(invitation)
    assert "Clinic A preparó tu programa de ejercicios en casa en Homeward" in text
    assert "El enlace funciona una sola vez y hasta el" in text
    assert " de 20" in text  # "14 de diciembre de 2026"


def test_a_spanish_patients_reminders_are_in_spanish(app, world, signed_in, push):
    with time_machine.travel(at("2026-11-30", "17:50"), tick=False) as clock:
        patient, _ = set_up(signed_in, world, push)
        choose(patient, "es")
        clock.move_to(at("2026-11-30", "18:01"))
        assert send_due(app) == {"sent": 1}
    assert push.texts() == ["Te quedan 3 ejercicios hoy"]


def test_a_spanish_patients_reminder_email_is_in_spanish(
    app, world, signed_in, mailbox
):
    with time_machine.travel(at("2026-11-30", "17:50"), tick=False) as clock:
        patient, _ = set_up(signed_in, world, channel="email", items=1)
        choose(patient, "es")
        clock.move_to(at("2026-11-30", "18:01"))
        assert send_due(app) == {"sent": 1}
        [message] = mailbox  # the outbox sends it while it is worth reading
    assert message["Subject"] == "Te queda 1 ejercicio hoy"
    text = mailbox.text(message)
    assert "Recibes este correo porque activaste los recordatorios diarios." in text
    assert "Detener estos recordatorios" in text


# ---- the handout and exercises ------------------------------------------------


def test_the_handout_of_a_spanish_patient_is_in_spanish(world, signed_in, therapist):
    choose(signed_in("patient_a"), "es")
    knee, cat = exercise_id(therapist), exercise_id(therapist, "cat-camel")
    prescribe(
        therapist,
        world.patient_a,
        [
            item(knee, times=2, sets=3, reps=10, hold_seconds=30),
            item(cat, sets=2, reps=8, days=[0, 2, 4]),
        ],
    )
    text = text_of(pdf_of(therapist, world.patient_a))  # printed by staff
    for words in (
        "Tu programa de ejercicios en casa",
        shipped("knee-to-chest")["translations"]["es"]["name"],
        "3 series de 10 · mantén 30 segundos · dos veces al día · todos los días",
        shipped("cat-camel")["translations"]["es"]["name"],
        "2 series de 8 · una vez al día · lunes, miércoles y viernes",
        "Tu terapeuta",
        "Página 1 de",
    ):
        assert words in text, words
    assert "Knee-to-chest stretch" not in text and "sets of" not in text


def test_exercises_read_in_the_readers_language(world, signed_in, therapist):
    patient = signed_in("patient_a")
    choose(patient, "es")
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee)])
    spanish = shipped("knee-to-chest")["translations"]["es"]
    [routine_item] = patient.get(f"/api/patients/{world.patient_a}/routine").json[
        "items"
    ]
    exercise = routine_item["exercise"]
    assert exercise["name"] == spanish["name"]
    assert exercise["instructions"] == spanish["instructions"]
    assert exercise["illustration"]["alt"] == spanish["alt"]
    week = patient.get(f"/api/patients/{world.patient_a}/week").json
    assert week["exercises"] == [{"id": knee, "name": spanish["name"]}]
    programme = patient.get(f"/api/patients/{world.patient_a}/programme").json
    assert programme["items"][0]["exercise"]["name"] == spanish["name"]

    english = therapist.get(f"/api/exercises/{knee}").json
    assert english["name"] == "Knee-to-chest stretch"
    assert english["translations"]["es"]["name"] == spanish["name"]


def test_staff_write_translations_and_bad_ones_are_refused(app, world, therapist):
    created = therapist.post(
        "/api/exercises",
        json={
            "name": "Wall angel",
            "category": "mobility",
            "body_region": "upper back",
            "instructions": "Slowly.",
            "translations": {"es": {"name": "Ángel en la pared"}},
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["translations"] == {"es": {"name": "Ángel en la pared"}}
    path = f"/api/exercises/{created.json['id']}"
    words = {"es": {"name": "Ángel de pared", "instructions": "Despacio.\nSin dolor."}}
    updated = therapist.patch(path, json={"translations": words})
    assert updated.status_code == 200, updated.json
    assert updated.json["translations"] == words
    assert updated.json["name"] == "Wall angel"
    in_spanish = therapist.get(path, headers=SPANISH).json
    assert in_spanish["name"] == "Ángel de pared"
    assert in_spanish["instructions"] == "Despacio.\nSin dolor."
    assert in_spanish["english"] == {"name": "Wall angel", "instructions": "Slowly."}
    assert "english" not in therapist.get(path).json

    for bad in (
        {"fr": {"name": "Ange"}},
        {"en": {"name": "Wall angel"}},
        {"es": {"title": "Ángel"}},
        {"es": {"name": ""}},
        {"es": {"name": "Á" * 201}},
        {"es": {"name": "Ángel\tde pared"}},
        {"es": {"instructions": "Despacio\x07"}},
        {"es": "Ángel"},
    ):
        refused = therapist.patch(path, json={"translations": bad})
        assert refused.status_code == 422, bad
        refused = therapist.post(
            "/api/exercises",
            json={
                "name": "Bad",
                "category": "core",
                "body_region": "core",
                "instructions": "x",
                "translations": bad,
            },
        )
        assert refused.status_code == 422, bad
    assert therapist.get(path).json["translations"] == words
    with app.app_context():  # (a context of its own: requests keep theirs)
        named_bad = select(func.count()).where(Exercise.name == "Bad")
        assert db.session.scalar(named_bad) == 0
        db.session.remove()


def test_the_shipped_library_cannot_be_changed(world, therapist):
    knee = exercise_id(therapist)
    refused = therapist.patch(
        f"/api/exercises/{knee}", json={"translations": {"es": {"name": "Rodilla"}}}
    )
    assert refused.status_code == 403


# ---- the report ---------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_readable_csv_is_in_spanish_and_the_contract_csv_unchanged(
    app, world, admin
):
    choose(admin, "es")
    header = read_csv(admin.get("/api/reports/adherence.csv"))[0]
    assert header[:3] == ["ID del paciente", "Paciente", "Terapeuta"]
    assert "% de adherencia" in header
    contract = admin.get(
        "/api/reports/adherence.csv", query_string={"format": "contract"}
    )
    assert read_csv(contract)[0] == COLUMNS  # as API.md (tests/test_reports.py)
    with app.app_context():
        assert db.session.get(User, world.admin_a).language == "es"
        db.session.remove()


def test_the_audit_screen_speaks_the_admins_language(app, world, admin):
    choose(admin, "es")
    ApiClient(app.test_client()).login("ther@a.test")
    events = admin.get("/api/audit").json
    sentences = [event["sentence"] for event in events]
    assert "ther@a.test inició sesión" in sentences or any(
        s.endswith(" inició sesión") for s in sentences
    )
    assert any(s.endswith("eligió el idioma en el que lee Homeward") for s in sentences)
