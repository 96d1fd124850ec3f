"""What a therapist is told about a patient at a glance, each defined once:
the patient list's flags and the alert rules read the same definitions here.

- **Logged**: a live tick or a pain check-in, on the day it was for
  (`last_logged`).
- **Inactive**: each of the last `days` full days (today not counted) had
  exercises due, and nothing was logged since the first of them. `days` is
  the clinic's setting of the `inactive` alert rule (3 unless the clinic
  changed it): the list's flag and the alert agree.
"""

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Select, func, select

from backend.extensions import db
from backend.models import ExerciseLog, PainLog, User

DEFAULT_INACTIVE_DAYS = 3


def inactive(
    today: date, days: int, due_on: Callable[[date], int], last: date | None
) -> bool:
    """Whether a patient is inactive on `today` (see above): `due_on(day)`
    gives the sessions due on a day, `last` the last day they logged."""
    first = today - timedelta(days=days)
    every_day_due = all(due_on(first + timedelta(days=n)) > 0 for n in range(days))
    return every_day_due and (last is None or last < first)


def last_logged(patient_ids: Select) -> dict[int, date]:
    """{patient id: the last day they ticked or checked in}: one index probe
    per patient and kind (the newest first), however long their history."""
    last_tick = (
        select(func.max(ExerciseLog.performed_on))
        .where(ExerciseLog.patient_id == User.id, ExerciseLog.deleted_at.is_(None))
        .scalar_subquery()
    )
    last_pain = (
        select(func.max(PainLog.logged_on))
        .where(PainLog.patient_id == User.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(User.id, last_tick, last_pain).where(User.id.in_(patient_ids))
    )
    return {
        patient_id: max(day for day in days if day is not None)
        for patient_id, *days in rows
        if any(day is not None for day in days)
    }
