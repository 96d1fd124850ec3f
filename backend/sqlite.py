"""SQLite set up for several gunicorn workers, each with several threads.

Every new connection gets WAL (readers never wait for the writer), a busy
timeout (a writer waits for the single write lock rather than failing at
once), foreign keys on and the durability of the `SQLITE_SYNCHRONOUS` setting:
FULL (production's default) syncs the WAL at every commit, so a power cut
loses no acknowledged write; NORMAL syncs at checkpoints only, so a power cut
may lose the last commits, but never corrupts the database. It also gets
`homeward_sha256(text)`, which SQLite lacks and the audit trail's hash chain
computes in SQL (backend/services/audit_chain.py).
"""

import hashlib

from flask import current_app, has_app_context
from sqlalchemy import event, make_url

SYNCHRONOUS_LEVELS = {"NORMAL", "FULL", "EXTRA"}  # OFF may corrupt: never


def configure(config: dict) -> None:
    """Before the engine exists: no pre-ping for a SQLite file, which cannot
    drop its connection the way a database server can."""
    level = str(config.get("SQLITE_SYNCHRONOUS", "FULL")).strip().upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise RuntimeError(
            f"SQLITE_SYNCHRONOUS={level!r}: use one of {sorted(SYNCHRONOUS_LEVELS)}."
        )
    config["SQLITE_SYNCHRONOUS"] = level
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options.pop("pool_pre_ping", None)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def harden(engine, synchronous: str | None = None) -> None:
    """The pragmas, on every new connection of a SQLite engine; `synchronous`
    defaults to the app's SQLITE_SYNCHRONOUS (FULL outside an app)."""
    if engine.dialect.name != "sqlite":
        return
    if synchronous is None:
        configured = has_app_context() and current_app.config.get("SQLITE_SYNCHRONOUS")
        synchronous = configured or "FULL"
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise RuntimeError(f"synchronous={synchronous!r} is not a SQLite level")

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        dbapi_connection.create_function(
            "homeward_sha256", 1, _sha256_hex, deterministic=True
        )


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()
