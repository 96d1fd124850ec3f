"""SQLite as the app sets it up (backend/sqlite.py): WAL, a busy timeout and
foreign keys on every connection, so concurrent writers wait for each other.

These build their own SQLite file, so they run in the PostgreSQL pass too.
"""

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from backend import sqlite


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    sqlite.harden(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE parents (id INTEGER PRIMARY KEY)"))
        connection.execute(
            text(
                "CREATE TABLE ticks (id INTEGER PRIMARY KEY, by TEXT, "
                "parent_id INTEGER REFERENCES parents (id))"
            )
        )
    yield engine
    engine.dispose()


def pragma(connection, name: str):
    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_every_connection_gets_wal_a_busy_timeout_and_foreign_keys(engine):
    with engine.connect() as connection:
        assert pragma(connection, "journal_mode") == "wal"
        assert pragma(connection, "busy_timeout") == 10_000
        assert pragma(connection, "foreign_keys") == 1
        with pytest.raises(IntegrityError):
            connection.execute(
                text("INSERT INTO ticks (by, parent_id) VALUES ('x', 42)")
            )


def test_a_second_writer_waits_for_the_first_and_both_writes_land(engine):
    first = engine.connect()
    first.execute(text("INSERT INTO ticks (by) VALUES ('first')"))
    finished = threading.Event()
    failures = []

    def second_writer():
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO ticks (by) VALUES ('second')"))
        except Exception as error:  # reported below, not lost in the thread
            failures.append(error)
        finished.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not finished.wait(0.3)  # waiting on the first transaction's lock
    first.commit()
    first.close()
    thread.join(10)
    assert finished.is_set() and failures == []
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT by FROM ticks ORDER BY id")).scalars()
        assert list(rows) == ["first", "second"]


def test_synchronous_is_full_unless_the_setting_says_normal(engine, tmp_path):
    with engine.connect() as connection:
        assert pragma(connection, "synchronous") == 2  # FULL, outside an app too
    relaxed = create_engine(f"sqlite:///{tmp_path / 'relaxed.db'}")
    sqlite.harden(relaxed, "NORMAL")
    with relaxed.connect() as connection:
        assert pragma(connection, "synchronous") == 1
    relaxed.dispose()


def test_synchronous_off_is_refused_at_start():
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLITE_SYNCHRONOUS": "off"}
    with pytest.raises(RuntimeError, match="SQLITE_SYNCHRONOUS"):
        sqlite.configure(config)
    config["SQLITE_SYNCHRONOUS"] = "full"
    sqlite.configure(config)
    assert config["SQLITE_SYNCHRONOUS"] == "FULL"
