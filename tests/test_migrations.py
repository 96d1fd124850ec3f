"""The migrations build the schema the models describe, on an empty database."""

import hashlib

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import config as settings
from backend import create_app
from backend.extensions import db
from backend.models import User
from backend.services import second_factor
from tests.serving import fresh_database


def test_upgrade_of_an_empty_database_matches_the_models(app, tmp_path):
    with fresh_database(tmp_path) as url:
        config = settings.TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        fresh = create_app(config)
        with fresh.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True}
                )
                assert compare_metadata(context, db.metadata) == []
                head = ScriptDirectory.from_config(
                    fresh.extensions["migrate"].migrate.get_config()
                ).get_current_head()
                assert context.get_current_revision() == head
            assert "exercise_logs" in inspect(db.engine).get_table_names()
            flask_migrate.downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def test_upgrading_the_previous_release_keeps_its_invitations(app, tmp_path):
    """0002 (the last release) → head: a patient's pending invitation link is
    kept, now as a user's invitation."""
    with fresh_database(tmp_path) as url:
        config = settings.TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        fresh = create_app(config)
        with fresh.app_context():
            flask_migrate.upgrade(revision="0002")
            with db.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO clinics (id, name, created_at) VALUES (1, 'C', :t)"
                    ),
                    {"t": "2026-11-01 09:00:00+00:00"},
                )
                connection.execute(
                    text(
                        "INSERT INTO users (id, clinic_id, email, name, role, "
                        "active, created_at) "
                        "VALUES (7, 1, 'p@c.test', 'P', 'patient', :yes, :t)"
                    ),
                    {"t": "2026-11-01 09:00:00+00:00", "yes": True},
                )
                connection.execute(
                    text(
                        "INSERT INTO invitations (patient_id, token_hash, created_at, "
                        "expires_at) VALUES (7, 'abc', :t, :t)"
                    ),
                    {"t": "2026-11-01 09:00:00+00:00"},
                )
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                row = connection.execute(
                    text("SELECT user_id, purpose, token_hash FROM invitations")
                ).one()
            assert tuple(row) == (7, "invite", "abc")
            db.engine.dispose()


def test_upgrading_to_0014_encrypts_secrets_and_rehashes_recovery_codes(app, tmp_path):
    """0012 → head: a plaintext TOTP secret is encrypted with the app's key, a
    SHA-256 recovery code becomes an argon2 hash the same code still opens."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    code = "ab12-cd34-ef56"
    with fresh_database(tmp_path) as url:
        config = settings.TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        fresh = create_app(config)
        with fresh.app_context():
            flask_migrate.upgrade(revision="0012")
            at = {"t": "2026-11-01 09:00:00+00:00", "yes": True}
            with db.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO clinics (id, name, created_at) VALUES (1, 'C', :t)"
                    ),
                    at,
                )
                connection.execute(
                    text(
                        "INSERT INTO users (id, clinic_id, email, name, role, active, "
                        "created_at, totp_secret) VALUES "
                        "(7, 1, 'a@c.test', 'A', 'admin', :yes, :t, :secret)"
                    ),
                    at | {"secret": secret},
                )
                connection.execute(
                    text(
                        "INSERT INTO recovery_codes (user_id, code_hash) VALUES (7, :h)"
                    ),
                    {"h": hashlib.sha256(code.replace("-", "").encode()).hexdigest()},
                )
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                stored = connection.execute(
                    text("SELECT totp_secret FROM users")
                ).scalar()
                hashed = connection.execute(
                    text("SELECT code_hash FROM recovery_codes")
                ).scalar()
            assert secret not in stored
            keys = fresh.extensions["homeward_fields"]
            assert keys.decrypt(stored.encode()).decode() == secret
            assert hashed.startswith("$argon2id$")
            user = db.session.get(User, 7)
            assert user.totp_secret == secret
            passwords = fresh.extensions["homeward_passwords"]
            assert second_factor.accept_recovery_code(user, code.upper(), passwords)
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
