"""Column helpers shared by the models."""

from datetime import UTC

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from backend.services.dates import now_utc

__all__ = ["UTCDateTime", "now_utc", "render_item"]


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


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate hook: write UTCDateTime as the plain type it wraps."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
