"""Backups that restore: a served database is backed up, written to some more,
its server SIGKILLed, and the backup restored as the README says; every table
then holds exactly the rows it held at backup time, and the app serves again.

SQLite: `flask backup` and `flask restore` (which refuses while a server runs).
PostgreSQL: `pg_dump --format=custom` and `pg_restore` into a fresh database.
"""

import os
import subprocess
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, make_url, select, table, text

from tests.serving import (
    BIN,
    ROOT,
    Client,
    Gunicorn,
    app_env,
    demo_patient_email,
    flask_cli,
    migrate_and_seed,
)

pytestmark = pytest.mark.serving


@pytest.fixture(autouse=True)
def _fresh_data():
    """Overrides conftest's: these tests bring their own databases and servers."""
    yield


def is_postgresql() -> bool:
    base = os.environ.get("TEST_DATABASE_URL")
    return bool(base) and make_url(base).get_backend_name() == "postgresql"


@contextmanager
def postgresql_databases(*names: str):
    """Fresh databases named `names` on TEST_DATABASE_URL's server, dropped after."""
    url = make_url(os.environ["TEST_DATABASE_URL"])
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield [
                url.set(database=name).render_as_string(hide_password=False)
                for name in names
            ]
        finally:
            with server.connect() as connection:
                for name in names:
                    connection.execute(
                        text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    )
    finally:
        server.dispose()


def row_counts(database_url: str) -> dict[str, int]:
    """{table: rows} of every table in the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.scalar(select(func.count()).select_from(table(name)))
                for name in inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()


def libpq_url(database_url: str) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def write_pain(client: Client, count: int) -> None:
    """`count` pain check-ins through POST /api/sync, as the phone sends them."""
    today = date.fromisoformat(client.routine()["today"])
    records = [
        {
            "id": str(uuid.uuid4()),
            "logged_on": (today - timedelta(days=number)).isoformat(),
            "score": number % 11,
            "note": f"Check-in {number}",
        }
        for number in range(count)
    ]
    reply = client.call("POST", "/api/sync", {"pain_logs": records})
    assert reply.status == 200, reply
    assert [r["status"] for r in reply.body["results"]] == ["created"] * count


def flask_refused(env: dict, *args: str) -> str:
    """Runs a flask command that must fail; returns what it said."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr


def serve_and_write(env: dict, tmp_path: Path, name: str) -> Gunicorn:
    server = Gunicorn(env, tmp_path / f"{name}.log", workers=2).start()
    write_pain(Client(server.port).login(demo_patient_email(0)), 5)
    return server


@pytest.mark.skipif(is_postgresql(), reason="flask restore is SQLite's")
def test_sqlite_restores_after_a_sigkill_with_every_tables_rows(tmp_path):
    database = tmp_path / "homeward.db"
    url = f"sqlite:///{database}"
    env = app_env(url, tmp_path / "run")
    migrate_and_seed(env, patients=3, days=3)
    backup = tmp_path / "backup.db"
    server = serve_and_write(env, tmp_path, "before")
    try:
        flask_cli(env, "backup", str(backup))
        at_backup = row_counts(url)
        write_pain(Client(server.port).login(demo_patient_email(1)), 7)
        assert row_counts(url) != at_backup

        said = flask_refused(env, "restore", str(backup))
        assert "in use" in said and "stop the app" in said
        assert row_counts(url)["pain_logs"] == at_backup["pain_logs"] + 7
    finally:
        server.kill()
    assert Path(f"{database}-wal").exists()  # what a crash leaves behind

    said = flask_cli(env, "restore", str(backup))
    assert "integrity: ok" in said
    assert not Path(f"{database}-wal").exists()
    assert not Path(f"{database}-shm").exists()
    assert row_counts(url) == at_backup

    with Gunicorn(env, tmp_path / "after.log", workers=2) as again:
        write_pain(Client(again.port).login(demo_patient_email(2)), 1)
    assert row_counts(url)["pain_logs"] == at_backup["pain_logs"] + 1


@pytest.mark.skipif(not is_postgresql(), reason="needs TEST_DATABASE_URL")
def test_postgresql_restores_after_a_sigkill_into_a_fresh_database(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    names = (f"test_h3_restore_src_{suffix}", f"test_h3_restore_{suffix}")
    with postgresql_databases(*names) as (url, fresh_url):
        env = app_env(url, tmp_path / "run")
        migrate_and_seed(env, patients=3, days=3)
        dump = tmp_path / "homeward.dump"
        server = serve_and_write(env, tmp_path, "before")
        try:
            dumped = subprocess.run(
                ["pg_dump", "--format=custom", f"--file={dump}", libpq_url(url)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert dumped.returncode == 0, dumped.stderr
            at_backup = row_counts(url)
            write_pain(Client(server.port).login(demo_patient_email(1)), 7)
            assert row_counts(url) != at_backup
            assert "pg_restore" in flask_refused(env, "restore", str(dump))
        finally:
            server.kill()

        restored = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={libpq_url(fresh_url)}", dump],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restored.returncode == 0, restored.stderr
        assert restored.stderr == ""
        assert row_counts(fresh_url) == at_backup

        fresh_env = env | {"DATABASE_URL": fresh_url}
        with Gunicorn(fresh_env, tmp_path / "after.log", workers=2) as again:
            write_pain(Client(again.port).login(demo_patient_email(2)), 1)
        assert row_counts(fresh_url)["pain_logs"] == at_backup["pain_logs"] + 1
