"""The adherence engine, exactly as the API contract defines adherence.

For each day D not after the patient's today, and each item of the programme
version in force on D whose weekdays hold D's weekday: due = times_per_day,
done = min(due, that exercise's live ticks performed on D). Adherence is
Σdone / Σdue (None when Σdue = 0). Ticks of exercises not due do not count;
days before the first programme have nothing due.

Results are grouped by patient and by a *bucket* of days (the day itself for
progress charts, the ISO week for reports), sorted, and streamed:
- sessions done per patient and day are stored in `adherence_days`, kept
  current in every write's transaction (`raise_done` after new ticks, one
  upsert per day; `refresh_done` after anything else) and filled in bulk by
  `backfill_done`; reads sum that table;
- sessions due come from the programme items alone, a few rows per patient,
  expanded over the calendar in Python (`DueRows`);
- pain is summed in SQL over its covering index.
The two engine-specific date functions are the small constructs below.
"""

from collections import defaultdict, namedtuple
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
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
from backend.prepared import Prepared
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


def today_by_timezone(timezones: Iterable[str]):
    """A derived table (timezone, today) for the timezones in use."""
    rows = [
        select(
            literal(zone).label("timezone"),
            literal(today_in(zone), Date).label("today"),
        )
        for zone in sorted(set(timezones))
    ]
    return union_all(*rows).cte("patient_today")


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


class weekday_bit(FunctionElement):  # noqa: N801
    """1 << weekday (Monday = 0), to test against a programme item's day mask."""

    type = Integer()
    inherit_cache = True


@compiles(weekday_bit, "sqlite")
def _weekday_bit_sqlite(element, compiler, **kw):
    day = compiler.process(element.clauses, **kw)
    return f"(1 << ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7))"


@compiles(weekday_bit, "postgresql")
def _weekday_bit_postgresql(element, compiler, **kw):
    day = compiler.process(element.clauses, **kw)
    return f"(1 << (CAST(EXTRACT(ISODOW FROM {day}) AS INTEGER) - 1))"


def bucket_of(bucket, day_column):
    """The SQL for `bucket(day)`: the day itself, or its ISO week's Monday."""
    return week_of(day_column) if bucket is week_start else day_column


def _in_force(day_column):
    return and_(
        Version.starts_on <= day_column,
        or_(Version.ends_on.is_(None), Version.ends_on >= day_column),
    )


def _patient_today(patient_ids: Select):
    timezones = db.session.scalars(
        select(PatientProfile.timezone)
        .where(PatientProfile.user_id.in_(patient_ids))
        .distinct()
    ).all() or ["UTC"]
    return today_by_timezone(timezones)


def _items_in_force(patient_ids: Select, today):
    """Every programme item of these patients with its version's range, cut at
    the patient's today: a few rows per patient, the driving side of both sums."""
    last_day = case(
        (
            and_(Version.ends_on.is_not(None), Version.ends_on < today.c.today),
            Version.ends_on,
        ),
        else_=today.c.today,
    )
    return (
        select(
            Version.patient_id,
            Version.starts_on.label("first_day"),
            last_day.label("last_day"),
            ProgrammeItem.id.label("item_id"),
            ProgrammeItem.exercise_id,
            ProgrammeItem.times_per_day,
            ProgrammeItem.weekday_mask,
        )
        .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
        .join(PatientProfile, PatientProfile.user_id == Version.patient_id)
        .join(today, today.c.timezone == PatientProfile.timezone)
        .where(Version.patient_id.in_(patient_ids))
        .cte("items_in_force")
        .prefix_with("MATERIALIZED")
    )


DueRow = namedtuple("DueRow", "patient_id bucket due")


