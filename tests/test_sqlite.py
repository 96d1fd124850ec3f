"""SQLite's writers queue for the write lock instead of polling (backend/sqlite.py).

These build their own SQLite file, so they run in the PostgreSQL pass too.
"""

import fcntl
import os
import threading

import pytest
from sqlalchemy import create_engine, text

from backend import sqlite


@pytest.fixture
def engine(tmp_path):
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'queue.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    sqlite.configure(config)
    assert "pool_pre_ping" not in config["SQLALCHEMY_ENGINE_OPTIONS"]
    engine = create_engine(
        config["SQLALCHEMY_DATABASE_URI"], **config["SQLALCHEMY_ENGINE_OPTIONS"]
    )
    sqlite.harden(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE ticks (id INTEGER PRIMARY KEY, by TEXT)"))
    yield engine
    engine.dispose()


def lock_is_free(engine) -> bool:
    """Try the writer lock from an open file of our own, as another process would."""
    path = engine.url.database + "-writer.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops our lock, if we got it
    return True


def insert(connection, by: str):
    connection.execute(text("INSERT INTO ticks (by) VALUES (:by)"), {"by": by})


def test_a_writer_holds_the_lock_from_its_first_write_to_its_commit(engine):
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM ticks")).scalar()
        assert lock_is_free(engine)  # reading takes nothing
        insert(connection, "a")
        assert not lock_is_free(engine)
        insert(connection, "a")  # a second write in the same transaction
        connection.commit()
        assert lock_is_free(engine)
        insert(connection, "a")
        assert not lock_is_free(engine)
        connection.rollback()
        assert lock_is_free(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM ticks")).scalar() == 2


def test_a_connection_closed_mid_transaction_lets_the_lock_go(engine):
    connection = engine.connect()
    insert(connection, "a")
    assert not lock_is_free(engine)
    connection.close()  # returned to the pool, which rolls back
    assert lock_is_free(engine)
    engine.dispose()
    assert lock_is_free(engine)


def test_a_second_writer_waits_its_turn_and_both_writes_land(engine):
    first = engine.connect()
    insert(first, "first")
    finished = threading.Event()

    def second_writer():
        with engine.begin() as connection:
            insert(connection, "second")
        finished.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not finished.wait(0.3)  # queued behind the first transaction
    first.commit()
    first.close()
    thread.join(10)
    assert finished.is_set()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT by FROM ticks ORDER BY id")).scalars()
        assert list(rows) == ["first", "second"]
    assert lock_is_free(engine)
