"""Which language Homeward speaks to whom (Flask-Babel, catalogs in
translations/): the signed-in user's choice, else the browser's
Accept-Language, else their clinic's default, else English. Mail, reminders
and the handout speak the recipient's language (`speaking`)."""

from contextlib import AbstractContextManager
from pathlib import Path

from flask import has_request_context, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import Babel, force_locale, get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from backend.extensions import db
from backend.models import Clinic

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

babel = Babel()


def clinic_language(user) -> str:
    """The default language of the user's clinic (by id: the user may be
    detached from the session while a streamed answer is written)."""
    return db.session.get(Clinic, user.clinic_id).default_language


def chosen_language(user) -> str:
    """The language the user picked, or their clinic's default (no request)."""
    return user.language or clinic_language(user)


def request_language() -> str:
    """The language of this request (Flask-Babel's locale selector)."""
    user = _signed_in_user()
    if user is not None and user.language in LANGUAGES:
        return user.language
    browser = browser_language()
    if browser:
        return browser
    clinic = clinic_language(user) if user is not None else None
    return clinic if clinic in LANGUAGES else DEFAULT_LANGUAGE


def browser_language() -> str | None:
    """The best of LANGUAGES by this request's Accept-Language, if any. Also
    for answers written when no account can be read (the database is down)."""
    if not has_request_context():
        return None
    return request.accept_languages.best_match(LANGUAGES)


def _signed_in_user():
    """Who is signed in on this request, if anyone (None outside requests)."""
    if not has_request_context():
        return None
    try:
        return current_user if current_user.is_authenticated else None
    except SQLAlchemyError:  # the database is down: the browser's language
        return None


def speaking(user) -> AbstractContextManager:
    """Outside the user's own request (mail, push, the worker, a handout
    printed by staff): speak the user's language."""
    language = chosen_language(user)
    return force_locale(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def _json_default(value):
    """A lazily translated message (schemas' messages) is text in JSON."""
    if isinstance(value, LazyString):
        return str(value)
    return DefaultJSONProvider.default(value)


def init_app(app) -> None:
    app.json.default = _json_default
    app.jinja_env.globals["get_locale"] = get_locale
    babel.init_app(
        app,
        locale_selector=request_language,
        default_translation_directories=str(
            Path(app.root_path).parent / "translations"
        ),
    )
