"""The audit trail beyond its triggers: each row chained to the one before by
its hash, so `flask audit verify` finds a row changed, removed or added behind
the app's back; and on PostgreSQL, the app's own role (DATABASE_URL) cannot
change the trail at all, since only the owner (MIGRATION_DATABASE_URL) can lift
the triggers."""

import threading
import time
import uuid

import flask_migrate
import pytest
from sqlalchemy import create_engine, event, inspect, make_url, select, text
from sqlalchemy.exc import DatabaseError

import config as settings
from backend import create_app
from backend.extensions import db
from backend.models import AuditEvent
from backend.models.oversight import APPEND_ONLY
from backend.services import audit
from tests.conftest import EMAILS, ApiClient
from tests.serving import fresh_database


def verify(app):
    """(exit code, output) of `flask audit verify`."""
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def audit_ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()


def as_owner_with_triggers_off(app, statement: str, **params) -> None:
    """What the table's owner can do: lift the append-only trigger, change
    rows, and put the trigger back."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            off = ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"]
            on = ["ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"]
        else:  # SQLite cannot disable a trigger: drop it, as empty_tables does
            on, off = APPEND_ONLY["sqlite"]
        for lift in off:
            db.session.execute(text(lift))
        db.session.execute(text(statement), params)
        for restore in on:
            db.session.execute(text(restore))
        db.session.commit()


def some_activity(admin, therapist, world):
    """Rows of several kinds: writes, a staff read (recorded once), a refusal."""
    admin.post("/api/tokens", json={"name": "Nightly"})
    admin.post("/api/tokens", json={"name": "Weekly"})
    for _ in range(2):
        assert therapist.get(f"/api/patients/{world.patient_a}").status_code == 200
    assert therapist.get(f"/api/patients/{world.patient_b}").status_code == 404


def test_an_intact_chain_verifies(app, world, admin, therapist):
    some_activity(admin, therapist, world)
    rows = len(audit_ids(app))
    assert rows >= 6
    code, output = verify(app)
    assert code == 0, output
    assert f"{rows} rows, chain intact." in output
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert events[0].prev_hash is None
        pairs = zip(events, events[1:], strict=False)
        assert all(event.prev_hash == before.hash for before, event in pairs)
        assert output.strip().endswith(events[-1].hash)


def test_an_empty_trail_verifies(app):
    assert verify(app) == (0, "0 rows, chain intact.\n")


def test_a_row_changed_by_the_owner_is_found_at_that_row(app, world, admin, therapist):
    some_activity(admin, therapist, world)
    changed = audit_ids(app)[3]
    as_owner_with_triggers_off(
        app,
        "UPDATE audit_events SET detail = :detail WHERE id = :id",
        detail='{"read": "nothing"}',
        id=changed,
    )
    code, output = verify(app)
    assert code == 1
    assert f"Row {changed} breaks the chain: its content" in output
    assert "changed after writing" in output


def test_a_row_removed_is_found_at_the_row_after_it(app, world, admin, therapist):
    some_activity(admin, therapist, world)
    ids = audit_ids(app)
    as_owner_with_triggers_off(
        app, "DELETE FROM audit_events WHERE id = :id", id=ids[2]
    )
    code, output = verify(app)
    assert code == 1
    assert f"Row {ids[3]} breaks the chain" in output
    assert "a row before it was removed, added or changed" in output


def test_a_row_added_behind_the_apps_back_is_found(app, world, admin, therapist):
    some_activity(admin, therapist, world)
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO audit_events (at, action, status) VALUES (:at, 'x', 200)"
            ),
            {"at": "2026-01-01 00:00:00"},
        )
        db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert f"Row {audit_ids(app)[-1]} breaks the chain" in output
    assert "it has no hash" in output


def test_a_row_costs_one_statement_more_at_most(app):
    """PostgreSQL takes the chain's lock first; the INSERT itself reads the
    last hash and computes the new one."""
    with app.app_context():
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            audit.record("x.y", 200, clinic_id=None, actor_id=None, actor_email=None)
            audit.record(
                "x.y",
                200,
                clinic_id=None,
                actor_id=None,
                actor_email=None,
                once_key="k",
            )
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        per_row = 2 if db.engine.dialect.name == "postgresql" else 1
        assert len(statements) == 2 * per_row, statements
    assert verify(app)[0] == 0


def test_concurrent_writers_queue_at_the_chains_end(app):
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != (
        "postgresql"
    ):
        pytest.skip("concurrent writers: set TEST_DATABASE_URL to PostgreSQL")
    first_added, first_may_commit, failures = (
        threading.Event(),
        threading.Event(),
        [],
    )

    def write(action, before_commit=None):
        try:
            with app.app_context():
                audit.record(
                    action, 200, clinic_id=None, actor_id=None, actor_email=None
                )
                if before_commit:
                    before_commit()
                db.session.commit()
                db.session.remove()
        except Exception as error:  # the test's thread: fail the test with it
            failures.append(error)
            first_added.set()

    def hold():
        first_added.set()
        first_may_commit.wait()

    first = threading.Thread(target=write, args=("first.write", hold))
    first.start()
    first_added.wait()
    second = threading.Thread(target=write, args=("second.write",))
    second.start()
    # the second writer waits at the chain's lock; without it, it is done
    deadline = time.monotonic() + 15
    while second.is_alive() and not _waiting_for_a_lock(app):
        assert time.monotonic() < deadline, "the second writer neither ran nor waited"
        time.sleep(0.05)
    first_may_commit.set()
    first.join()
    second.join()
    assert failures == []
    code, output = verify(app)
    assert (code, output.splitlines()[0]) == (0, "2 rows, chain intact."), output
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).order_by(AuditEvent.id)
        ).all()
    assert actions == ["first.write", "second.write"]


def _waiting_for_a_lock(app) -> bool:
    with app.app_context():
        waiting = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND NOT granted"
            )
        )
        db.session.remove()
    return waiting > 0


def test_the_migration_links_the_rows_already_there(app, tmp_path):
    """0012 → head: the rows of before the chain are linked in id order."""
    with fresh_database(tmp_path) as url:
        config = settings.TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        fresh = create_app(config)
        with fresh.app_context():
            flask_migrate.upgrade(revision="0012")
            with db.engine.begin() as connection:
                for n, detail in enumerate(['{"read": "x"}', None, '{"é": [1, 2]}']):
                    connection.execute(
                        text(
                            "INSERT INTO audit_events (at, action, status, detail)"
                            " VALUES (:at, :action, 200, :detail)"
                        ),
                        {
                            "at": f"2026-11-0{n + 1} 09:00:00+00:00",
                            "action": f"a.{n}",
                            "detail": detail,
                        },
                    )
            flask_migrate.upgrade()
            audit.record(
                "after.chain", 200, clinic_id=None, actor_id=None, actor_email=None
            )
            db.session.commit()
            code, output = verify(fresh)
            assert (code, output.splitlines()[0]) == (0, "4 rows, chain intact.")
            # and the triggers are back
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()


def test_migrations_run_as_migration_database_url_when_set(tmp_path):
    """`flask db upgrade` migrates MIGRATION_DATABASE_URL's database (the owner's
    role); the app's own URL is left alone."""
    config = settings.TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'app.db'}"
    config.MIGRATION_DATABASE_URL = f"sqlite:///{tmp_path / 'owner.db'}"
    fresh = create_app(config)
    with fresh.app_context():
        flask_migrate.upgrade()
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    owner = create_engine(config.MIGRATION_DATABASE_URL)
    assert "audit_events" in inspect(owner).get_table_names()
    owner.dispose()


