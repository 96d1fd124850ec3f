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
    reports.blp,
    tokens.blp,
    audit.blp,
]
