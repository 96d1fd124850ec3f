"""Flask extensions, created unbound here and bound to an app in `create_app`."""

import ipaddress
import logging
import time

from flask import request
from flask_babel import gettext as _
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, text
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


MAX_BODY_BYTES = 1024 * 1024  # the contract's limit (config.MAX_CONTENT_LENGTH)
MAX_SYNC_RECORDS = 500  # records in one POST /api/sync


log = logging.getLogger(__name__)


class HomewardApi(Api):
    """flask-smorest's Api whose error bodies always carry a human message, and
    whose 405 says what is allowed, 413 what the limits are and 429 when to
    try again."""

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description)
        if code == 405 and getattr(error, "valid_methods", None):
            headers = {**(headers or {}), "Allow": ", ".join(error.valid_methods)}
        if code == 413:
            if getattr(error, "data", None):
                pass  # a view's own message
            elif request.max_content_length != MAX_BODY_BYTES:  # an upload
                payload["message"] = _("A picture or video is too large to upload.")
            else:
                payload["message"] = _("A request body may be at most 1 MiB.")
            payload["limits"] = {"bytes": MAX_BODY_BYTES, "records": MAX_SYNC_RECORDS}
        if code == 429 and "Retry-After" not in (headers or {}):
            headers = {**(headers or {}), **_retry_after()}
        return payload, code, headers


def _retry_after() -> dict:
    """Retry-After for a request Flask-Limiter refused: the seconds until its
    window resets. Asked of the limiter's storage only on a refusal (its
    X-RateLimit-* headers, which asked on every counted request, are off)."""
    refused = limiter.current_limit
    if refused is None:
        return {}
    try:
        wait = int(refused.reset_at - time.time())  # reset_at rounds up
    except Exception:  # the storage went away since the hit: no header, no 500
        log.warning("could not read the rate limit's window for Retry-After")
        return {}
    return {"Retry-After": str(max(wait, 1))}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after commit: views commit, then dump what they wrote.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def lift_statement_timeout() -> None:
    """Let this transaction run longer than a request's statement_timeout
    (config.py: DB_STATEMENT_TIMEOUT_MS): for work no one waits on at a
    screen, the worker's export jobs and bulk commands. PostgreSQL only."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL statement_timeout = 0"))


def address_key() -> str:
    """The client's address as every limit keyed by address counts it: IPv6
    by its /64 (one subscriber's whole prefix), IPv4 as it is."""
    address = request.remote_addr or "-"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return address
    if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 address
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


migrate = Migrate()
login_manager = LoginManager()
limiter = Limiter(key_func=address_key)


# sign-in (api/auth.py), the patient's writes (api/logs.py) and those like them
LIMITED_BLUEPRINTS = {"auth", "logs", "flare_ups", "messages"}


@limiter.request_filter
def _without_limits() -> bool:
    """Only sign-in and the patient's writes have limits: every other request
    skips the limiter's per-request bookkeeping."""
    return request.blueprint not in LIMITED_BLUEPRINTS or request.method == "GET"


csrf = CSRFProtect()
api = HomewardApi()
compress = Compress()
