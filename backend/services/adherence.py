"""The adherence engine, exactly as the API contract defines adherence.

For each day D not after the patient's today, and each item of the programme
version in force on D (`ProgrammeVersion.in_force_on`) that is due on D's
weekday (`ProgrammeItem.due_on`): due = times_per_day, done = min(due, that
exercise's live ticks performed on D) (`sessions_done`, models/programmes.py:
the one definition). Adherence is Σdone / Σdue (None when
Σdue = 0). Ticks of exercises not due do not count; days before the first
programme have nothing due.

Sessions *done* per patient and day are derived data, stored in
`adherence_days` so that reports sum a few rows instead of counting ticks:
- every write that can change them (a tick or its undo, a programme version,
  a patient's new timezone) says so with `note_changed`, and the write's
  commit (services/writes.py `commit` → `recount_noted`) then recounts,
  inside the same transaction and once per patient, the days from the first
  one noted (`recount_done`): the single point where the stored rows change;
- bulk seeding calls `store_done` for all its patients at once, and
  `rebuild_done` repairs after a change by hand in the database;
- all of them count with the one statement `_done_rows`.
Sessions *due* are expanded from the programme items (a few per patient) in
Python, per weekday and whole ISO weeks at once (`DueRows`). Pain is summed in
SQL over its covering index. Every read is grouped by patient and by a bucket
of days (the day, or the ISO week for reports) and sorted; reports stream it.
"""

from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import (
    Date,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.models import (
    AdherenceDay,
    ExerciseLog,
    PainLog,
    PatientProfile,
    ProgrammeItem,
    User,
)
from backend.models import ProgrammeVersion as Version
from backend.models.base import engine_function
from backend.models.programmes import days_in_force, due_on_weekday, sessions_done
from backend.services.dates import today_in


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def by_day(day: date) -> date:
    return day


@dataclass
class Totals:
    due: int = 0
    done: int = 0

    @property
    def adherence(self) -> float | None:
        return self.done / self.due if self.due else None


# the Monday of a date's ISO week, in SQL
week_of = engine_function(
    "week_of",
    Date(),
    sqlite="date({}, 'weekday 0', '-6 days')",
    postgresql="CAST(date_trunc('week', {}) AS DATE)",
)


def bucket_of(bucket, day_column):
    """The SQL for `bucket(day)`: the day itself, or its ISO week's Monday."""
    return week_of(day_column) if bucket is week_start else day_column


def _stream(statement: Select):
    return db.session.execute(statement, execution_options={"yield_per": 2000})


# ---- sessions done: counted from the ticks, stored per patient and day ----------


def _todays(patient_ids: Select):
    """A derived table (patient_id, today): each patient's own today."""
    zones = db.session.execute(
        select(PatientProfile.timezone)
        .where(PatientProfile.user_id.in_(patient_ids))
        .distinct()
    ).scalars()
    todays = union_all(
        *(
            select(literal(zone).label("timezone"), literal(today_in(zone), Date))
            for zone in sorted(set(zones)) or ["UTC"]
        )
    ).subquery("zone_today")
    return (
        select(PatientProfile.user_id.label("patient_id"), todays.c[1].label("today"))
        .join(todays, todays.c.timezone == PatientProfile.timezone)
        .where(PatientProfile.user_id.in_(patient_ids))
        .subquery("patient_today")
    )


def _done_rows(patients, first, last) -> Select:
    """(patient_id, day, done) for the days from `first` to `last` on which
    the `patients` did something due.

    Each item of a version in force on a tick's day and due on it counts that
    day's live ticks of its exercise (a range scan of exercise_logs' index),
    capped at its times a day; the items' counts are summed per day. A day
    after a patient's today (a tick made further east before a move west) is
    stored like any other; reads stop at each patient's today.
    """
    log = ExerciseLog
    per_item_day = (
        select(
            Version.patient_id,
            log.performed_on.label("day"),
            ProgrammeItem.times_per_day,
            func.count().label("ticks"),
        )
        .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
        .join(
            log,
            and_(
                log.patient_id == Version.patient_id,
                log.exercise_id == ProgrammeItem.exercise_id,
                log.performed_on.between(first, last),
                log.deleted_at.is_(None),
            ),
        )
        .where(
            patients,
            Version.in_force_between(first, last),
            Version.in_force_on(log.performed_on),
            ProgrammeItem.due_on(log.performed_on),
        )
        .group_by(
            ProgrammeItem.id,
            log.performed_on,
            Version.patient_id,
            ProgrammeItem.times_per_day,
        )
        .subquery("per_item_day")
    )
    capped = sessions_done(per_item_day.c.ticks, per_item_day.c.times_per_day)
    return select(
        per_item_day.c.patient_id, per_item_day.c.day, func.sum(capped).label("done")
    ).group_by(per_item_day.c.patient_id, per_item_day.c.day)


def _stored_between(patients):
    return delete(AdherenceDay).where(
        patients,
        AdherenceDay.day.between(bindparam("first"), bindparam("last")),
    )


def _count(rows: Select):
    return insert(AdherenceDay).from_select(["patient_id", "day", "done"], rows)


# One patient's recount, built once: every tick runs it.
_PATIENT, _FIRST, _LAST = bindparam("patient_id"), bindparam("first"), bindparam("last")
_FORGET_ONE = _stored_between(AdherenceDay.patient_id == _PATIENT)
_COUNT_ONE = _count(_done_rows(Version.patient_id == _PATIENT, _FIRST, _LAST))
_LOCK_ONE = select(User.id).where(User.id == _PATIENT).with_for_update(key_share=True)


def store_done(patient_ids: Select, first: date, last: date = date.max) -> None:
    """Recount these patients' stored sessions done from `first` to `last`, in
    the caller's transaction. For writes that bypass the session (bulk
    seeding); the session's own writes are recounted on commit."""
    params = {"first": first, "last": last}
    db.session.execute(
        _stored_between(AdherenceDay.patient_id.in_(patient_ids)), params
    )
    db.session.execute(
        _count(_done_rows(Version.patient_id.in_(patient_ids), first, last))
    )


def recount_done(patient_id: int, first: date) -> None:
    """Recount one patient's stored sessions done from `first` on, in the
    caller's transaction.

    On PostgreSQL the patient's row is locked first, so two devices' ticks
    recount one after the other, each seeing the other's (FOR NO KEY UPDATE
    does not wait for the KEY SHARE lock that inserting a tick takes). SQLite
    has one writer at a time anyway.
    """
    params = {"patient_id": patient_id, "first": first, "last": date.max}
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_ONE, params)
    connection.execute(_FORGET_ONE, params)
    connection.execute(_COUNT_ONE, params)


