"""Serves the PWA in `frontend/` and sets the security headers on every response.

Static files live under `/assets/<version>/…`, where the version is a hash of
the frontend's files: a deploy changes every URL, so the files can be cached
for a year. Each file also has its own content hash (its revision): the
service worker's new precache copies a file whose revision it already holds
from the old one and fetches only the files a deploy changed.
`index.html` and `sw.js` are served with the version (and the revisions) filled in.
"""

import hashlib
import json
from pathlib import Path

import psycopg
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    request,
    send_from_directory,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend import mail
from backend.extensions import db, limiter

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
TEMPLATED = {"index.html", "sw.js", "manifest.webmanifest"}
# the frontend's own unit tests (`node --test frontend/tests/`): never precached
NOT_SHIPPED = {"tests"}
YEAR = 365 * 24 * 3600

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

bp = Blueprint("web", __name__)


def _asset_files(root: Path) -> list[str]:
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file()
        and path.name not in TEMPLATED
        and not path.name.startswith(".")
        and path.relative_to(root).parts[0] not in NOT_SHIPPED
    )


def build_manifest(root: Path = FRONTEND_DIR) -> dict:
    """The asset version (a content hash of them all), the files to precache
    and each one's revision (a hash of its content)."""
    files = _asset_files(root) if root.is_dir() else []
    digest = hashlib.sha256()
    revisions = {}
    for name in files + sorted(TEMPLATED):
        path = root / name
        if path.is_file():
            content = path.read_bytes()
            digest.update(name.encode())
            digest.update(content)
            if name in files:
                revisions[name] = hashlib.sha256(content).hexdigest()[:12]
    return {"version": digest.hexdigest()[:12], "files": files, "revisions": revisions}


def _frontend() -> dict:
    return current_app.extensions["homeward_frontend"]


def _templated(name: str, content_type: str) -> Response:
    frontend = _frontend()
    path = FRONTEND_DIR / name
    if not path.is_file():
        abort(404)
    version = frontend["version"]
    prefix = f"/assets/{version}/"
    text = path.read_text(encoding="utf-8")
    text = text.replace("__ASSET_VERSION__", version).replace("__ASSETS__", prefix)
    if name == "sw.js":
        urls = ["/"] + [prefix + file for file in frontend["files"]]
        text = text.replace('"__PRECACHE__"', json.dumps(urls))
        text = text.replace('"__REVISIONS__"', json.dumps(frontend["revisions"]))
    response = Response(text, content_type=content_type)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _database_answers() -> bool:
    """SELECT 1 within the engine's timeouts (config.py: DB_*_TIMEOUT*)."""
    try:
        db.session.execute(text("SELECT 1"))
    except (SQLAlchemyError, psycopg.Error):
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.remove()
        return False
    return True


def _redis_state() -> str:
    """Redis is "off" when limits are kept in memory by choice; "degraded" when it
    does not answer within its socket timeouts, so each worker counts sign-in
    failures in its own memory until it is back (Flask-Limiter's fallback)."""
    if current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return "off"
    try:
        return "ok" if limiter.storage.check() else "degraded"
    except Exception:  # noqa: BLE001 (any failure of the storage is "degraded")
        return "degraded"


@bp.get("/healthz")
def healthz():
    """What each dependency says: 200 when the database answers, else 503.
    Redis degraded is reported, not fatal: sign-in works on in-memory limits.
    `mail_oldest_unsent_seconds`: how long the oldest email still to send has
    waited (null when none): growing means the worker or the mail server is
    down (backend/mail.py)."""
    database = "ok" if _database_answers() else "down"
    answer = {"database": database, "redis": _redis_state()}
    if database == "ok":
        answer["mail_oldest_unsent_seconds"] = mail.oldest_unsent_age()
    return answer, 200 if database == "ok" else 503


@bp.get("/readyz")
def readyz():
    """For the load balancer: send traffic here only while the database answers."""
    if not _database_answers():
        return {"ready": False, "database": "down"}, 503
    return {"ready": True}


@bp.get("/")
def index():
    return _templated("index.html", "text/html; charset=utf-8")


@bp.get("/sw.js")
def service_worker():
    response = _templated("sw.js", "text/javascript; charset=utf-8")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    return _templated("manifest.webmanifest", "application/manifest+json")


@bp.get("/assets/<version>/<path:filename>")
def asset(version, filename):
    if filename in TEMPLATED:
        abort(404)
    response = send_from_directory(FRONTEND_DIR, filename, max_age=0)
    # Read the (small) file now: Flask-Compress would otherwise stream it and
    # never close the file it came from.
    response.direct_passthrough = False
    response.make_sequence()
    if version == _frontend()["version"]:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:  # a page from before a deploy: serve today's file, but do not pin it
        response.headers["Cache-Control"] = "no-cache"
    return response


# Set on every answer unless the view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # same-origin keeps the Referer that Flask-WTF checks on https writes
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
# as deploy/nginx.conf sends it: every subdomain of the clinic's host is HTTPS too
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
API_CACHE_CONTROL = ("Cache-Control", "no-store")


def security_headers(response: Response) -> Response:
    """The security headers (and no-store on the API), in one pass over the
    headers already set: every answer goes through here."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    wanted = list(SECURITY_HEADERS)
    if request.is_secure:
        wanted.append(HSTS)
    if request.path.startswith("/api/"):
        wanted.append(API_CACHE_CONTROL)
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def init_web(app: Flask) -> None:
    app.extensions["homeward_frontend"] = build_manifest()
    app.register_blueprint(bp)
    app.after_request(security_headers)
