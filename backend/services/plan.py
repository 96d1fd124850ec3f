"""The patient's view of their plan beyond today: the week (what is due on
which day, what was done), and what changed when their programme did.

Both use the two rules in models/programmes.py (`in_force_on`, `due_on`) on
loaded versions, and count sessions done as adherence does: a day's ticks of
an exercise, at most as many as are due.
"""

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select

from backend.extensions import db
from backend.models import Exercise, ExerciseLog, ProgrammeItem, ProgrammeVersion
from backend.models.programmes import days_of_week, sessions_done
from backend.services.library import in_language

DOSE = ("sets", "reps", "hold_seconds", "times_per_day", "days_of_week")
ITEM_COLUMNS = (
    "exercise_id",
    "sets",
    "reps",
    "hold_seconds",
    "times_per_day",
    "weekday_mask",
    "notes",
)


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
                    "done": sessions_done(done, item.times_per_day),
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


# both versions' items with their exercises' names, as rows (built once: every
# routine runs it until the patient has seen the change); a version without
# items is one row of Nones
_TWO_VERSIONS = (
    select(
        ProgrammeVersion.version,
        ProgrammeVersion.starts_on,
        ProgrammeVersion.note,
        *(getattr(ProgrammeItem, name) for name in ITEM_COLUMNS),
        Exercise.name,
        Exercise.translations,
    )
    .outerjoin(ProgrammeItem, ProgrammeItem.programme_id == ProgrammeVersion.id)
    .outerjoin(Exercise, Exercise.id == ProgrammeItem.exercise_id)
    .where(
        ProgrammeVersion.patient_id == bindparam("patient_id"),
        ProgrammeVersion.version.between(bindparam("previous"), bindparam("version")),
    )
    .order_by(ProgrammeVersion.version, ProgrammeItem.position)
)


def _dose(item) -> dict:
    """An item's dose in the API's form (an item, or a row of its columns)."""
    dose = {name: getattr(item, name) for name in DOSE if name != "days_of_week"}
    return dose | {"days_of_week": days_of_week(item.weekday_mask)}


def change_to(patient_id: int, version: int) -> dict | None:
    """What changed from the version before `version` to it: exercises added,
    removed and those whose dose changed (before and after), with the new
    version's note. None for a first version."""
    if version < 2:
        return None
    rows = db.session.execute(
        _TWO_VERSIONS,
        {"patient_id": patient_id, "previous": version - 1, "version": version},
    ).all()
    items = {version - 1: {}, version: {}}
    for row in rows:
        if row.exercise_id is not None:  # a version without items has one row
            items[row.version][row.exercise_id] = row
    new = next((row for row in rows if row.version == version), None)
    if new is None or not any(row.version == version - 1 for row in rows):
        return None
    before, after = items[version - 1], items[version]

    def named(item):
        return {"exercise_id": item.exercise_id, "name": in_language(item, "name")}

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


def _notes_changed(old, new) -> dict:
    return {"notes": new.notes} if old.notes != new.notes else {}


def latest_version(patient_id: int) -> int | None:
    return db.session.scalar(
        select(func.max(ProgrammeVersion.version)).where(
            ProgrammeVersion.patient_id == patient_id
        )
    )
