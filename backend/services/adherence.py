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


def calendar(start: date, end: date, bucket: Callable[[date], date] = by_day):
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
    return union_all(*rows).cte("calendar")


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


def _in_force(day_column):
    return and_(
        Version.starts_on <= day_column,
        or_(Version.ends_on.is_(None), Version.ends_on >= day_column),
    )


def adherence_statement(patient_ids: Select, cal) -> Select:
    """(patient_id, bucket, due, done) for every bucket with something due.

    `patient_ids` is a SELECT of the patients to include (the caller's access
    rules), `cal` a `calendar()`. Days after each patient's own today are left
    out.
    """
    timezones = db.session.scalars(
        select(PatientProfile.timezone)
        .where(PatientProfile.user_id.in_(patient_ids))
        .distinct()
    ).all() or ["UTC"]
    today = today_by_timezone(timezones)
    due_days = (
        select(
            Version.patient_id.label("patient_id"),
            cal.c.day,
            cal.c.bucket,
            ProgrammeItem.exercise_id,
            ProgrammeItem.times_per_day.label("due"),
        )
        .select_from(cal)
        .join(Version, _in_force(cal.c.day))
        .join(PatientProfile, PatientProfile.user_id == Version.patient_id)
        .join(today, today.c.timezone == PatientProfile.timezone)
        .join(
            ProgrammeItem,
            and_(
                ProgrammeItem.programme_id == Version.id,
                ProgrammeItem.weekday_mask.op("&")(cal.c.bit) != 0,
            ),
        )
        .where(Version.patient_id.in_(patient_ids), cal.c.day <= today.c.today)
        .cte("due_days")
    )
    ticks = (
        select(
            ExerciseLog.patient_id,
            ExerciseLog.performed_on,
            ExerciseLog.exercise_id,
            func.count().label("ticks"),
        )
        .where(
            ExerciseLog.patient_id.in_(patient_ids),
            ExerciseLog.performed_on.in_(select(cal.c.day)),
            ExerciseLog.deleted_at.is_(None),
        )
        .group_by(
            ExerciseLog.patient_id, ExerciseLog.performed_on, ExerciseLog.exercise_id
        )
        .cte("ticks")
    )
    ticked = func.coalesce(ticks.c.ticks, 0)
    done = case((ticked < due_days.c.due, ticked), else_=due_days.c.due)
    return (
        select(
            due_days.c.patient_id,
            due_days.c.bucket,
            func.sum(due_days.c.due).label("due"),
            func.sum(done).label("done"),
        )
        .select_from(due_days)
        .outerjoin(
            ticks,
            and_(
                ticks.c.patient_id == due_days.c.patient_id,
                ticks.c.performed_on == due_days.c.day,
                ticks.c.exercise_id == due_days.c.exercise_id,
            ),
        )
        .group_by(due_days.c.patient_id, due_days.c.bucket)
    )


def pain_statement(patient_ids: Select, cal) -> Select:
    """(patient_id, bucket, pain_mean, pain_max, spasms, pain_logs) where logged."""
    return (
        select(
            PainLog.patient_id,
            cal.c.bucket,
            func.avg(PainLog.score).label("pain_mean"),
            func.max(PainLog.score).label("pain_max"),
            func.sum(func.coalesce(PainLog.spasms, 0)).label("spasms"),
            func.count().label("pain_logs"),
        )
        .select_from(PainLog)
        .join(cal, cal.c.day == PainLog.logged_on)
        .where(PainLog.patient_id.in_(patient_ids))
        .group_by(PainLog.patient_id, cal.c.bucket)
    )


def adherence_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): Totals} for buckets with something due."""
    return {
        (row.patient_id, row.bucket): Totals(int(row.due), int(row.done))
        for row in db.session.execute(
            adherence_statement(patient_ids, calendar(start, end, bucket))
        )
    }


def pain_by(patient_ids: Select, start: date, end: date, bucket=by_day) -> dict:
    """{(patient_id, bucket): row with pain_mean, pain_max, spasms, pain_logs}."""
    return {
        (row.patient_id, row.bucket): row
        for row in db.session.execute(
            pain_statement(patient_ids, calendar(start, end, bucket))
        )
    }
