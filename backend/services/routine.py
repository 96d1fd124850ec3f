"""A patient's routine for one day: what is due, what is done, how the pain was.

This answers every time the patient app opens, so it is three plain SELECTs
(the programme in force with its items and exercises; the day's ticks; the
day's pain) returning rows, not ORM objects.
"""

from collections import Counter
from datetime import date

from sqlalchemy import or_, select

from backend.extensions import db
from backend.models import Exercise, ExerciseLog, PainLog, ProgrammeItem
from backend.models import ProgrammeVersion as Version

EXERCISE_FIELDS = (
    "id",
    "name",
    "category",
    "body_region",
    "instructions",
    "media_url",
    "default_sets",
    "default_reps",
    "default_hold_seconds",
    "clinic_id",
)


def _programme_rows(patient_id: int, day: date):
    in_force = (
        select(Version.id)
        .where(
            Version.patient_id == patient_id,
            Version.starts_on <= day,
            or_(Version.ends_on.is_(None), Version.ends_on >= day),
        )
        .order_by(Version.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    exercise_columns = [
        getattr(Exercise, name).label(f"exercise_{name}") for name in EXERCISE_FIELDS
    ]
    return db.session.execute(
        select(
            Version.id.label("programme_id"),
            Version.version,
            ProgrammeItem.exercise_id,
            ProgrammeItem.sets,
            ProgrammeItem.reps,
            ProgrammeItem.hold_seconds,
            ProgrammeItem.times_per_day,
            ProgrammeItem.weekday_mask,
            ProgrammeItem.notes,
            *exercise_columns,
        )
        .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
        .join(Exercise, Exercise.id == ProgrammeItem.exercise_id)
        .where(Version.id == in_force)
        .order_by(ProgrammeItem.position)
    ).all()


def _day_rows(table, day_column, patient_id: int, day: date, *where):
    return db.session.execute(
        select(table)
        .where(table.c.patient_id == patient_id, day_column == day, *where)
        .order_by(table.c.created_at)
    ).all()


def routine_for(patient_id: int, day: date) -> dict:
    rows = _programme_rows(patient_id, day)
    ticks = _day_rows(
        ExerciseLog.__table__,
        ExerciseLog.performed_on,
        patient_id,
        day,
        ExerciseLog.deleted_at.is_(None),
    )
    done = Counter(tick.exercise_id for tick in ticks)
    weekday_bit = 1 << day.weekday()
    items = [
        {
            "exercise": {
                name: row._mapping[f"exercise_{name}"] for name in EXERCISE_FIELDS
            },
            "exercise_id": row.exercise_id,
            "sets": row.sets,
            "reps": row.reps,
            "hold_seconds": row.hold_seconds,
            "times_per_day": row.times_per_day,
            "notes": row.notes,
            "sessions_due": row.times_per_day,
            "sessions_done": min(row.times_per_day, done[row.exercise_id]),
        }
        for row in rows
        if row.weekday_mask & weekday_bit
    ]
    return {
        "date": day,
        "programme_id": rows[0].programme_id if rows else None,
        "programme_version": rows[0].version if rows else None,
        "items": items,
        "pain": _day_rows(PainLog.__table__, PainLog.logged_on, patient_id, day),
        "exercise_logs": ticks,
    }
