"""A patient's routine for one day: what is due, what is done, how the pain was.

The hottest read of the API (every time the patient app opens): three
SELECTs, the programme in force with its items and their exercises in one,
the day's live ticks, the day's pain.
"""

from collections import Counter
from datetime import date

from sqlalchemy import select

from backend.extensions import db
from backend.models import ExerciseLog, PainLog
from backend.services.programmes import version_in_force


def day_logs(model, day_column, patient_id: int, day: date) -> list:
    """One patient's records of one day in the order they were made; live
    ticks only."""
    query = select(model).where(model.patient_id == patient_id, day_column == day)
    if model is ExerciseLog:
        query = query.where(ExerciseLog.deleted_at.is_(None))
    return list(db.session.scalars(query.order_by(model.created_at)))


def routine_for(patient_id: int, day: date) -> dict:
    """The routine in the shape of `RoutineSchema` (without `today`)."""
    version = version_in_force(patient_id, day)
    ticks = day_logs(ExerciseLog, ExerciseLog.performed_on, patient_id, day)
    done = Counter(tick.exercise_id for tick in ticks)
    items = [
        {
            "exercise": item.exercise,
            "exercise_id": item.exercise_id,
            "sets": item.sets,
            "reps": item.reps,
            "hold_seconds": item.hold_seconds,
            "times_per_day": item.times_per_day,
            "notes": item.notes,
            "sessions_due": item.times_per_day,
            "sessions_done": min(item.times_per_day, done[item.exercise_id]),
        }
        for item in (version.items if version else [])
        if item.due_on(day)
    ]
    return {
        "date": day,
        "programme_id": version.id if version else None,
        "programme_version": version.version if version else None,
        "items": items,
        "pain": day_logs(PainLog, PainLog.logged_on, patient_id, day),
        "exercise_logs": ticks,
    }
