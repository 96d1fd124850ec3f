"""Storing what a phone sends idempotently (exercise ticks, pain check-ins,
flare-up reports, messages), undoing ticks, and the offline outbox's sync
batch.

A record's UUID comes from the client. Sending it again with the same content
is a replay (`duplicate`, nothing changes); with other content it is a
`conflict`. `sync` judges every record of a batch on its own; `store` writes
what was accepted in one transaction, with Core statements built once (the
hottest writes of the API: no unit of work for rows that are only inserted).
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count
from types import SimpleNamespace

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import bindparam, select, update

from backend.extensions import db
from backend.models import Exercise, ExerciseLog, FlareUp, Message, PainLog
from backend.models.base import DIALECT_INSERT
from backend.services import writes
from backend.services.adherence import note_changed
from backend.services.dates import now_utc

OLDEST_LOG_DAYS = 366  # an outbox older than a year is a bug, not a patient


@dataclass(frozen=True)
class Kind:
    """One kind of record a phone sends: its model, its day field (checked
    against the patient's today; None for a message, which has no day), the
    column stamped with the server's time, and the statements that read and
    add it (built once: every tick runs them; the INSERT in each engine's
    words)."""

    name: str
    model: type
    day_field: str | None
    stamp_field: str = "created_at"

    def __post_init__(self) -> None:
        table = self.model.__table__
        statements = {
            "stored": select(table).where(
                table.c.id.in_(bindparam("ids", expanding=True))
            ),
            # an id a concurrent request stored meanwhile is skipped (and
            # judged against what it stored), never an error
            "insert": {
                name: dialect_insert(table)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(table.c.id)
                for name, dialect_insert in DIALECT_INSERT.items()
            },
        }
        if self.day_field is not None:
            day = table.c[self.day_field]
            between = select(table).where(
                table.c.patient_id == bindparam("patient_id"),
                day.between(bindparam("first"), bindparam("last")),
            )
            if self.model is ExerciseLog:
                between = between.where(table.c.deleted_at.is_(None))
            statements["between"] = between.order_by(day, table.c[self.stamp_field])
        for name, statement in statements.items():
            object.__setattr__(self, name, statement)


EXERCISE_LOG = Kind("exercise_log", ExerciseLog, "performed_on")
PAIN_LOG = Kind("pain_log", PainLog, "logged_on")
# a message's author is part of its content: the sender's own (see `sync`)
MESSAGE = Kind("message", Message, None, stamp_field="sent_at")
FLARE_UP = Kind("flare_up", FlareUp, "started_on")
KINDS = {kind.name: kind for kind in (EXERCISE_LOG, PAIN_LOG, MESSAGE, FLARE_UP)}
UNDO = "deleted_exercise_log"
# the order of a sync's results
SYNC_ORDER = (EXERCISE_LOG.name, PAIN_LOG.name, UNDO, MESSAGE.name, FLARE_UP.name)


@dataclass
class Outcome:
    id: uuid.UUID | str | None
    kind: str
    status: str  # created | duplicate | conflict | invalid
    record: object = None  # the stored record's columns, as attributes
    errors: dict = field(default_factory=dict)


def check_day(field_name: str, day: date, today: date) -> dict:
    """Errors for a record's date in the patient's future or implausibly old."""
    if day > today:
        return {
            field_name: [
                _("Must not be after the patient's today (%(today)s).", today=today)
            ]
        }
    if day < today - timedelta(days=OLDEST_LOG_DAYS):
        return {
            field_name: [
                _("Must not be more than %(days)s days ago.", days=OLDEST_LOG_DAYS)
            ]
        }
    return {}


_LOGGABLE = select(Exercise.id).where(
    Exercise.id.in_(bindparam("ids", expanding=True)),
    Exercise.usable_in(bindparam("clinic_id")),
)


def unknown_exercises(exercise_ids: set[int], clinic_id: int) -> set[int]:
    """The ids in `exercise_ids` that this clinic's people cannot log nor
    prescribe (`Exercise.usable_in`): ticks, the sync and programmes."""
    if not exercise_ids:
        return set()
    params = {"ids": list(exercise_ids), "clinic_id": clinic_id}
    return exercise_ids - set(db.session.scalars(_LOGGABLE, params))


def _judge(stored, data: dict, patient_id: int, kind: Kind) -> Outcome:
    same = stored.patient_id == patient_id and all(
        getattr(stored, name) == data.get(name) for name in kind.model.CONTENT_FIELDS
    )
    if same:
        return Outcome(stored.id, kind.name, "duplicate", stored)
    return Outcome(
        data["id"],
        kind.name,
        "conflict",
        errors={"id": [_("This id was already stored with different content.")]},
    )


_UNDO = (
    update(ExerciseLog.__table__)
    .where(
        ExerciseLog.__table__.c.id.in_(bindparam("ids", expanding=True)),
        ExerciseLog.__table__.c.deleted_at.is_(None),
    )
    .values(deleted_at=bindparam("now"))
)


def _undo(log, log_id, now) -> Outcome:
    if log is None:
        return Outcome(
            log_id, UNDO, "invalid", errors={"id": [_("No such exercise log.")]}
        )
    if log.deleted_at is not None:
        return Outcome(log_id, UNDO, "duplicate", log)
    return Outcome(
        log_id,
        UNDO,
        "created",
        SimpleNamespace(**(log._asdict() | {"deleted_at": now})),
    )


def _plan(patient_id: int, records: dict[str, list], deletions: list) -> list:
    """Decide every record against what is stored, and write the new ones."""
    now = now_utc()
    dialect = db.session.get_bind().dialect.name
    # one microsecond apart: a batch's messages keep the order they were sent in
    stamps = (now + timedelta(microseconds=n) for n in count())
    outcomes: list[Outcome] = []
    for name, batch in records.items():
        if not batch:
            continue
        kind = KINDS[name]
        ids = [data["id"] for data in batch]
        known = {row.id: row for row in db.session.execute(kind.stored, {"ids": ids})}
        new_rows, new = [], {}  # new: id -> (index in outcomes, the data sent)
        for data in batch:
            stored = known.get(data["id"])
            if stored is not None:
                outcomes.append(_judge(stored, data, patient_id, kind))
                continue
            # the same keys in every row of one INSERT: what the client left
            # out is NULL; columns it cannot send keep their defaults
            values = dict.fromkeys(kind.model.CONTENT_FIELDS)
            values.update(data, patient_id=patient_id)
            values[kind.stamp_field] = next(stamps)
            new_rows.append(values)
            columns = dict.fromkeys(kind.model.__table__.c.keys())
            known[data["id"]] = record = SimpleNamespace(**columns | values)
            new[data["id"]] = (len(outcomes), data)
            outcomes.append(Outcome(data["id"], name, "created", record))
            if kind is EXERCISE_LOG:
                note_changed(patient_id, data["performed_on"])
        if new_rows:
            added = set(db.session.scalars(kind.insert[dialect], new_rows))
            raced = [record_id for record_id in new if record_id not in added]
            # stored by a concurrent request since the read above: a replay
            # or a conflict, as if it had been there all along
            if raced:
                for row in db.session.execute(kind.stored, {"ids": raced}):
                    index, data = new[row.id]
                    outcomes[index] = _judge(row, data, patient_id, kind)
    if deletions:
        ticks = {
            tick.id: tick
            for tick in db.session.execute(EXERCISE_LOG.stored, {"ids": deletions})
            if tick.patient_id == patient_id
        }
        undone = [_undo(ticks.get(log_id), log_id, now) for log_id in deletions]
        applied = [outcome for outcome in undone if outcome.status == "created"]
        if applied:
            ids = [outcome.id for outcome in applied]
            db.session.execute(_UNDO, {"ids": ids, "now": now})
            for outcome in applied:
                note_changed(patient_id, outcome.record.performed_on)
        outcomes += undone
    return outcomes


def store(
    patient_id: int,
    records: dict[str, list[dict]],
    deletions: Iterable[uuid.UUID] = (),
    author_id: int | None = None,
) -> list[Outcome]:
    """Apply loaded and checked records (per kind name) and undos of ticks in
    the session's transaction, and note what is new for the signal after the
    commit (services/writes.py; the caller commits with `writes.commit`).
    `author_id` wrote the records (the patient unless staff write in the
    thread). A record of the same id that a concurrent request stores first
    is judged against it: a replay or a conflict, never an error."""
    outcomes = _plan(patient_id, records, list(deletions))
    writes.stored(
        patient_id,
        {outcome.kind for outcome in outcomes if outcome.status == "created"},
        author_id if author_id is not None else patient_id,
    )
    return outcomes


def record(
    patient_id: int,
    clinic_id: int,
    today: date,
    kind: Kind,
    data: dict,
) -> Outcome:
    """Store one loaded record (`invalid` with its errors when its date or its
    exercise will not do), in the session's transaction (the caller commits
    with `writes.commit`)."""
    errors = {}
    if kind.day_field is not None:
        errors = check_day(kind.day_field, data[kind.day_field], today)
    if "exercise_id" in data and unknown_exercises({data["exercise_id"]}, clinic_id):
        errors["exercise_id"] = [_("Unknown exercise.")]
    if errors:
        return Outcome(data["id"], kind.name, "invalid", errors=errors)
    [outcome] = store(patient_id, {kind.name: [data]}, author_id=data.get("author_id"))
    return outcome


class _Undo(Schema):
    id = fields.UUID(required=True)


def sync(
    patient_id: int,
    clinic_id: int,
    today: date,
    batch: dict[str, list],
    schemas: dict[str, Schema],
) -> list[Outcome]:
    """Judge an offline outbox's records each on its own and store the good ones.

    `batch` holds raw records per kind (`exercise_log`, `pain_log`,
    `message`, `flare_up`, and the UUIDs of ticks to undo under
    `deleted_exercise_log`); `schemas` loads each kind. The outbox is the
    patient's: its messages are theirs, in their own thread. Outcomes come in
    SYNC_ORDER (exercise logs, pain logs, undos, messages, flare-ups), each
    in the order sent; an applied undo reports `created`. The caller commits
    (`writes.commit`).
    """
    loaded: list[tuple[str, object, dict | None, dict]] = []
    for name in SYNC_ORDER:
        for raw in batch.get(name, []):
            schema = schemas[name] if name in KINDS else _Undo()
            data, errors = _load(schema, raw if name in KINDS else {"id": raw})
            day_field = KINDS[name].day_field if name in KINDS else None
            if data is not None and day_field is not None:
                errors = check_day(day_field, data[day_field], today)
            if data is not None and name == MESSAGE.name:
                data["author_id"] = patient_id
            loaded.append((name, raw, data, errors))
    unknown = unknown_exercises(
        {
            data["exercise_id"]
            for name, _, data, errors in loaded
            if name == EXERCISE_LOG.name and not errors
        },
        clinic_id,
    )
    accepted: dict[str, list] = {name: [] for name in SYNC_ORDER}
    # (kind, outcome), the outcome None when accepted: it comes from `store`
    results: list[tuple[str, Outcome | None]] = []
    for name, raw, data, errors in loaded:
        if not errors and data.get("exercise_id") in unknown:
            errors = {"exercise_id": [_("Unknown exercise.")]}
        if errors:
            refused = Outcome(_raw_id(raw, data), name, "invalid", errors=errors)
            results.append((name, refused))
        else:
            accepted[name].append(data if name in KINDS else data["id"])
            results.append((name, None))
    undos = accepted.pop(UNDO)
    outcomes = store(patient_id, accepted, undos)
    stored = {
        name: iter([o for o in outcomes if o.kind == name]) for name in SYNC_ORDER
    }
    return [outcome or next(stored[name]) for name, outcome in results]


def _load(schema: Schema, raw) -> tuple[dict | None, dict]:
    try:
        return schema.load(raw), {}
    except ValidationError as error:
        return None, error.messages


def _raw_id(raw, data: dict | None):
    """A refused record's id as the client sent it, if it sent one."""
    if data is not None:
        return data["id"]
    raw_id = raw.get("id") if isinstance(raw, dict) else raw
    return raw_id if isinstance(raw_id, str) else None


def logs_between(kind: Kind, patient_id: int, first: date, last: date) -> list:
    """One patient's records from `first` to `last`, in the order they were
    made; live ticks only."""
    params = {"patient_id": patient_id, "first": first, "last": last}
    return db.session.connection().execute(kind.between, params).all()
