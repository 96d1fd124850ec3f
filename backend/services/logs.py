"""Storing exercise ticks and pain check-ins idempotently, and undoing ticks.

A record's UUID comes from the client. Sending it again with the same content
is a replay (`duplicate`, nothing changes); with other content it is a
`conflict`. `sync_batch` judges every record of an offline outbox on its own.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.models import Exercise, ExerciseLog, PainLog
from backend.prepared import Prepared
from backend.services.adherence import raise_done, refresh_done
from backend.services.dates import now_utc

OLDEST_LOG_DAYS = 366  # an outbox older than a year is a bug, not a patient


@dataclass
class Outcome:
    id: uuid.UUID | str | None
    kind: str
    status: str  # created | duplicate | conflict | invalid
    record: Row | SimpleNamespace | None = None  # the stored log's columns
    errors: dict = field(default_factory=dict)


def check_day(field_name: str, day: date, today: date) -> dict:
    """Errors for a log date in the patient's future or implausibly old."""
    if day > today:
        return {field_name: [f"Must not be after the patient's today ({today})."]}
    if day < today - timedelta(days=OLDEST_LOG_DAYS):
        return {field_name: [f"Must not be more than {OLDEST_LOG_DAYS} days ago."]}
    return {}


# Every tick runs these: Core statements built once, no ORM unit of work; the
# single tick's ones are prepared (backend/prepared.py).
_IDS = bindparam("ids", expanding=True)
_OF_CLINIC = Exercise.clinic_id.is_(None) | (
    Exercise.clinic_id == bindparam("clinic_id")
)
LOGGABLE = select(Exercise.id).where(Exercise.id.in_(_IDS), _OF_CLINIC)
LOGGABLE_ONE = Prepared(
    select(Exercise.id).where(Exercise.id == bindparam("exercise_id"), _OF_CLINIC)
)
MODELS = {"exercise_log": ExerciseLog, "pain_log": PainLog}
TABLES = {kind: model.__table__ for kind, model in MODELS.items()}
STORED = {
    kind: select(table).where(table.c.id.in_(_IDS)) for kind, table in TABLES.items()
}
STORED_ONE = {
    kind: Prepared(select(table).where(table.c.id == bindparam("id")))
    for kind, table in TABLES.items()
}
INSERT = {kind: Prepared(insert(table)) for kind, table in TABLES.items()}
# A new row is inserted with every column given (NULL for what the client left
# out), so a column default would never apply: created_at, the only one, is set
# by _plan. Refuse to start if a later column brings a default of its own.
_DEFAULTED = {
    f"{table.name}.{column.key}"
    for table in TABLES.values()
    for column in table.c
    if column.default is not None or column.server_default is not None
}
if _DEFAULTED != {"exercise_logs.created_at", "pain_logs.created_at"}:
    raise RuntimeError(f"services/logs.py does not fill in defaults: {_DEFAULTED}")
_LOGS = TABLES["exercise_log"]
UNDONE = (
    update(_LOGS)
    .where(_LOGS.c.id.in_(_IDS), _LOGS.c.deleted_at.is_(None))
    .values(deleted_at=bindparam("deleted_at"))
)


def unknown_exercises(exercise_ids: set[int], clinic_id: int) -> set[int]:
    """The ids in `exercise_ids` that this clinic's patients cannot log."""
    if not exercise_ids:
        return set()
    if len(exercise_ids) == 1:  # a single tick: one prepared lookup
        [exercise_id] = exercise_ids
        params = {"exercise_id": exercise_id, "clinic_id": clinic_id}
        return set() if LOGGABLE_ONE.first(params) else {exercise_id}
    found = db.session.connection().execute(
        LOGGABLE, {"ids": list(exercise_ids), "clinic_id": clinic_id}
    )
    return exercise_ids - set(found.scalars())


def _same_content(stored, data: dict, patient_id: int, kind: str) -> bool:
    return stored.patient_id == patient_id and all(
        getattr(stored, name) == data.get(name) for name in MODELS[kind].CONTENT_FIELDS
    )


def _judge(stored, data: dict, patient_id: int, kind: str) -> Outcome:
    if _same_content(stored, data, patient_id, kind):
        return Outcome(stored.id, kind, "duplicate", stored)
    return Outcome(
        data["id"],
        kind,
        "conflict",
        errors={"id": ["This id was already stored with different content."]},
    )


