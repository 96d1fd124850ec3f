"""The shipped exercise library, kept in `backend/seed/exercises.json`."""

import json
from pathlib import Path

from sqlalchemy import select

from backend.extensions import db
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
