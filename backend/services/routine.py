"""A patient's routine for one day: what is due, what is done, how the pain was.

The hottest read of the API (every time the patient app opens): three
SELECTs built once, the items of the programme in force with their exercises
(as plain rows: the routine only shows them), the day's live ticks, the day's
pain.
"""

from collections import Counter
from datetime import date

from sqlalchemy import bindparam, select

from backend.extensions import db
from backend.models import Exercise, ProgrammeItem
from backend.models import ProgrammeVersion as Version
from backend.services.logs import EXERCISE_LOG, PAIN_LOG, logs_between

ITEM_FIELDS = ("exercise_id", "sets", "reps", "hold_seconds", "times_per_day", "notes")
_DAY = bindparam("day")
_ITEMS = (
    select(
        Version.id.label("programme_id"),
        Version.version,
        ProgrammeItem.due_on(_DAY).label("due"),
        *(getattr(ProgrammeItem, name) for name in ITEM_FIELDS),
        *(column.label(f"library_{column.key}") for column in Exercise.__table__.c),
    )
    .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
    .join(Exercise, Exercise.id == ProgrammeItem.exercise_id)
    .where(Version.patient_id == bindparam("patient_id"), Version.in_force_on(_DAY))
    .order_by(ProgrammeItem.position)
)
_EXERCISE_COLUMNS = [column.key for column in Exercise.__table__.c]


def routine_for(patient_id: int, day: date) -> dict:
    """The routine in the shape of `RoutineSchema` (without `today`)."""
    params = {"patient_id": patient_id, "day": day}
    rows = db.session.connection().execute(_ITEMS, params).all()
    ticks = logs_between(EXERCISE_LOG, patient_id, day, day)
    done = Counter(tick.exercise_id for tick in ticks)
    items = [
        {name: getattr(row, name) for name in ITEM_FIELDS}
        | {
            "exercise": {
                name: getattr(row, f"library_{name}") for name in _EXERCISE_COLUMNS
            },
            "sessions_due": row.times_per_day,
            "sessions_done": min(row.times_per_day, done[row.exercise_id]),
        }
        for row in rows
        if row.due
    ]
    return {
        "date": day,
        "programme_id": rows[0].programme_id if rows else None,
        "programme_version": rows[0].version if rows else None,
        "items": items,
        "pain": logs_between(PAIN_LOG, patient_id, day, day),
        "exercise_logs": ticks,
    }
