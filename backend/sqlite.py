"""SQLite set up for several gunicorn workers, each with several threads.

- WAL (readers never wait for the writer), a busy timeout, foreign keys on,
  `synchronous=NORMAL` (durable at every checkpoint, never corrupt);
- writers queue up in the order they arrive instead of polling. SQLite allows
  one writer at a time, and a writer that finds the database locked sleeps in
  SQLite's busy handler for 1, 2, 5, 10 ms... and tries again, so under a burst
  of ticks most of the time went to sleeping while the lock was free. Here a
  connection about to write first takes its process's lock (a thread waits on
  it and wakes as soon as it is released), then an exclusive `flock` on
  `<database>-writer.lock` shared with the other processes (the kernel wakes
  the waiter, and frees the lock of a process that dies), and lets both go
  once its transaction commits or rolls back.
  SQLite's own locking still guarantees correctness; these locks only replace
  the polling with a queue.
"""

import fcntl
import os
import sqlite3
import threading

from sqlalchemy import event, make_url

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")  # REPLACE, cut to six letters
WAIT_SECONDS = 10.0  # as long as the busy timeout: then "database is locked"


class WriterQueue:
    """The process's lock plus the cross-process `flock`, for one database file."""

    def __init__(self, lock_path: str):
        self.lock_path = lock_path
        self.thread_lock = threading.Lock()
        self._fd = None
        self._pid = None

    def _file(self) -> int:
        # opened per process: a descriptor inherited through fork() would be one
        # open file shared by parent and child, and flock would not tell them apart
        if self._pid != os.getpid():
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        if not self.thread_lock.acquire(timeout=WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked")
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self.thread_lock.release()
            raise

    def release(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self.thread_lock.release()


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def _queue_for(connection: sqlite3.Connection) -> WriterQueue:
    """The queue of the connection's database file (one per file and process)."""
    path = next(row[2] for row in connection.execute("PRAGMA database_list"))
    with _queues_lock:
        if path not in _queues:
            _queues[path] = WriterQueue(path + "-writer.lock")
        return _queues[path]


class Cursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        self.connection.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, parameters):
        self.connection.before_statement(sql)
        return super().executemany(sql, parameters)


class QueuedWriterConnection(sqlite3.Connection):
    """A connection that queues for the writer lock before its first write and
    lets it go when its transaction ends (`connect_args={"factory": ...}`)."""

    queue: WriterQueue | None = None
    holds_writer_lock = False

    def before_statement(self, sql: str) -> None:
        if not self.holds_writer_lock and sql.lstrip()[:6].upper() in WRITES:
            if self.queue is None:
                self.queue = _queue_for(self)
            self.queue.acquire()
            self.holds_writer_lock = True

    def _let_go(self) -> None:
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            self.queue.release()

    def cursor(self, factory=Cursor):
        return super().cursor(factory)

    def commit(self):
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self):
        try:
            super().close()
        finally:
            self._let_go()


def configure(config: dict) -> None:
    """Before the engine exists: make a file database's connections queue writers."""
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    options.pop("pool_pre_ping", None)  # a file cannot drop the connection
    options["connect_args"] = {
        **options.get("connect_args", {}),
        "factory": QueuedWriterConnection,
    }
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def harden(engine) -> None:
    """WAL, a busy timeout, foreign keys on, on every new SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
