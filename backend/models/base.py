"""Column helpers shared by the models."""

from datetime import UTC

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app
from sqlalchemy import DateTime, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from backend.services.dates import now_utc

__all__ = [
    "EncryptedString",
    "UTCDateTime",
    "engine_function",
    "field_keys",
    "now_utc",
    "render_item",
]


def engine_function(name: str, type_, **sql_by_dialect: str) -> type:
    """A SQL function of one argument written in each engine's own words:
    `sql_by_dialect` maps a dialect name to its SQL, `{}` standing for the
    argument (e.g. `sqlite="date({}, 'weekday 0', '-6 days')"`)."""
    function = type(name, (FunctionElement,), {"type": type_, "inherit_cache": True})
    for dialect, sql in sql_by_dialect.items():

        def render(element, compiler, sql=sql, **kw):
            return sql.format(compiler.process(element.clauses, **kw))

        compiles(function, dialect)(render)
    return function


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no offset, so values come back naive there; they are UTC by
    construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def field_keys(keys: list[str]) -> MultiFernet:
    """The keyring of FIELD_ENCRYPTION_KEYS (newest first): encrypts with the
    first, decrypts with any."""
    return MultiFernet([Fernet(key) for key in keys])


class EncryptedString(TypeDecorator):
    """A short secret stored encrypted (Fernet, with the app's keyring in
    `app.extensions["homeward_fields"]`), read back as plain text."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return (
            current_app.extensions["homeward_fields"].encrypt(value.encode()).decode()
        )

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (
            current_app.extensions["homeward_fields"].decrypt(value.encode()).decode()
        )


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate hook: write UTCDateTime and EncryptedString as the
    plain types they wrap."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedString):
        return "sa.String(length=255)"
    return False
