"""The patient's view of their plan beyond today: the week (what is due on
which day, what was done), and what changed when their programme did.

Both use the two rules in models/programmes.py (`in_force_on`, `due_on`) on
loaded versions, and count sessions done as adherence does: a day's ticks of
an exercise, at most as many as are due.
"""

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import ExerciseLog, ProgrammeItem, ProgrammeVersion
from backend.services.library import in_language

DOSE = ("sets", "reps", "hold_seconds", "times_per_day", "days_of_week")


def week_of(patient_id: int, day: date, today: date) -> dict:
    """The ISO week (Monday to Sunday) that holds `day`: per day, each
    exercise due with sessions due and done, and the day's totals."""
    start = day - timedelta(days=day.weekday())
    end = start + timedelta(days=6)
    versions = db.session.scalars(
        select(ProgrammeVersion)
        .where(
            ProgrammeVersion.patient_id == patient_id,
            ProgrammeVersion.in_force_between(start, end),
        )
        .order_by(ProgrammeVersion.starts_on)
    ).all()
    ticks = Counter(
        {
            (row.performed_on, row.exercise_id): row.ticks
            for row in db.session.execute(
                select(
                    ExerciseLog.performed_on,
                    ExerciseLog.exercise_id,
                    func.count().label("ticks"),
                )
                .where(
                    ExerciseLog.patient_id == patient_id,
                    ExerciseLog.deleted_at.is_(None),
                    ExerciseLog.performed_on.between(start, min(end, today)),
                )
                .group_by(ExerciseLog.performed_on, ExerciseLog.exercise_id)
            )
        }
    )
    exercises: dict[int, str] = {}
    days = []
    for offset in range(7):
        current = start + timedelta(days=offset)
        version = next((v for v in versions if v.in_force_on(current)), None)
        items = []
        for item in version.items if version else []:
            if not item.due_on(current):
                continue
            exercises.setdefault(item.exercise_id, in_language(item.exercise, "name"))
            done = ticks[(current, item.exercise_id)] if current <= today else 0
            items.append(
                {
                    "exercise_id": item.exercise_id,
                    "due": item.times_per_day,
                    "done": min(done, item.times_per_day),
                }
            )
        days.append(
            {
                "date": current,
                "due": sum(i["due"] for i in items),
                "done": sum(i["done"] for i in items),
                "items": items,
            }
        )
    return {
        "start": start,
        "today": today,
        "exercises": [{"id": i, "name": name} for i, name in exercises.items()],
        "days": days,
    }


def _dose(item: ProgrammeItem) -> dict:
    return {name: getattr(item, name) for name in DOSE}


def change_to(patient_id: int, version: int) -> dict | None:
    """What changed from the version before `version` to it: exercises added,
    removed and those whose dose changed (before and after), with the new
    version's note. None for a first version."""
    if version < 2:
        return None
    new, old = (
        db.session.scalar(
            select(ProgrammeVersion).where(
                ProgrammeVersion.patient_id == patient_id,
                ProgrammeVersion.version == number,
            )
        )
        for number in (version, version - 1)
    )
    if new is None or old is None:
        return None
    before = {item.exercise_id: item for item in old.items}
    after = {item.exercise_id: item for item in new.items}

    def named(item):
        return {
            "exercise_id": item.exercise_id,
            "name": in_language(item.exercise, "name"),
        }

    return {
        "version": new.version,
        "starts_on": new.starts_on,
        "note": new.note,
        "added": [named(item) for i, item in after.items() if i not in before],
        "removed": [named(item) for i, item in before.items() if i not in after],
        "changed": [
            named(item)
            | {"before": _dose(before[i]), "after": _dose(item)}
            | _notes_changed(before[i], item)
            for i, item in after.items()
            if i in before
            and (_dose(before[i]) != _dose(item) or before[i].notes != item.notes)
        ],
    }


def _notes_changed(old: ProgrammeItem, new: ProgrammeItem) -> dict:
    return {"notes": new.notes} if old.notes != new.notes else {}


def latest_version(patient_id: int) -> int | None:
    return db.session.scalar(
        select(func.max(ProgrammeVersion.version)).where(
            ProgrammeVersion.patient_id == patient_id
        )
    )
