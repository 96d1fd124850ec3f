"""The migrations build the schema the models describe, on an empty database."""

import uuid
from contextlib import contextmanager

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

import config as settings
from backend import create_app
from backend.extensions import db


@contextmanager
def empty_database(base_url: str, tmp_path):
    """A brand-new database on the same engine as the test suite's."""
    url = make_url(base_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"homeward_migrations_{uuid.uuid4().hex[:8]}"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def test_upgrade_of_an_empty_database_matches_the_models(app, tmp_path):
    with empty_database(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as url:
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