class DueRows:
    """Sessions due per (patient, bucket), sorted, computed from the programme
    items alone (a few rows per patient): no calendar join in the database.

    Whole ISO weeks inside an item's range count popcount(weekdays) × times a
    day at once; only the edges of a range are walked day by day.
    """

    def __init__(self, patient_ids: Select, start: date, end: date, bucket):
        self.start, self.end, self.bucket = start, end, bucket
        self.result = _stream(
            select(
                Version.patient_id,
                Version.starts_on,
                Version.ends_on,
                ProgrammeItem.times_per_day,
                ProgrammeItem.weekday_mask,
                PatientProfile.timezone,
            )
            .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
            .join(PatientProfile, PatientProfile.user_id == Version.patient_id)
            .where(
                Version.patient_id.in_(patient_ids),
                Version.starts_on <= end,
                or_(Version.ends_on.is_(None), Version.ends_on >= start),
            )
            .order_by(Version.patient_id)
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.result.close()

    def __iter__(self):
        todays: dict[str, date] = {}
        for patient_id, items in groupby(self.result, key=lambda row: row.patient_id):
            totals: dict[date, int] = defaultdict(int)
            for item in items:
                if item.timezone not in todays:
                    todays[item.timezone] = today_in(item.timezone)
                last = min(item.ends_on or self.end, self.end, todays[item.timezone])
                self._add(totals, item, max(item.starts_on, self.start), last)
            for bucket in sorted(totals):
                yield DueRow(patient_id, bucket, totals[bucket])

    def _add(self, totals, item, day: date, last: date) -> None:
        whole_week = item.weekday_mask.bit_count() * item.times_per_day
        while day <= last:
            if (
                self.bucket is week_start
                and day.weekday() == 0
                and day + timedelta(days=6) <= last
            ):
                totals[day] += whole_week
                day += timedelta(days=7)
                continue
            if item.weekday_mask >> day.weekday() & 1:
                totals[self.bucket(day)] += item.times_per_day
            day += timedelta(days=1)


def done_from_logs(patient_ids: Select, start: date, end: date, today) -> Select:
    """(patient_id, bucket = day, done), counted from the ticks themselves.

    Driven by the programme items: each item's live ticks in its version's
    range are counted per day (a range scan of the covering index on
    exercise_logs) and capped at its times a day. This fills `adherence_days`;
    reads sum that table (`done_statement`).
    """
    items = _items_in_force(patient_ids, today)
    log = ExerciseLog
    per_day = (
        select(
            items.c.patient_id,
            log.performed_on.label("day"),
            items.c.times_per_day,
            func.count().label("ticks"),
        )
        .select_from(items)
        .join(
            log,
            and_(
                log.patient_id == items.c.patient_id,
                log.exercise_id == items.c.exercise_id,
                log.performed_on >= items.c.first_day,
                log.performed_on <= items.c.last_day,
                log.deleted_at.is_(None),
            ),
        )
        .where(
            log.performed_on.between(start, end),
            items.c.weekday_mask.op("&")(weekday_bit(log.performed_on)) != 0,
        )
        .group_by(
            items.c.item_id,
            log.performed_on,
            items.c.patient_id,
            items.c.times_per_day,
        )
        .subquery("per_day")
    )
    day = per_day.c.day
    return (
        select(
            per_day.c.patient_id,
            day.label("bucket"),
            func.sum(
                case(
                    (per_day.c.ticks < per_day.c.times_per_day, per_day.c.ticks),
                    else_=per_day.c.times_per_day,
                )
            ).label("done"),
        )
        .group_by(per_day.c.patient_id, day)
        .order_by(per_day.c.patient_id, day)
    )


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


MAX_TIMES_PER_DAY = 6  # the contract's range for times_per_day

_PATIENT = bindparam("patient_id", type_=Integer)
_DAY = bindparam("day", type_=Date)
_WEEKDAY_BIT = bindparam("weekday_bit", type_=Integer)


def _done_on() -> Select:
    """Sessions done by one patient on one day (bound: patient_id, day and
    weekday_bit): per due item, its live ticks capped at its times a day.
    Counting stops at the cap, so a day with thousands of ticks costs no more
    than a day with six."""
    live_ticks = (
        select(literal(1))
        .where(
            ExerciseLog.patient_id == _PATIENT,
            ExerciseLog.exercise_id == ProgrammeItem.exercise_id,
            ExerciseLog.performed_on == _DAY,
            ExerciseLog.deleted_at.is_(None),
        )
        .limit(MAX_TIMES_PER_DAY)
        .correlate(ProgrammeItem)
        .subquery()
    )
    ticked = select(func.count()).select_from(live_ticks).scalar_subquery()
    capped = case(
        (ticked < ProgrammeItem.times_per_day, ticked),
        else_=ProgrammeItem.times_per_day,
    )
    return (
        select(func.coalesce(func.sum(capped), 0).label("done"))
        .select_from(Version)
        .join(ProgrammeItem, ProgrammeItem.programme_id == Version.id)
        .where(
            Version.patient_id == _PATIENT,
            _in_force(_DAY),
            ProgrammeItem.weekday_mask.op("&")(_WEEKDAY_BIT) != 0,
        )
    )


# Built once: every tick runs these, and building them costs more than running them.
DONE_ON = _done_on()
# FOR NO KEY UPDATE: it does not wait for the KEY SHARE lock that inserting a
# row referring to the patient takes, so two ticks that each inserted first and
# lock second queue up instead of deadlocking.
LOCK_PATIENT = (
    select(User.id).where(User.id == _PATIENT).with_for_update(key_share=True)
)


def _raise_done(dialect: str):
    """INSERT the day's sessions done when above zero, or UPDATE the stored row:
    one statement per day, in the engine's own upsert syntax."""
    insert_for = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}[dialect]
    done = DONE_ON.subquery("done_on")
    statement = insert_for(AdherenceDay).from_select(
        ["patient_id", "day", "done"],
        select(_PATIENT, _DAY, done.c.done).where(done.c.done > 0),
    )
    return statement.on_conflict_do_update(
        index_elements=["patient_id", "day"], set_={"done": statement.excluded.done}
    )


