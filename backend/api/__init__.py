"""One blueprint per resource, all under /api."""

from backend.api import (
    audit,
    auth,
    clinic,
    exercises,
    logs,
    patients,
    programmes,
    progress,
    reminders,
    reports,
    staff,
    tokens,
)

BLUEPRINTS = [
    auth.blp,
    staff.blp,
    clinic.blp,
    patients.blp,
    exercises.blp,
    programmes.blp,
    logs.blp,
    progress.blp,
    reminders.blp,
    reports.blp,
    tokens.blp,
    audit.blp,
]
