"""Column helpers shared by the models."""

from datetime import UTC

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app
from sqlalchemy import DateTime, Integer, String, column, or_, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from backend.services.dates import now_utc

__all__ = [
    "DIALECT_INSERT",
    "EncryptedString",
    "UTCDateTime",
    "engine_function",
    "field_keys",
    "now_utc",
    "render_item",
    "rotate_encrypted",
]

# INSERT in each engine's own words, for ON CONFLICT ... DO NOTHING (both
# engines have it): a row that is there already is no error in the log
DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


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


def rotate_encrypted(session, metadata, keys: MultiFernet) -> dict[str, int]:
    """Encrypt every stored EncryptedString value of `metadata`'s tables
    again with the newest key of `keys`; {table: rows re-encrypted}. Read and
    written as stored (ciphertext), so a column added later is never
    forgotten. The caller commits."""
    counts = {}
    for model in metadata.sorted_tables:
        names = [c.name for c in model.columns if isinstance(c.type, EncryptedString)]
        if not names:
            continue
        [key] = model.primary_key.columns
        stored = table(
            model.name, column(key.name, Integer), *(column(n, String) for n in names)
        )
        rows = session.execute(
            select(stored.c[key.name], *(stored.c[n] for n in names)).where(
                or_(*(stored.c[n].is_not(None) for n in names))
            )
        ).all()
        for row_id, *values in rows:
            session.execute(
                stored.update()
                .where(stored.c[key.name] == row_id)
                .values(
                    {
                        name: None
                        if value is None
                        else keys.rotate(value.encode()).decode()
                        for name, value in zip(names, values, strict=True)
                    }
                )
            )
        counts[model.name] = len(rows)
    return counts


def _rotated(keys: MultiFernet, stored: str) -> str:
    return keys.rotate(stored.encode()).decode()


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate hook: write UTCDateTime and EncryptedString as the
    plain types they wrap."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedString):
        return "sa.String(length=255)"
    return False