RAISE_DONE = {
    dialect: Prepared(_raise_done(dialect)) for dialect in ("sqlite", "postgresql")
}


def day_params(patient_id: int, day: date) -> dict:
    return {"patient_id": patient_id, "day": day, "weekday_bit": 1 << day.weekday()}


def _lock_patient(patient_id: int) -> None:
    """Serialise one patient's refreshes, so two concurrent ticks cannot both
    count without the other's. PostgreSQL locks the patient's row; SQLite has a
    single writer anyway, taken by the write that came before this."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        connection.execute(LOCK_PATIENT, {"patient_id": patient_id})


def raise_done(patient_id: int, days: Iterable[date], today: date) -> None:
    """Bring stored sessions done up to date after ticks were *added* on `days`.

    A new tick can only raise a day's count, so each day is one upsert and a
    day where nothing is due stores nothing. Runs in the caller's transaction,
    after its ticks (flushed here), so the rows commit or roll back with them.
    Days after the patient's `today` are never stored.
    """
    days = sorted({day for day in days if day <= today})
    if not days:
        return
    db.session.flush()
    _lock_patient(patient_id)
    RAISE_DONE[db.session.connection().dialect.name].write(
        [day_params(patient_id, day) for day in days]
    )


def refresh_done(patient_id: int, start: date, end: date) -> None:
    """Recompute one patient's stored sessions done for these days, whatever
    changed (an undo, a new programme version, a move west).

    Runs in the caller's transaction, after its change, so the derived rows
    commit (or roll back) with the write. Days after the patient's today are
    never stored.
    """
    db.session.flush()
    _lock_patient(patient_id)
    timezone = db.session.scalar(
        select(PatientProfile.timezone).where(PatientProfile.user_id == patient_id)
    )
    db.session.execute(
        delete(AdherenceDay).where(
            AdherenceDay.patient_id == patient_id, AdherenceDay.day.between(start, end)
        )
    )
    connection = db.session.connection()
    rows, day, last = [], start, min(end, today_in(timezone))
    while day <= last:
        done = connection.execute(DONE_ON, day_params(patient_id, day)).scalar()
        if done:
            rows.append({"patient_id": patient_id, "day": day, "done": int(done)})
        day += timedelta(days=1)
    if rows:
        db.session.execute(insert(AdherenceDay), rows)


def after_timezone_change(patient_id: int, before: str, after: str) -> None:
    """Drop stored days that a move west of the old timezone put in the future,
    keeping `adherence_days` free of days after the patient's today."""
    old_today, new_today = today_in(before), today_in(after)
    if new_today < old_today:
        refresh_done(patient_id, new_today + timedelta(days=1), old_today)


def backfill_done(patient_ids: Select, start: date, end: date) -> None:
    """Fill `adherence_days` for many patients at once (bulk seeding)."""
    db.session.execute(
        insert(AdherenceDay).from_select(
            ["patient_id", "day", "done"],
            done_from_logs(patient_ids, start, end, _patient_today(patient_ids)),
        )
    )


def rebuild_done(patient_ids: Select) -> tuple[int, int]:
    """Recompute these patients' stored sessions done from their ticks, in the
    caller's transaction; returns (days stored, days that were missing, wrong or
    superfluous before).

    Every write keeps `adherence_days` current; this is for after a repair by
    hand in the database or a bug. Ticks arriving meanwhile wait for it:
    PostgreSQL locks the table against writers (readers go on), SQLite has one
    writer at a time anyway. Each waiting tick then recounts its own day.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE adherence_days IN EXCLUSIVE MODE"))
    stored = select(AdherenceDay.patient_id, AdherenceDay.day, AdherenceDay.done).where(
        AdherenceDay.patient_id.in_(patient_ids)
    )
    before = {(p, day): done for p, day, done in connection.execute(stored)}
    connection.execute(
        delete(AdherenceDay).where(AdherenceDay.patient_id.in_(patient_ids))
    )
    first, last = connection.execute(
        select(
            func.min(ExerciseLog.performed_on), func.max(ExerciseLog.performed_on)
        ).where(ExerciseLog.patient_id.in_(patient_ids))
    ).one()
    if first is not None:
        backfill_done(patient_ids, first, last)
    after = {(p, day): done for p, day, done in connection.execute(stored)}
    changed = {
        key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
    }
    return len(after), len(changed)


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


def _stream(statement: Select):
    return db.session.execute(statement, execution_options={"yield_per": 2000})


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
    due_rows, done_rows = adherence_streams(patient_ids, start, end, bucket)
    with due_rows, done_rows:
        totals = {
            (row.patient_id, row.bucket): Totals(int(row.due), 0) for row in due_rows
        }
        for row in done_rows:
            totals[(row.patient_id, row.bucket)].done = int(row.done)
    return totals


def pain_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): row with pain_mean, pain_max, spasms, pain_logs}."""
    with pain_stream(patient_ids, start, end, bucket) as rows:
        return {(row.patient_id, row.bucket): row for row in rows}
