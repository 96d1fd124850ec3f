"""The adherence engine, exactly as the API contract defines adherence.

For each day D not after the patient's today, and each item of the programme
version in force on D whose weekdays hold D's weekday: due = times_per_day,
done = min(due, that exercise's live ticks performed on D). Adherence is
Σdone / Σdue (None when Σdue = 0). Ticks of exercises not due do not count;
days before the first programme have nothing due.

Everything is summed in SQL, grouped by patient and by a *bucket* of days (the
day itself for progress charts, the ISO week for reports). The calendar of the
range is a small derived table built here, so no engine-specific date
functions are needed: SQLite and PostgreSQL run the same statement.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from backend.extensions import db
from backend.models import ExerciseLog, PainLog, PatientProfile, ProgrammeItem
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


def calendar(
    start: date,
    end: date,
    bucket: Callable[[date], date] = by_day,
    name: str = "calendar",
):
    """A derived table (day, weekday bit, bucket) for every day of the range."""
    rows = []
    day = start
    while day <= end:
        rows.append(
            select(
                literal(day, Date).label("day"),
                literal(1 << day.weekday(), Integer).label("bit"),
                literal(bucket(day), Date).label("bucket"),
            )
        )
        day += timedelta(days=1)
    return union_all(*rows).cte(name)


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


def due_statement(patient_ids: Select, start: date, end: date, bucket, today) -> Select:
    """(patient_id, bucket, due) in that order: sessions due, from the calendar."""
    cal = calendar(start, end, bucket)
    items = _items_in_force(patient_ids, today)
    return (
        select(
            items.c.patient_id,
            cal.c.bucket,
            func.sum(items.c.times_per_day).label("due"),
        )
        .select_from(items)
        .join(
            cal,
            and_(
                cal.c.day >= items.c.first_day,
                cal.c.day <= items.c.last_day,
                items.c.weekday_mask.op("&")(cal.c.bit) != 0,
            ),
        )
        .group_by(items.c.patient_id, cal.c.bucket)
        .order_by(items.c.patient_id, cal.c.bucket)
    )


def done_statement(
    patient_ids: Select, start: date, end: date, bucket, today
) -> Select:
    """(patient_id, bucket, done) in that order.

    Driven by the programme items: each item's live ticks in its version's
    range are counted per day (a range scan of the covering index on
    exercise_logs), capped at its times a day, then summed per bucket.
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
    day_bucket = bucket_of(bucket, per_day.c.day)
    return (
        select(
            per_day.c.patient_id,
            day_bucket.label("bucket"),
            func.sum(
                case(
                    (per_day.c.ticks < per_day.c.times_per_day, per_day.c.ticks),
                    else_=per_day.c.times_per_day,
                )
            ).label("done"),
        )
        .group_by(per_day.c.patient_id, day_bucket)
        .order_by(per_day.c.patient_id, day_bucket)
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


def _stream(statement: Select):
    return db.session.execute(statement, execution_options={"yield_per": 2000})


def adherence_streams(patient_ids: Select, start: date, end: date, bucket=by_day):
    """(due rows, done rows), each an iterator sorted by (patient_id, bucket)."""
    today = _patient_today(patient_ids)
    return (
        _stream(due_statement(patient_ids, start, end, bucket, today)),
        _stream(done_statement(patient_ids, start, end, bucket, today)),
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
