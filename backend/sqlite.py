"""SQLite set up for several gunicorn workers, each with several threads.

Every new connection gets WAL (readers never wait for the writer), a busy
timeout (a writer waits for the single write lock rather than failing at
once), foreign keys on and `synchronous=NORMAL` (durable at every checkpoint,
never corrupt).
"""

from sqlalchemy import event, make_url


def configure(config: dict) -> None:
    """Before the engine exists: no pre-ping for a SQLite file, which cannot
    drop its connection the way a database server can."""
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options.pop("pool_pre_ping", None)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def harden(engine) -> None:
    """The pragmas, on every new connection of a SQLite engine."""
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
