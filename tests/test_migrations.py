"""The migrations build the schema the models describe, on an empty database."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import config as settings
from backend import create_app
from backend.extensions import db
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
