"""Settings for Homeward, read from the environment (twelve-factor).

`Config` runs out of the box for development (an SQLite file under `instance/`);
production sets `HOMEWARD_ENV=production`, `SECRET_KEY`, `PUBLIC_URL`,
`DATABASE_URL`, `FIELD_ENCRYPTION_KEYS` and (PostgreSQL) `MIGRATION_DATABASE_URL`.
`TestConfig` is what the test suite builds its apps with.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import make_url

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _dev_secret_key() -> str:
    """A random key kept in instance/ so development sessions survive restarts."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    key_file = INSTANCE_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _dev_field_key() -> str:
    """A Fernet key kept in instance/ for development, like the secret key."""
    from cryptography.fernet import Fernet

    INSTANCE_DIR.mkdir(exist_ok=True)
    key_file = INSTANCE_DIR / "dev-field-key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _keys(value: str | None) -> list[str]:
    return [key.strip() for key in (value or "").split(",") if key.strip()]


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = os.environ.get("HOMEWARD_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _sqlite_url(
        INSTANCE_DIR / "homeward.db"
    )
    # PostgreSQL: the role that owns the tables, for `flask db upgrade` and
    # `flask grant-runtime`; DATABASE_URL's role then only uses them (README,
    # "Database"). Unset: migrations run as DATABASE_URL's role.
    MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL")
    # PostgreSQL timeouts (SQLALCHEMY_ENGINE_OPTIONS below): a dead database
    # costs a request a few seconds and a 503, never a hang.
    # seconds to open a connection (libpq connect_timeout)
    DB_CONNECT_TIMEOUT = _int("DB_CONNECT_TIMEOUT", 3)
    # ms one SQL statement may run on the server (statement_timeout)
    DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 30_000)
    # ms sent data may stay unacknowledged before the kernel drops the
    # connection (libpq tcp_user_timeout): a network dropping packets
    DB_TCP_USER_TIMEOUT_MS = _int("DB_TCP_USER_TIMEOUT_MS", 3_000)
    # seconds a request waits for a free connection of the pool
    DB_POOL_TIMEOUT = _int("DB_POOL_TIMEOUT", 5)
    MAX_CONTENT_LENGTH = 1024 * 1024  # 1 MiB, as the API contract says
    # SQLite only (backend/sqlite.py): FULL loses no acknowledged write on a power
    # cut; NORMAL is faster and may lose the last commits then (never corrupts)
    SQLITE_SYNCHRONOUS = os.environ.get(
        "SQLITE_SYNCHRONOUS", "FULL" if ENV_NAME == "production" else "NORMAL"
    )

    # Sessions live on the server (backend/sessions.py); the cookie holds
    # only a random token. Idle and absolute limits, by role:
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    SESSION_LIMITS = {
        "staff": (
            timedelta(minutes=_int("SESSION_IDLE_MINUTES_STAFF", 30)),
            timedelta(hours=_int("SESSION_ABSOLUTE_HOURS_STAFF", 12)),
        ),
        "patient": (
            timedelta(days=_int("SESSION_IDLE_DAYS_PATIENT", 30)),
            timedelta(days=_int("SESSION_ABSOLUTE_DAYS_PATIENT", 180)),
        ),
    }
    # before sign-in, Flask's signed cookie keeps the sign-in form's CSRF token
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_REFRESH_EACH_REQUEST = False
    REMEMBER_COOKIE_HTTPONLY = True

    # CSRF (Flask-WTF): checked by hand in before_request so bearer tokens can skip it.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_HEADERS = ["X-CSRF-Token"]
    WTF_CSRF_TIME_LIMIT = None  # valid as long as the session
    WTF_CSRF_SSL_STRICT = True

    # Rate limits (Flask-Limiter); Redis in production.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # No X-RateLimit-* headers: no client reads them, and writing them cost
    # every counted request two more round trips to Redis. A 429 still says
    # Retry-After (extensions.HomewardApi).
    RATELIMIT_HEADERS_ENABLED = False
    # Redis answers within a second or counts as down; while it is down each
    # worker counts in its own memory (and says so in the log)
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "homeward")
    # failures per account from one address, then 429 (per account alone,
    # failures only slow sign-in down: api/auth.py)
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "20 per 15 minutes"
    # wrong codes of real half-signed sessions, per address (IPv6: per /64)
    SECOND_FACTOR_LIMIT = "20 per 15 minutes"
    # per account, whatever the address (api/auth.py): after this many failed
    # passwords within the hour, each try waits 1, 2, 4 ... minutes, at most
    # the cap; a device that signed in before skips the wait
    ACCOUNT_BACKOFF_AFTER = 10
    ACCOUNT_BACKOFF_CAP = timedelta(minutes=_int("ACCOUNT_BACKOFF_CAP_MINUTES", 60))
    # a half-signed session ends after this many wrong codes; the account's
    # second step waits 15 minutes after SECOND_FACTOR_ACCOUNT_LIMIT of them
    SECOND_FACTOR_SESSION_TRIES = 5
    SECOND_FACTOR_ACCOUNT_LIMIT = 10
    # the "known device" cookie a completed sign-in leaves (signed, HttpOnly)
    KNOWN_DEVICE_DAYS = _int("KNOWN_DEVICE_DAYS", 365)
    PASSWORD_RESET_LIMIT = "5 per hour"
    # a patient's writes, per person: generous (a month offline is one or two
    # syncs), but bounded
    WRITE_LIMIT = "600 per minute"
    SYNC_LIMIT = "60 per minute"
    # Admins (and therapists, unless their clinic says otherwise) sign in with
    # a second factor; only the test suite turns this off, never production.
    SECOND_FACTOR_FOR_STAFF = True

    # Fernet keys (comma-separated, newest first) that encrypt secrets at rest
    # (TOTP secrets); an older key still decrypts until `flask rotate-keys`
    FIELD_ENCRYPTION_KEYS = _keys(os.environ.get("FIELD_ENCRYPTION_KEYS"))

    # Password hashing (argon2id); the library's defaults are the production cost.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 4

    INVITE_VALID_DAYS = 14
    PASSWORD_RESET_VALID = timedelta(hours=1)

    # Mail (backend/mail.py): SMTP in production; without MAIL_SERVER, outside
    # production, messages are printed and kept in instance/outbox/.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)  # STARTTLS, certificate verified
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)  # implicit TLS (port 465)
    MAIL_CA_FILE = os.environ.get("MAIL_CA_FILE")  # a private CA; default: system's
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "homeward@localhost")
    MAIL_OUTBOX = str(INSTANCE_DIR / "outbox")
    # the outbox (backend/mail.py): the worker retries a message with back-off
    # for this long, then marks it failed for the admin to see; a worker that
    # dies mid-send holds a message this long before another sends it
    MAIL_GIVE_UP_HOURS = _int("MAIL_GIVE_UP_HOURS", 24)
    # seconds per SMTP operation: a stuck server holds a worker's pass no longer
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    MAIL_LEASE_SECONDS = _int("MAIL_LEASE_SECONDS", 120)
    # Clinic pictures and videos of exercises (services/media.py): a directory,
    # shared by all app servers (a volume) when there are several
    MEDIA_DIR = os.environ.get("MEDIA_DIR", str(INSTANCE_DIR / "media"))
    MEDIA_QUOTA_BYTES = _int("MEDIA_QUOTA_BYTES", 2 * 1024**3)  # per clinic
    MAX_IMAGE_BYTES = 10 * 1024 * 1024
    MAX_VIDEO_BYTES = 50 * 1024 * 1024
    # Big reports become jobs the worker writes here (services/jobs.py): over
    # this many patients, or a range over this many days; kept for a week
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE_DIR / "exports"))
    EXPORT_JOB_PATIENTS = _int("EXPORT_JOB_PATIENTS", 2000)
    EXPORT_JOB_DAYS = _int("EXPORT_JOB_DAYS", 366)
    EXPORT_KEEP_DAYS = _int("EXPORT_KEEP_DAYS", 7)
    # Reminders (services/reminders.py). Push is on once there is a VAPID key:
    # VAPID_PRIVATE_KEY (base64url), else the file `flask vapid-keys` writes.
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY")
    VAPID_FILE = os.environ.get("VAPID_FILE", str(INSTANCE_DIR / "vapid.json"))
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:homeward@localhost")
    # the push services subscriptions may point at (URL prefixes): the server
    # never posts to an address a client chose
    PUSH_ENDPOINT_ALLOW = [
        prefix.strip()
        for prefix in os.environ.get(
            "PUSH_ENDPOINT_ALLOW",
            "https://fcm.googleapis.com/,https://updates.push.services.mozilla.com/,"
            "https://web.push.apple.com/",
        ).split(",")
        if prefix.strip()
    ]
    PUSH_TIMEOUT = _int("PUSH_TIMEOUT", 10)  # seconds per push service request
    # no reminder inside these local hours (a nudge waits for their end)
    REMINDER_QUIET_HOURS = (
        os.environ.get("REMINDER_QUIET_START", "21:00"),
        os.environ.get("REMINDER_QUIET_END", "08:00"),
    )
    REMINDER_LATEST = timedelta(minutes=30)  # a slot later than this is skipped
    # where Homeward is opened (https://homeward.example.org): every link in
    # mail, push, QR codes and handouts starts with it, never with the Host a
    # request named. Required outside development; in production it is also
    # the one host the app answers to (TRUSTED_HOSTS, with any extra names)
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    TRUSTED_HOSTS = None  # any (Flask's default); production: see _public_url
    TRUSTED_HOSTS_EXTRA = [
        host.strip()
        for host in os.environ.get("TRUSTED_HOSTS", "").split(",")
        if host.strip()
    ]
    # reverse proxies in front whose X-Forwarded-For/-Proto/-Host to trust
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)

    # gzip/brotli for text responses (Flask-Compress); CSV reports stream too.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/csv",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ]
    COMPRESS_STREAMS = True

    # OpenAPI (flask-smorest)
    API_TITLE = "Homeward API"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self) -> dict:  # noqa: N802 (a Flask setting)
        """Pre-ping pooled connections; in production, log SQL errors without
        their values; on PostgreSQL, the timeouts above and TCP keepalives (an
        idle connection to a vanished server is found dead after 5 s + 2
        probes 2 s apart). Read when the app is made, so that a
        database URL set later (tests) gets the options of its engine."""
        # the values are health data, or whatever an attacker sent
        options = {
            "pool_pre_ping": True,
            "hide_parameters": self.ENV_NAME == "production",
        }
        if make_url(self.SQLALCHEMY_DATABASE_URI).get_backend_name() != "postgresql":
            return options
        options["pool_timeout"] = self.DB_POOL_TIMEOUT
        options["connect_args"] = {
            "connect_timeout": self.DB_CONNECT_TIMEOUT,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 2,
            "tcp_user_timeout": self.DB_TCP_USER_TIMEOUT_MS,
            "options": f"-c statement_timeout={self.DB_STATEMENT_TIMEOUT_MS}",
        }
        return options

    def __init__(self) -> None:
        if self.ENV_NAME == "production":
            if not self.SECOND_FACTOR_FOR_STAFF:
                raise RuntimeError("Staff sign in with a second factor in production.")
            if self.RATELIMIT_STORAGE_URI.startswith("memory://"):
                raise RuntimeError(
                    "Sign-in limits would live in each worker's memory: set "
                    "RATELIMIT_STORAGE_URI (e.g. redis://127.0.0.1:6379/0) "
                    "in production."
                )
        if not self.SECRET_KEY:
            if self.ENV_NAME != "development":
                raise RuntimeError(
                    "SECRET_KEY must be set outside development "
                    f"(HOMEWARD_ENV={self.ENV_NAME})."
                )
            self.SECRET_KEY = _dev_secret_key()
        if not self.FIELD_ENCRYPTION_KEYS:
            if self.ENV_NAME != "development":
                raise RuntimeError(
                    "FIELD_ENCRYPTION_KEYS must be set outside development "
                    f"(HOMEWARD_ENV={self.ENV_NAME}): comma-separated Fernet keys."
                )
            self.FIELD_ENCRYPTION_KEYS = [_dev_field_key()]
        self._public_url()

    def _public_url(self) -> None:
        """PUBLIC_URL checked (development: this machine's PORT); production
        answers only to its host (Flask's TRUSTED_HOSTS: any other is a 400)."""
        if not self.PUBLIC_URL:
            if self.ENV_NAME != "development":
                raise RuntimeError(
                    "PUBLIC_URL (e.g. https://homeward.example.org) must be set "
                    f"outside development (HOMEWARD_ENV={self.ENV_NAME})."
                )
            self.PUBLIC_URL = f"http://127.0.0.1:{_int('PORT', 5000)}"
        address = urlsplit(self.PUBLIC_URL)
        if address.scheme not in ("http", "https") or not address.hostname:
            raise RuntimeError(
                f"PUBLIC_URL must be an http(s) address, not {self.PUBLIC_URL!r}."
            )
        if self.ENV_NAME == "production":
            self.TRUSTED_HOSTS = [address.hostname, *self.TRUSTED_HOSTS_EXTRA]


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    # tests/conftest.py uses a temporary SQLite file unless this is set
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or _sqlite_url(
        INSTANCE_DIR / "test.db"
    )
    MIGRATION_DATABASE_URL = None  # the test database's one role owns it
    RATELIMIT_STORAGE_URI = "memory://"
    # a key for the tests only
    FIELD_ENCRYPTION_KEYS = ["u3Y0oV0p8m3bM2eO4mUa1jYy6Cq4sKXG8kQ3F2n5W7E="]
    PUBLIC_URL = "http://localhost"  # the test client's host
    # Flask-Limiter keeps the first app's prefix for the process: none here, so
    # that apps made on Redis by a test (make_app) can bring their own
    RATELIMIT_KEY_PREFIX = ""
    # the suite signs staff in with a password alone, but for the tests of
    # the second factor, which turn it back on (tests/test_second_factor.py)
    SECOND_FACTOR_FOR_STAFF = False
    MAIL_OUTBOX = str(INSTANCE_DIR / "test-outbox")
    MEDIA_DIR = str(INSTANCE_DIR / "test-media")
    EXPORT_DIR = str(INSTANCE_DIR / "test-exports")
    # a key for the tests only; the local push service (tests/push_service.py)
    # listens on a free port of 127.0.0.1
    VAPID_PRIVATE_KEY = "smj8iAS6jGwaE77o_otXs2jt_94rVweCyFfo7LSCj-I"
    VAPID_SUBJECT = "mailto:tests@homeward.test"
    PUSH_ENDPOINT_ALLOW = ["http://127.0.0.1:"]
    PUSH_TIMEOUT = 3
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024
    ARGON2_PARALLELISM = 1
