"""One blueprint per resource, all under /api."""

from backend.api import auth, exercises, logs, patients, programmes, staff

BLUEPRINTS = [
    auth.blp,
    staff.blp,
    patients.blp,
    exercises.blp,
    programmes.blp,
    logs.blp,
]