# -- PostgreSQL: the runtime role --------------------------------------------


@pytest.fixture
def runtime_app(app, make_app, world):
    """An app whose DATABASE_URL is a role of this test's own, granted by
    `flask grant-runtime` run with MIGRATION_DATABASE_URL the suite's owner
    role, as the README says; the role is dropped afterwards."""
    owner_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if owner_url.get_backend_name() != "postgresql":
        pytest.skip("database roles: set TEST_DATABASE_URL to PostgreSQL")
    role = f"homeward_runtime_{uuid.uuid4().hex[:8]}"
    with app.app_context():
        db.session.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        db.session.commit()
    runtime = make_app(
        SQLALCHEMY_DATABASE_URI=owner_url.set(
            username=role, password=None
        ).render_as_string(hide_password=False),
        MIGRATION_DATABASE_URL=owner_url.render_as_string(hide_password=False),
    )
    try:
        granted = runtime.test_cli_runner().invoke(args=["grant-runtime", role])
        assert granted.exit_code == 0, granted.output
        yield runtime
    finally:
        with runtime.app_context():
            db.session.remove()
            db.engine.dispose()
        with app.app_context():
            db.session.execute(text(f'DROP OWNED BY "{role}"'))
            db.session.execute(text(f'DROP ROLE "{role}"'))
            db.session.commit()


def test_the_runtime_role_cannot_lift_the_triggers_nor_change_the_trail(
    runtime_app, admin
):
    admin.post("/api/tokens", json={"name": "Nightly"})
    refusals = [
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE audit_events DISABLE TRIGGER USER", "must be owner"),
        ("UPDATE audit_events SET detail = NULL", "permission denied"),
        ("DELETE FROM audit_events", "permission denied"),
        ("TRUNCATE audit_events", "permission denied"),
        ("DROP TABLE audit_events", "must be owner"),
        ("UPDATE alembic_version SET version_num = '0001'", "permission denied"),
    ]
    with runtime_app.app_context():
        for statement, refusal in refusals:
            with pytest.raises(DatabaseError, match=refusal):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(AuditEvent.action).limit(1)) is not None


def test_the_app_works_through_the_runtime_role(runtime_app, world):
    therapist = ApiClient(runtime_app.test_client()).login(EMAILS["therapist_a"])
    assert therapist.get(f"/api/patients/{world.patient_a}").status_code == 200
    renamed = therapist.patch(
        f"/api/patients/{world.patient_a}", json={"name": "Pat Renamed"}
    )
    assert renamed.status_code == 200, renamed.json
    with runtime_app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).order_by(AuditEvent.id)
        ).all()
    assert actions == ["auth.login", "patient.read", "patients.update_patient"]
    code, output = verify(runtime_app)
    assert (code, output.splitlines()[0]) == (0, "3 rows, chain intact.")


def test_grant_runtime_refuses_a_role_that_could_lift_the_triggers(app):
    with app.app_context():
        dialect = db.engine.dialect.name
        me = (
            db.session.scalar(text("SELECT current_user"))
            if dialect != "sqlite"
            else ""
        )
    result = app.test_cli_runner().invoke(args=["grant-runtime", me or "homeward"])
    assert result.exit_code == 1
    if dialect == "sqlite":
        assert "Only PostgreSQL has roles" in result.output
    else:
        assert "the runtime role must be a role of its own" in result.output
