"""One blueprint per resource, all under /api."""

from backend.api import (
    alerts,
    audit,
    auth,
    clinic,
    exercises,
    flare_ups,
    jobs,
    logs,
    messages,
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
    flare_ups.blp,
    messages.blp,
    progress.blp,
    reminders.blp,
    reports.blp,
    jobs.blp,
    alerts.blp,
    tokens.blp,
    audit.blp,
]
