"""A patient's routine for one day: what is due, what is done, how the pain was.

The hottest read of the API (every time the patient app opens): three
SELECTs built once, the items of the programme in force with their exercises
and the clinic's media of them (as plain rows: the routine only shows them),
the day's live ticks, the day's pain.
"""

from collections import Counter
from datetime import date

from sqlalchemy import bindparam, select

from backend.extensions import db
from backend.models import Exercise, ExerciseMedia, ProgrammeItem
from backend.models import ProgrammeVersion as Version
from backend.models.programmes import sessions_done
from backend.services import media
from backend.services.logs import EXERCISE_LOG, PAIN_LOG, logs_between

ITEM_FIELDS = ("exercise_id", "sets", "reps", "hold_seconds", "times_per_day", "notes")
_DAY = bindparam("day")
_ITEMS = (
    select(
        Version.id.label("programme_id"),
        Version.version,
        ProgrammeItem.id.label("item_id"),
        ProgrammeItem.due_on(_DAY).label("due"),
        *(getattr(ProgrammeItem, name) for name in ITEM_FIELDS),
        *(column.label(f"library_{column.key}") for column in Exercise.__table__.c),
        *(column.label(f"media_{column.key}") for column in ExerciseMedia.__table__.c),
    )
    .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
    .join(Exercise, Exercise.id == ProgrammeItem.exercise_id)
    # one row per item and medium of it (most exercises have none)
    .outerjoin(
        ExerciseMedia,
        (ExerciseMedia.exercise_id == ProgrammeItem.exercise_id) & media.OF_THE_CLINIC,
    )
    .where(Version.patient_id == bindparam("patient_id"), Version.in_force_on(_DAY))
    .order_by(ProgrammeItem.position, ProgrammeItem.id, *media.ORDER)
)
_EXERCISE_COLUMNS = [column.key for column in Exercise.__table__.c]
_MEDIA_COLUMNS = [column.key for column in ExerciseMedia.__table__.c]


def routine_for(patient_id: int, clinic_id: int, day: date) -> dict:
    """The routine in the shape of `RoutineSchema` (without `today`), each
    exercise with the clinic's pictures and video of it."""
    params = {"patient_id": patient_id, "clinic_id": clinic_id, "day": day}
    rows = db.session.connection().execute(_ITEMS, params).all()
    ticks = logs_between(EXERCISE_LOG, patient_id, day, day)
    done = Counter(tick.exercise_id for tick in ticks)
    items, last = [], None
    for row in rows:
        if not row.due:
            continue
        if row.item_id == last:  # the same item, with another medium
            items[-1]["exercise"]["media"].append(_medium(row))
            continue
        last = row.item_id
        exercise = {name: getattr(row, f"library_{name}") for name in _EXERCISE_COLUMNS}
        exercise["media"] = [_medium(row)] if row.media_id is not None else []
        items.append(
            {name: getattr(row, name) for name in ITEM_FIELDS}
            | {
                "exercise": exercise,
                "sessions_due": row.times_per_day,
                "sessions_done": sessions_done(
                    done[row.exercise_id], row.times_per_day
                ),
            }
        )
    return {
        "date": day,
        "programme_id": rows[0].programme_id if rows else None,
        "programme_version": rows[0].version if rows else None,
        "items": items,
        "pain": logs_between(PAIN_LOG, patient_id, day, day),
        "exercise_logs": ticks,
    }


def _medium(row) -> dict:
    return {name: getattr(row, f"media_{name}") for name in _MEDIA_COLUMNS}
