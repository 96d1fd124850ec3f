"""The Homeward application factory."""

import logging
from pathlib import Path

import psycopg
import sqlalchemy.exc
from flask import Flask, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import extensions, guards, i18n, sqlite
from backend.extensions import compress, csrf, db, limiter, login_manager, migrate
from backend.models.base import render_item
from backend.services import alerts, notices, writes
from backend.sessions import ServerSideSessions

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

log = logging.getLogger(__name__)


def create_app(config=None) -> Flask:
    """Build an app; `config` is a settings class or object (default: `Config`)."""
    from config import Config

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_object(config if config is not None else Config())
    # an id in a path is a positive database integer: 0 or a 20-digit one is a 404
    app.url_map.converters["int"] = guards.IdConverter
    app.json.sort_keys = False
    app.session_interface = ServerSideSessions()

    sqlite.configure(app.config)
    db.init_app(app)
    with app.app_context():
        sqlite.harden(db.engine)
    writes.init_app(db.session)
    # after a write's commit (services/writes.py): the alert rules judge the
    # new data, and the other side of a thread hears of a new message
    writes.data_stored.connect(alerts.judge_new_data)
    writes.data_stored.connect(notices.tell_about_messages)
    _trust_proxy(app)
    guards.init_app(app)  # first: before any extension reads a request
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    login_manager.init_app(app)
    # the server-side session row is the control (backend/sessions.py)
    login_manager.session_protection = None
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
    i18n.init_app(app)
    extensions.api.init_app(app)
    extensions.api.register_converter(guards.IdConverter, guards.id_parameter)

    from backend.models.base import field_keys
    from backend.services.passwords import Passwords

    app.extensions["homeward_fields"] = field_keys(app.config["FIELD_ENCRYPTION_KEYS"])

    app.extensions["homeward_passwords"] = Passwords(
        app.config["ARGON2_TIME_COST"],
        app.config["ARGON2_MEMORY_COST"],
        app.config["ARGON2_PARALLELISM"],
    )

    _register_auth(app)
    _register_errors(app)

    from backend.api import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        extensions.api.register_blueprint(blueprint)

    from backend.api import audit, media
    from backend.api import jobs as job_views
    from backend.services import jobs

    audit.install(app)
    # what the worker's jobs may read and how their rows look (api/jobs.py)
    jobs.init_app(app, job_views.job_patients, job_views.dump_report_row)
    app.register_blueprint(media.bp)  # files, not API: not in the OpenAPI document

    from backend.web import init_web

    init_web(app)

    from backend.cli import register_commands

    register_commands(app)
    return app


def _trust_proxy(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address and scheme from it."""
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )


def _register_auth(app: Flask) -> None:
    from backend.access import load_user, script_admin

    @login_manager.user_loader
    def user_from_session(user_id: str):
        return load_user(int(user_id)) if user_id.isdigit() else None

    @login_manager.request_loader
    def load_user_from_token(request):
        """`Authorization: Bearer <token>` signs in a script, on the endpoints
        of its token's scope (backend/access.py judges)."""
        header = request.headers.get("Authorization", "")
        if not request.path.startswith("/api/") or not header.startswith("Bearer "):
            return None
        return script_admin(header.removeprefix("Bearer ").strip())

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask_smorest import abort

        abort(401, message=_("Sign in first."))

    @app.before_request
    def check_csrf():
        """Every cookie-authenticated write under /api needs the X-CSRF-Token header."""
        if request.method in UNSAFE_METHODS and request.path.startswith("/api/"):
            try:
                csrf.protect()
            except CSRFError:
                g.csrf_refused = True  # audited (api/audit.py)
                raise


UNAVAILABLE = _l("Homeward is briefly unavailable: try again in a moment.")
RETRY_AFTER_SECONDS = 5


def database_unreachable(error: BaseException | None) -> bool:
    """The database refused, dropped or timed out (not a bug in a query): the
    error is the outage's, and the request may be tried again soon."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        (
            sqlalchemy.exc.OperationalError,  # refused, dropped, statement_timeout
            sqlalchemy.exc.TimeoutError,  # no free connection in the pool
            sqlalchemy.exc.DisconnectionError,
            psycopg.OperationalError,
        ),
    )


def _unavailable(error: BaseException):
    """503 with Retry-After, in the API's one error format; no trace leaves."""
    log.warning(
        "database unreachable on %s %s: %s",
        request.method,
        request.path,
        str(error).splitlines()[0] if str(error) else type(error).__name__,
    )
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()
    # no account can be read now (the session may not even be open): the
    # browser's language, without asking the locale selector
    with force_locale(i18n.browser_language() or i18n.DEFAULT_LANGUAGE):
        message = str(UNAVAILABLE)
    refusal = ServiceUnavailable(message)
    refusal.data = {
        "message": message,
        "headers": {"Retry-After": str(RETRY_AFTER_SECONDS)},
    }
    return extensions.api.handle_http_exception(refusal)


def _register_errors(app: Flask) -> None:
    def keep_retry_after(response):
        """Flask-Limiter sets its own Retry-After on the routes it counts: a
        503 keeps ours. First in the list, so it runs after every other hook."""
        if response.status_code == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    app.after_request_funcs.setdefault(None, []).insert(0, keep_retry_after)

    def session_unreadable():
        """The database failed while opening the session (sessions.py):
        that is this request's answer."""
        if (error := g.pop("session_unreadable", None)) is not None:
            raise error

    app.before_request_funcs.setdefault(None, []).insert(0, session_unreadable)

    # Flask makes an error outside the view (opening the session, an
    # after_request hook) an InternalServerError: one handler for both
    @app.errorhandler(InternalServerError)
    @app.errorhandler(Exception)
    def unexpected(error):
        cause = getattr(error, "original_exception", None) or error
        if database_unreachable(cause):
            return _unavailable(cause)
        if isinstance(error, HTTPException):
            return extensions.api.handle_http_exception(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return extensions.api.handle_http_exception(InternalServerError())