def _stored(connection, kind: str, ids: list) -> dict:
    """id → the stored row (its columns as attributes) of those already stored;
    a single tick's lookup is prepared."""
    if len(ids) == 1:
        rows = STORED_ONE[kind].all({"id": ids[0]}, in_session=True)
        return {row["id"]: SimpleNamespace(**row) for row in rows}
    return {row.id: row for row in connection.execute(STORED[kind], {"ids": ids})}


def _plan(patient_id: int, exercise_logs, pain_logs, deletions) -> list[Outcome]:
    """Decide every record against what is stored, and store the new ones."""
    connection = db.session.connection()
    now = now_utc()
    outcomes: list[Outcome] = []
    for kind, records in (("exercise_log", exercise_logs), ("pain_log", pain_logs)):
        if not records:
            continue
        table = TABLES[kind]
        known = _stored(connection, kind, [record["id"] for record in records])
        new_rows = []
        for data in records:
            stored = known.get(data["id"])
            if stored is not None:
                outcomes.append(_judge(stored, data, patient_id, kind))
                continue
            values = dict.fromkeys(table.c.keys())
            values.update(data, patient_id=patient_id, created_at=now)
            record = SimpleNamespace(**values)
            known[data["id"]] = record
            new_rows.append(values)
            outcomes.append(Outcome(data["id"], kind, "created", record))
        if new_rows:
            INSERT[kind].write(new_rows)
    if deletions:
        stored_logs = {
            row.id: row
            for row in connection.execute(STORED["exercise_log"], {"ids": deletions})
            if row.patient_id == patient_id
        }
        undone = [_undo(stored_logs.get(log_id), log_id, now) for log_id in deletions]
        to_mark = [o.id for o in undone if o.status == "created"]
        if to_mark:
            connection.execute(UNDONE, {"ids": to_mark, "deleted_at": now})
        outcomes.extend(undone)
    return outcomes


def _undo(log, log_id, now) -> Outcome:
    kind = "deleted_exercise_log"
    if log is None:
        return Outcome(
            log_id, kind, "invalid", errors={"id": ["No such exercise log."]}
        )
    if log.deleted_at is not None:
        return Outcome(log_id, kind, "duplicate", log)
    return Outcome(
        log_id,
        kind,
        "created",
        SimpleNamespace(**(log._asdict() | {"deleted_at": now})),
    )


def _refresh_adherence(patient_id: int, outcomes: list[Outcome], today: date) -> None:
    """Bring the stored sessions done up to date for the days whose ticks changed:
    new ticks can only raise a day's count (one upsert per day), an undo
    recounts its day."""
    added, undone = set(), set()
    for outcome in outcomes:
        if outcome.status != "created" or outcome.kind == "pain_log":
            continue
        day = outcome.record.performed_on
        (undone if outcome.kind == "deleted_exercise_log" else added).add(day)
    raise_done(patient_id, added - undone, today)
    for day in sorted(undone):
        refresh_done(patient_id, day, day)


def store(
    patient_id: int,
    exercise_logs=(),
    pain_logs=(),
    deletions=(),
    *,
    today: date,
    before_commit: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Apply already validated records in one transaction and commit.

    `today` is the patient's own date; `before_commit(outcomes)` may add rows
    (the audit row) to the same transaction. If a concurrent request stored one
    of the same ids first, the whole plan is rolled back and made again, now
    seeing that row as stored.
    """
    for attempt in range(3):
        try:
            outcomes = _plan(
                patient_id, list(exercise_logs), list(pain_logs), list(deletions)
            )
            _refresh_adherence(patient_id, outcomes, today)
            if before_commit is not None:
                before_commit(outcomes)
            db.session.commit()
            return outcomes
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def undo_exercise_log(
    patient_id: int,
    log_id: uuid.UUID,
    *,
    today: date,
    before_commit: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Undo one tick (`invalid` when this patient has no such tick); an undone
    tick is a `duplicate`. `before_commit(outcome)` runs unless `invalid`."""

    def audited(outcomes: list[Outcome]) -> None:
        if before_commit is not None and outcomes[0].status != "invalid":
            before_commit(outcomes[0])

    [outcome] = store(
        patient_id, deletions=[log_id], today=today, before_commit=audited
    )
    return outcome


def logs_between(model, day_column, patient_id: int, start: date, end: date):
    query = select(model).where(
        model.patient_id == patient_id, day_column >= start, day_column <= end
    )
    if model is ExerciseLog:
        query = query.where(ExerciseLog.deleted_at.is_(None))
    return list(db.session.scalars(query.order_by(day_column, model.created_at)))
