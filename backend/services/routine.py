"""A patient's routine for one day: what is due, what is done, how the pain was."""

from collections import Counter
from datetime import date

from backend.models import ExerciseLog, PainLog
from backend.services.logs import logs_between
from backend.services.programmes import version_in_force


def routine_for(patient_id: int, day: date) -> dict:
    version = version_in_force(patient_id, day)
    exercise_logs = logs_between(
        ExerciseLog, ExerciseLog.performed_on, patient_id, day, day
    )
    done = Counter(log.exercise_id for log in exercise_logs)
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
        if item.is_due_on(day)
    ]
    return {
        "date": day,
        "programme_id": version.id if version else None,
        "programme_version": version.version if version else None,
        "items": items,
        "pain": logs_between(PainLog, PainLog.logged_on, patient_id, day, day),
        "exercise_logs": exercise_logs,
    }
