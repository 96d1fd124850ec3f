"""The adherence engine, exactly as the API contract defines adherence.

For each day D not after the patient's today, and each item of the programme
version in force on D (`ProgrammeVersion.in_force_on`) that is due on D's
weekday (`ProgrammeItem.due_on`): due = times_per_day, done = min(due, that
exercise's live ticks performed on D). Adherence is Σdone / Σdue (None when
Σdue = 0). Ticks of exercises not due do not count; days before the first
programme have nothing due.

Sessions *done* per patient and day are derived data, stored in
`adherence_days` so that reports sum a few rows instead of counting ticks:
- `refresh_done` recounts one patient's days; the ORM session calls it, and
  nothing else does, just before every commit that changed a tick, a
  programme or a timezone (`track_changes`); bulk writes that bypass the ORM
  (seeding) call `backfill_done`, and `rebuild_done` repairs by hand;
- all of them count with the one statement `done_rows`.
Sessions *due* are expanded from the programme items (a few per patient) in
Python, whole ISO weeks at once (`DueRows`). Pain is summed in SQL over its
covering index. Every read is grouped by patient and by a bucket of days (the
day, or the ISO week for reports), sorted, and streamed.
"""

from collections import defaultdict, namedtuple
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import (
    Date,
    Select,
    and_,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.functions import FunctionElement

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


class week_of(FunctionElement):  # noqa: N801 (reads as SQL)
    """The Monday of a date's ISO week, in each engine's own words."""

    type = Date()
    inherit_cache = True


@compiles(week_of, "sqlite")
def _week_of_sqlite(element, compiler, **kw):
    day = compiler.process(element.clauses, **kw)
    return f"date({day}, 'weekday 0', '-6 days')"


@compiles(week_of, "postgresql")
def _week_of_postgresql(element, compiler, **kw):
    day = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', {day}) AS DATE)"


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


def done_rows(patient_ids: Select, first: date, last: date) -> Select:
    """(patient_id, day, done) for the days from `first` to `last` on which
    these patients did something due, never after each patient's own today.

    Each item of a version in force on a tick's day and due on it counts that
    day's live ticks of its exercise (a range scan of exercise_logs' index),
    capped at its times a day; the items' counts are summed per day.
    """
    today = _todays(patient_ids)
    log = ExerciseLog
    per_item_day = (
        select(
            Version.patient_id,
            log.performed_on.label("day"),
            ProgrammeItem.times_per_day,
            func.count().label("ticks"),
        )
        .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
        .join(today, today.c.patient_id == Version.patient_id)
        .join(
            log,
            and_(
                log.patient_id == Version.patient_id,
                log.exercise_id == ProgrammeItem.exercise_id,
                log.performed_on.between(first, last),
                log.performed_on <= today.c.today,
                log.deleted_at.is_(None),
            ),
        )
        .where(
            Version.patient_id.in_(patient_ids),
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
    capped = case(
        (per_item_day.c.ticks < per_item_day.c.times_per_day, per_item_day.c.ticks),
        else_=per_item_day.c.times_per_day,
    )
    return select(
        per_item_day.c.patient_id, per_item_day.c.day, func.sum(capped).label("done")
    ).group_by(per_item_day.c.patient_id, per_item_day.c.day)


def store_done(patient_ids: Select, first: date, last: date = date.max) -> None:
    """Recount these patients' stored sessions done from `first` to `last`, in
    the caller's transaction. Days after a patient's today are left empty.

    Every commit through the ORM session calls this for what it changed (see
    `track_changes`); bulk seeding, which bypasses the session, calls it once
    for all its patients.
    """
    db.session.execute(
        delete(AdherenceDay).where(
            AdherenceDay.patient_id.in_(patient_ids),
            AdherenceDay.day.between(first, last),
        )
    )
    db.session.execute(
        insert(AdherenceDay).from_select(
            ["patient_id", "day", "done"], done_rows(patient_ids, first, last)
        )
    )


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


# ---- keeping stored sessions done current: one hook on the ORM session ----------

_CHANGES = "adherence_changes"  # session.info: {patient_id: first day touched}
_TICK_FIELDS = ("patient_id", "exercise_id", "performed_on", "deleted_at")
_VERSION_FIELDS = ("patient_id", "starts_on", "ends_on")
_ITEM_FIELDS = ("exercise_id", "times_per_day", "weekday_mask", "programme_id")


def _before_and_after(instance, field: str) -> list:
    """The values an attribute had before this flush and has now (not None)."""
    history = inspect(instance).attrs[field].history
    values = [*history.deleted, *history.added, *history.unchanged]
    return [value for value in values if value is not None]


def _touched(session: Session) -> Iterable[tuple[int, date]]:
    """(patient_id, first day) of the sessions done this flush may change: from
    that day on, for each patient whose ticks, programme or timezone it writes."""
    gone = set(session.deleted)
    for instance in [*session.new, *session.dirty, *gone]:
        whole = instance in session.new or instance in gone

        def changed(fields, instance=instance, whole=whole) -> bool:
            state = inspect(instance)
            return whole or any(state.attrs[f].history.has_changes() for f in fields)

        if isinstance(instance, ExerciseLog) and changed(_TICK_FIELDS):
            days = _before_and_after(instance, "performed_on")
            for patient_id in _before_and_after(instance, "patient_id"):
                yield patient_id, min(days)
        elif isinstance(instance, Version) and changed(_VERSION_FIELDS):
            ends = _before_and_after(instance, "ends_on")
            first = min(_before_and_after(instance, "starts_on") + ends)
            for patient_id in _before_and_after(instance, "patient_id"):
                yield patient_id, first
        elif isinstance(instance, ProgrammeItem) and changed(_ITEM_FIELDS):
            for version_id in _before_and_after(instance, "programme_id"):
                version = session.get(Version, version_id)
                if version is not None:
                    yield version.patient_id, version.starts_on
        elif (
            isinstance(instance, PatientProfile)
            and instance in session.dirty
            and changed(("timezone",))
        ):
            # a move west puts the old today in the patient's future
            zones = _before_and_after(instance, "timezone")
            yield instance.user_id, min(map(today_in, zones))


def _note_touched(session: Session, _flush_context, _instances) -> None:
    touched = session.info.setdefault(_CHANGES, {})
    for patient_id, first in _touched(session):
        if patient_id is not None:
            touched[patient_id] = min(first, touched.get(patient_id, first))


def _recount_touched(session: Session) -> None:
    """Before a commit: recount, from the first day touched, each patient's
    sessions done that the transaction's writes may have changed."""
    session.flush()  # its flush events note the last changes
    touched = session.info.pop(_CHANGES, None) or {}
    connection = session.connection() if touched else None
    for patient_id, first in sorted(touched.items()):
        if connection.dialect.name == "postgresql":
            # two devices' ticks recount one after the other, each seeing the
            # other's; FOR NO KEY UPDATE does not wait for the KEY SHARE lock
            # that inserting a tick takes
            connection.execute(
                select(User.id)
                .where(User.id == patient_id)
                .with_for_update(key_share=True)
            )
        store_done(select(literal(patient_id)), first)


def _forget_touched(session: Session, _previous_transaction=None) -> None:
    session.info.pop(_CHANGES, None)


def track_changes(session) -> None:
    """Keep `adherence_days` current through `session` (db.session): each flush
    notes the patients and days its ticks, programmes and timezones touch, and
    each commit first recounts them, in its own transaction. The single point
    every write through the ORM passes."""
    if not event.contains(session, "before_flush", _note_touched):
        event.listen(session, "before_flush", _note_touched)
        event.listen(session, "before_commit", _recount_touched)
        event.listen(session, "after_soft_rollback", _forget_touched)


# ---- sessions due, expanded from the programme items ----------------------------

DueRow = namedtuple("DueRow", "patient_id bucket due")


class DueRows:
    """Sessions due per (patient, bucket), sorted, expanded in Python from the
    programme versions and their items (a few per patient): no calendar in
    the database. A whole ISO week in force counts its due days × times a day
    at once; only the edges of a range are walked day by day.
    """

    def __init__(self, patient_ids: Select, start: date, end: date, bucket):
        self.start, self.end, self.bucket = start, end, bucket
        self.result = db.session.execute(
            select(Version, PatientProfile.timezone)
            .join(PatientProfile, PatientProfile.user_id == Version.patient_id)
            .where(
                Version.patient_id.in_(patient_ids),
                Version.in_force_between(start, end),
            )
            .options(selectinload(Version.items).lazyload(ProgrammeItem.exercise))
            .order_by(Version.patient_id, Version.version),
            execution_options={"yield_per": 500},
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.result.close()

    def __iter__(self):
        todays: dict[str, date] = {}
        for patient_id, rows in groupby(self.result, key=lambda row: row[0].patient_id):
            totals: dict[date, int] = defaultdict(int)
            for version, timezone in rows:
                if timezone not in todays:
                    todays[timezone] = today_in(timezone)
                last = min(self.end, todays[timezone])
                first, last = version.days_in_force(self.start, last)
                for item in version.items:
                    self._add(totals, item, first, last)
            for bucket in sorted(totals):
                yield DueRow(patient_id, bucket, totals[bucket])

    def _add(self, totals, item: ProgrammeItem, day: date, last: date) -> None:
        whole_week = item.days_a_week * item.times_per_day
        while day <= last:
            if (
                self.bucket is week_start
                and day.weekday() == 0
                and day + timedelta(days=6) <= last
            ):
                totals[day] += whole_week
                day += timedelta(days=7)
                continue
            if item.due_on(day):
                totals[self.bucket(day)] += item.times_per_day
            day += timedelta(days=1)


# ---- what reports, progress and flags read ---------------------------------------


def done_statement(patient_ids: Select, start: date, end: date, bucket) -> Select:
    """(patient_id, bucket, done) in that order, from `adherence_days`."""
    day_bucket = bucket_of(bucket, AdherenceDay.day)
    return (
        select(
            AdherenceDay.patient_id,
            day_bucket.label("bucket"),
            func.sum(AdherenceDay.done).label("done"),
        )
        .where(
            AdherenceDay.patient_id.in_(patient_ids),
            AdherenceDay.day.between(start, end),
        )
        .group_by(AdherenceDay.patient_id, day_bucket)
        .order_by(AdherenceDay.patient_id, day_bucket)
    )


def pain_statement(
    patient_ids: Select, start: date, end: date, bucket=by_day
) -> Select:
    """(patient_id, bucket, pain_mean, pain_max, spasms, pain_logs) where logged,
    in that order."""
    day_bucket = bucket_of(bucket, PainLog.logged_on)
    return (
        select(
            PainLog.patient_id,
            day_bucket.label("bucket"),
            func.avg(PainLog.score).label("pain_mean"),
            func.max(PainLog.score).label("pain_max"),
            func.sum(func.coalesce(PainLog.spasms, 0)).label("spasms"),
            func.count().label("pain_logs"),
        )
        .where(
            PainLog.patient_id.in_(patient_ids), PainLog.logged_on.between(start, end)
        )
        .group_by(PainLog.patient_id, day_bucket)
        .order_by(PainLog.patient_id, day_bucket)
    )


def adherence_streams(patient_ids: Select, start: date, end: date, bucket=by_day):
    """(due rows, done rows), each an iterator sorted by (patient_id, bucket)."""
    return (
        DueRows(patient_ids, start, end, bucket),
        _stream(done_statement(patient_ids, start, end, bucket)),
    )


def pain_stream(patient_ids: Select, start: date, end: date, bucket=by_day):
    return _stream(pain_statement(patient_ids, start, end, bucket))


def adherence_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): Totals} for buckets with something due."""
    due_rows, done_rows_ = adherence_streams(patient_ids, start, end, bucket)
    with due_rows, done_rows_:
        totals = {
            (row.patient_id, row.bucket): Totals(int(row.due), 0) for row in due_rows
        }
        for row in done_rows_:
            totals[(row.patient_id, row.bucket)].done = int(row.done)
    return totals


def pain_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): row with pain_mean, pain_max, spasms, pain_logs}."""
    with pain_stream(patient_ids, start, end, bucket) as rows:
        return {(row.patient_id, row.bucket): row for row in rows}
