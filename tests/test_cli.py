"""The flask commands: create-admin, seed-demo, seed-library."""

from sqlalchemy import func, select, text

import config as settings
from backend import create_app
from backend.extensions import db
from backend.models import (
    Clinic,
    Exercise,
    ExerciseLog,
    PainLog,
    ProgrammeVersion,
    User,
)
from backend.push import public_key as vapid_public_key
from backend.services.demo import DEMO_TOTP_SECRET
from tests.conftest import ApiClient


def test_create_admin_makes_a_clinic_whose_admin_can_sign_in(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--clinic",
            "Back in Motion",
            "--email",
            "Boss@Clinic.test",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    client = ApiClient(app.test_client()).login("boss@clinic.test", "a-long-password")
    assert client.user["role"] == "admin"
    assert len(client.get("/api/exercises").json) >= 12  # the library came along


def test_create_admin_refuses_a_short_password_and_the_same_clinic_twice(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=[
            "create-admin",
            "--clinic",
            "C",
            "--email",
            "a@c.test",
            "--password",
            "short",
        ]
    )
    assert short.exit_code != 0 and "10 characters" in short.output
    runner.invoke(
        args=[
            "create-admin",
            "--clinic",
            "C",
            "--email",
            "a@c.test",
            "--password",
            "a-long-password",
        ]
    )
    taken = runner.invoke(
        args=[
            "create-admin",
            "--clinic",
            "C",
            "--email",
            "a@c.test",
            "--password",
            "a-long-password",
        ]
    )
    assert taken.exit_code != 0 and "already" in taken.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1


def test_create_admin_may_give_one_email_a_second_clinic(app):
    runner = app.test_cli_runner()
    for clinic, password in (("C", "a-long-password"), ("D", "another-long-one")):
        result = runner.invoke(
            args=[
                "create-admin",
                "--clinic",
                clinic,
                "--email",
                "a@c.test",
                "--password",
                password,
            ]
        )
        assert result.exit_code == 0, result.output
    client = ApiClient(app.test_client()).login("a@c.test", "another-long-one")
    with app.app_context():
        clinic_d = db.session.scalar(select(Clinic.id).where(Clinic.name == "D"))
    assert client.user["clinic_id"] == clinic_d


def test_seed_demo_gives_the_documented_sign_ins_and_history(app):
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--patients", "3", "--days", "20"]
    )
    assert result.exit_code == 0, result.output
    assert DEMO_TOTP_SECRET in result.output
    patient = ApiClient(app.test_client()).login("patient@demo.test", "demo-password-1")
    routine = patient.get(f"/api/patients/{patient.user['id']}/routine").json
    # the demo patient has yet to read what changed with their programme
    assert routine["programme_version"] == 2 and routine["programme_change"]
    other = ApiClient(app.test_client()).login(
        "patient0001@demo.test", "demo-password-1"
    )
    routine = other.get(f"/api/patients/{other.user['id']}/routine").json
    # the others have been ticking the new one for days: they have
    assert routine["programme_version"] == 2 and routine["programme_change"] is None
    for email in ("admin@demo.test", "therapist@demo.test"):  # with a code, too
        ApiClient(app.test_client()).login(email, "demo-password-1", DEMO_TOTP_SECRET)
    with app.app_context():
        patients = db.session.scalar(
            select(func.count(User.id)).where(User.role == "patient")
        )
        days = db.session.scalar(select(func.count(func.distinct(PainLog.logged_on))))
        versions = db.session.scalar(select(func.count(ProgrammeVersion.id)))
        ticks = db.session.scalar(select(func.count(ExerciseLog.id)))
    assert patients == 3 and versions == 6
    # the history starts 19 days before the server's today and ends on each
    # patient's own today: a day later for one already in tomorrow (east)
    assert 10 <= days <= 21 and ticks > 3 * 20


def test_seed_demo_twice_refuses_unless_told_to_skip(app):
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["seed-demo", "--patients", "1", "--days", "2"]).exit_code
        == 0
    )
    assert runner.invoke(args=["seed-demo"]).exit_code != 0
    skipped = runner.invoke(args=["seed-demo", "--if-missing"])
    assert skipped.exit_code == 0 and "already" in skipped.output
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(User.id)).where(User.role == "patient"))
            == 1
        )


def test_seed_demo_refuses_production_and_writes_nothing(make_app):
    """The demo's password and TOTP secret are public: in production they
    would be a way in."""
    production = make_app(ENV_NAME="production")
    refused = production.test_cli_runner().invoke(args=["seed-demo"])
    assert refused.exit_code == 1
    assert "does not run in production" in refused.output
    with production.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_seed_library_is_idempotent(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-library"])
    with app.app_context():
        first = db.session.scalar(select(func.count(Exercise.id)))
    again = runner.invoke(args=["seed-library"])
    assert "0 new" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Exercise.id))) == first >= 12


def test_backup_can_be_restored_and_holds_everything(app, tmp_path, signed_in, world):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    signed_in("patient_a").patch(
        f"/api/patients/{world.patient_a}", json={"name": "Before backup"}
    )
    target = tmp_path / "backup.db"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    # restore: a fresh app on the copy sees the same data and a sound database
    config = settings.TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{target}"
    restored = create_app(config)
    with restored.app_context():
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert db.session.get(User, world.patient_a).name == "Before backup"
        assert db.session.scalar(select(func.count(Exercise.id))) >= 12
        db.engine.dispose()


def test_vapid_keys_are_made_once_and_kept_private(app, monkeypatch, tmp_path):
    path = tmp_path / "vapid.json"
    monkeypatch.setitem(app.config, "VAPID_FILE", str(path))
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["vapid-keys"])
    assert made.exit_code == 0, made.output
    assert path.stat().st_mode & 0o777 == 0o600
    with app.app_context():
        public = vapid_public_key()  # read back from the file
    assert f"Public key: {public}" in made.output
    # never replaced by mistake
    assert runner.invoke(args=["vapid-keys"]).exit_code != 0
    assert runner.invoke(args=["vapid-keys", "--if-missing"]).exit_code == 0
    with app.app_context():
        assert vapid_public_key() == public
    assert runner.invoke(args=["vapid-keys", "--force"]).exit_code == 0
    with app.app_context():
        assert vapid_public_key() != public


def test_worker_run_once_reminders_says_what_it_did(app, world):
    result = app.test_cli_runner().invoke(args=["worker", "run-once", "reminders"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "reminders: nothing to do"
