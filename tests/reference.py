"""A deliberately naive reference implementation of the contract's adherence
definition, straight from the ORM objects, for checking the SQL engine."""

from datetime import date, timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.models import ExerciseLog, ProgrammeVersion


def reference_totals(patient_id: int, start: date, end: date, today: date):
    """{day: (due, done)} for days with something due, computed the slow way."""
    versions = db.session.scalars(
        select(ProgrammeVersion).where(ProgrammeVersion.patient_id == patient_id)
    ).all()
    logs = db.session.scalars(
        select(ExerciseLog).where(
            ExerciseLog.patient_id == patient_id, ExerciseLog.deleted_at.is_(None)
        )
    ).all()
    totals = {}
    day = start
    while day <= min(end, today):
        in_force = [
            v
            for v in versions
            if v.starts_on <= day and (v.ends_on is None or v.ends_on >= day)
        ]
        due = done = 0
        for version in in_force:
            for item in version.items:
                if not item.weekday_mask >> day.weekday() & 1:  # bit 0 = Monday
                    continue
                ticks = sum(
                    1
                    for log in logs
                    if log.performed_on == day and log.exercise_id == item.exercise_id
                )
                due += item.times_per_day
                done += min(item.times_per_day, ticks)
        if due:
            totals[day] = (due, done)
        day += timedelta(days=1)
    return totals