def rebuild_done(patient_ids: Select) -> tuple[int, int]:
    """Recompute these patients' stored sessions done from their ticks, in the
    caller's transaction; returns (days stored, days that were missing, wrong or
    superfluous before).

    Every write keeps `adherence_days` current; this is for after a repair by
    hand in the database. Ticks arriving meanwhile wait for it: PostgreSQL locks
    the table against writers (readers go on), SQLite has one writer anyway.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE adherence_days IN EXCLUSIVE MODE"))
    stored = select(AdherenceDay.patient_id, AdherenceDay.day, AdherenceDay.done).where(
        AdherenceDay.patient_id.in_(patient_ids)
    )
    before = {(p, day): done for p, day, done in connection.execute(stored)}
    first = connection.scalar(
        select(func.min(ExerciseLog.performed_on)).where(
            ExerciseLog.patient_id.in_(patient_ids)
        )
    )
    connection.execute(
        delete(AdherenceDay).where(AdherenceDay.patient_id.in_(patient_ids))
    )
    if first is not None:
        store_done(patient_ids, first)
    after = {(p, day): done for p, day, done in connection.execute(stored)}
    changed = {
        key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
    }
    return len(after), len(changed)


# ---- keeping stored sessions done current: recounted at every commit -----------

_CHANGED = "sessions_done_changed"  # session.info: {patient_id: first day changed}


def note_changed(patient_id: int, first: date) -> None:
    """Note, in the current transaction, that a write may change `patient_id`'s
    sessions done from `first` on: the commit recounts them first. Every write
    to ticks or programmes calls this."""
    changed = db.session.info.setdefault(_CHANGED, {})
    changed[patient_id] = min(first, changed.get(patient_id, first))


def recount_noted() -> None:
    """Recount what this transaction's writes noted, once per patient, in the
    transaction (services/writes.py `commit` calls it just before committing)."""
    changed = db.session.info.pop(_CHANGED, None)
    if not changed:
        return
    db.session.flush()  # the writes themselves first
    for patient_id, first in sorted(changed.items()):
        recount_done(patient_id, first)


def noted(session: Session) -> bool:
    """Whether this transaction noted changes it has not recounted yet."""
    return bool(session.info.get(_CHANGED))


def forget_noted(session: Session, _previous_transaction=None) -> None:
    """A rolled-back transaction changed nothing to recount (services/writes.py
    listens with it)."""
    session.info.pop(_CHANGED, None)


# ---- sessions due, expanded from the programme items ----------------------------

DueRow = namedtuple("DueRow", "patient_id bucket due")


class DueRows:
    """Sessions due per (patient, bucket), sorted, expanded in Python from the
    programme versions and their items (a few per patient, read as plain rows):
    no calendar in the database. Each version's items are summed into sessions
    due per weekday once; a whole ISO week in force then counts at once, and
    only the edges of a range are walked day by day.

    `stream` reads the rows in batches (a report over a whole clinic); without
    it they are fetched at once (a page of patients, one patient's progress).
    """

    def __init__(self, patient_ids: Select, start: date, end: date, bucket, stream):
        self.start, self.end, self.bucket = start, end, bucket
        statement = (
            select(
                Version.patient_id,
                Version.id,
                Version.starts_on,
                Version.ends_on,
                PatientProfile.timezone,
                ProgrammeItem.weekday_mask,
                ProgrammeItem.times_per_day,
            )
            .join(PatientProfile, PatientProfile.user_id == Version.patient_id)
            .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
            .where(
                Version.patient_id.in_(patient_ids),
                Version.in_force_between(start, end),
            )
            .order_by(Version.patient_id, Version.version)
        )
        self.result = _stream(statement) if stream else db.session.execute(statement)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.result.close()

    def __iter__(self):
        todays: dict[str, date] = {}
        for patient_id, rows in groupby(self.result, key=lambda row: row[0]):
            totals: dict[date, int] = defaultdict(int)
            for _, items in groupby(rows, key=lambda row: row[1]):
                items = list(items)
                _, _, starts_on, ends_on, timezone = items[0][:5]
                if timezone not in todays:
                    todays[timezone] = today_in(timezone)
                last = min(self.end, todays[timezone])
                first, last = days_in_force(starts_on, ends_on, self.start, last)
                self._add(totals, _by_weekday(items), first, last)
            for bucket in sorted(totals):
                yield DueRow(patient_id, bucket, totals[bucket])

    def _add(self, totals, by_weekday: list[int], day: date, last: date) -> None:
        whole_week = sum(by_weekday)
        while day <= last:
            if (
                self.bucket is week_start
                and day.weekday() == 0
                and day + timedelta(days=6) <= last
            ):
                totals[day] += whole_week
                day += timedelta(days=7)
                continue
            if by_weekday[day.weekday()]:
                totals[self.bucket(day)] += by_weekday[day.weekday()]
            day += timedelta(days=1)


def _by_weekday(items) -> list[int]:
    """Sessions due on each weekday (Monday first) by one version's items, given
    as rows ending in (weekday_mask, times_per_day)."""
    return [
        sum(row[-1] for row in items if due_on_weekday(row[-2], weekday))
        for weekday in range(7)
    ]


# ---- what reports, progress and flags read ---------------------------------------


def _per_bucket(table, day, patient_ids, start, end, bucket, *aggregates) -> Select:
    """(patient_id, bucket, *aggregates) of `table`'s rows from `start` to `end`,
    grouped and sorted by patient and bucket of `day`."""
    day_bucket = bucket_of(bucket, day)
    return (
        select(table.patient_id, day_bucket.label("bucket"), *aggregates)
        .where(table.patient_id.in_(patient_ids), day.between(start, end))
        .group_by(table.patient_id, day_bucket)
        .order_by(table.patient_id, day_bucket)
    )


def done_statement(patient_ids: Select, start: date, end: date, bucket) -> Select:
    """(patient_id, bucket, done), from `adherence_days`, up to each patient's
    own today."""
    today = _todays(patient_ids)
    done = func.sum(AdherenceDay.done).label("done")
    day = AdherenceDay.day
    return _per_bucket(AdherenceDay, day, patient_ids, start, end, bucket, done).join(
        today,
        and_(today.c.patient_id == AdherenceDay.patient_id, day <= today.c.today),
    )


def pain_statement(
    patient_ids: Select, start: date, end: date, bucket=by_day
) -> Select:
    """(patient_id, bucket, pain_mean, pain_max, spasms, pain_logs) where logged."""
    return _per_bucket(
        PainLog,
        PainLog.logged_on,
        patient_ids,
        start,
        end,
        bucket,
        func.avg(PainLog.score).label("pain_mean"),
        func.max(PainLog.score).label("pain_max"),
        func.sum(func.coalesce(PainLog.spasms, 0)).label("spasms"),
        func.count().label("pain_logs"),
    )


def adherence_streams(
    patient_ids: Select, start: date, end: date, bucket=by_day, stream=True
):
    """(due rows, done rows), each an iterator sorted by (patient_id, bucket);
    read in batches when `stream`, else at once."""
    done = done_statement(patient_ids, start, end, bucket)
    return (
        DueRows(patient_ids, start, end, bucket, stream),
        _stream(done) if stream else db.session.execute(done),
    )


def pain_stream(patient_ids: Select, start: date, end: date, bucket=by_day):
    return _stream(pain_statement(patient_ids, start, end, bucket))


def adherence_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): Totals} for buckets with something due."""
    due_rows, done_rows_ = adherence_streams(patient_ids, start, end, bucket, False)
    with due_rows, done_rows_:
        totals = {
            (row.patient_id, row.bucket): Totals(int(row.due), 0) for row in due_rows
        }
        for row in done_rows_:
            totals[(row.patient_id, row.bucket)].done = int(row.done)
    return totals


def pain_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): row with pain_mean, pain_max, spasms, pain_logs}."""
    rows = db.session.execute(pain_statement(patient_ids, start, end, bucket))
    return {(row.patient_id, row.bucket): row for row in rows}
