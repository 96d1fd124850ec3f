"""The shipped exercise library, kept in `backend/seed/exercises.json`."""

import json
from pathlib import Path

from flask_babel import get_locale
from sqlalchemy import select

from backend.extensions import db
from backend.i18n import DEFAULT_LANGUAGE
from backend.models import Exercise

LIBRARY_FILE = Path(__file__).resolve().parent.parent / "seed" / "exercises.json"


def load_library_file(path: Path = LIBRARY_FILE) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def sync_library(path: Path = LIBRARY_FILE) -> int:
    """Insert or update the shipped entries by slug; returns how many are new.

    Idempotent: running it again changes nothing. The caller commits.
    """
    existing = {
        exercise.slug: exercise
        for exercise in db.session.scalars(
            select(Exercise).where(Exercise.slug.is_not(None))
        )
    }
    added = 0
    for entry in load_library_file(path):
        exercise = existing.get(entry["slug"])
        if exercise is None:
            db.session.add(Exercise(clinic_id=None, **entry))
            added += 1
        else:
            for field, value in entry.items():
                setattr(exercise, field, value)
    return added


def in_language(exercise, field: str, english: str | None = None) -> str | None:
    """An exercise's `field` (a model, a row of its columns, or a dict as
    ExerciseSchema dumps them) in the language being spoken, when it has that
    translation; else the English: `english` (the drawing's alt text) or the
    field's own value."""
    if english is None and field != "alt":
        english = _value(exercise, field)
    language = _spoken()
    if language == DEFAULT_LANGUAGE:
        return english
    translations = _value(exercise, "translations") or {}
    return (translations.get(language) or {}).get(field) or english


def stored_words(exercise) -> dict | None:
    """The English name and instructions as stored, while another language is
    spoken (what an editor changes); None in English."""
    if _spoken() == DEFAULT_LANGUAGE:
        return None
    return {field: _value(exercise, field) for field in ("name", "instructions")}


def _spoken() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def _value(exercise, field: str):
    if isinstance(exercise, dict):
        return exercise.get(field)
    return getattr(exercise, field, None)
