"""A patient's routine for one day: what is due, what is done, how the pain was.

This answers every time the patient app opens, and it is the hottest read of
the API (bench/load_bench.py), so it is built for speed:
- three SELECTs (the programme in force with its items and exercises; the
  day's live ticks; the day's pain), each built once at import with bound
  parameters and run as `Prepared` statements (backend/prepared.py), so a
  request pays neither statement construction nor SQLAlchemy's execution;
- the answer is built directly in its wire form (ISO dates, string UUIDs), the
  exact output `RoutineSchema().dump` would give (tests/test_logs.py checks
  that), so the view can skip marshmallow's dump.
"""

from collections import Counter
from datetime import date

from sqlalchemy import bindparam, or_, select

from backend.models import Exercise, ExerciseLog, PainLog, ProgrammeItem
from backend.models import ProgrammeVersion as Version
from backend.prepared import Prepared

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
ITEM_FIELDS = ("exercise_id", "sets", "reps", "hold_seconds", "times_per_day", "notes")
# what the routine shows of a tick and of a pain entry: the client's fields
# (the models' CONTENT_FIELDS) between the id and the server's timestamps
TICK_FIELDS = ("id", *ExerciseLog.CONTENT_FIELDS, "created_at", "deleted_at")
PAIN_FIELDS = ("id", *PainLog.CONTENT_FIELDS, "created_at")

_PATIENT = bindparam("patient_id")
_DAY = bindparam("day")

_IN_FORCE = (
    select(Version.id)
    .where(
        Version.patient_id == _PATIENT,
        Version.starts_on <= _DAY,
        or_(Version.ends_on.is_(None), Version.ends_on >= _DAY),
    )
    .order_by(Version.version.desc())
    .limit(1)
    .scalar_subquery()
)
PROGRAMME = Prepared(
    select(
        Version.id.label("programme_id"),
        Version.version,
        ProgrammeItem.weekday_mask,
        *(getattr(ProgrammeItem, name) for name in ITEM_FIELDS),
        *(getattr(Exercise, name).label(f"library_{name}") for name in EXERCISE_FIELDS),
    )
    .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
    .join(Exercise, Exercise.id == ProgrammeItem.exercise_id)
    .where(Version.id == _IN_FORCE)
    .order_by(ProgrammeItem.position)
)
TICKS = Prepared(
    select(*(getattr(ExerciseLog, name) for name in TICK_FIELDS))
    .where(
        ExerciseLog.patient_id == _PATIENT,
        ExerciseLog.performed_on == _DAY,
        ExerciseLog.deleted_at.is_(None),
    )
    .order_by(ExerciseLog.created_at)
)
PAIN = Prepared(
    select(*(getattr(PainLog, name) for name in PAIN_FIELDS))
    .where(PainLog.patient_id == _PATIENT, PainLog.logged_on == _DAY)
    .order_by(PainLog.created_at)
)


def wire(value):
    """A column value as marshmallow's dump writes it: ISO dates, UUIDs as text."""
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return str(value)  # uuid.UUID


def _records(rows: list[dict]) -> list[dict]:
    return [{name: wire(value) for name, value in row.items()} for row in rows]


def routine_for(patient_id: int, day: date) -> dict:
    """The routine in its wire form (the fields of `RoutineSchema` but `today`)."""
    params = {"patient_id": patient_id, "day": day}
    rows = PROGRAMME.all(params)
    ticks = _records(TICKS.all(params))
    done = Counter(tick["exercise_id"] for tick in ticks)
    weekday_bit = 1 << day.weekday()
    items = []
    for row in rows:
        if not row["weekday_mask"] & weekday_bit:
            continue
        item = {name: row[name] for name in ITEM_FIELDS}
        item["exercise"] = {name: row[f"library_{name}"] for name in EXERCISE_FIELDS}
        item["sessions_due"] = row["times_per_day"]
        item["sessions_done"] = min(row["times_per_day"], done[row["exercise_id"]])
        items.append(item)
    return {
        "date": day.isoformat(),
        "programme_id": rows[0]["programme_id"] if rows else None,
        "programme_version": rows[0]["version"] if rows else None,
        "items": items,
        "pain": _records(PAIN.all(params)),
        "exercise_logs": ticks,
    }
