"""The clinic's weekly adherence report: one row per patient per ISO week.

The sums run in SQL (see adherence.py); rows are streamed out, so a year of a
large clinic never sits in memory.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date

from sqlalchemy import Select, and_, select, true
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.models import PatientProfile, User
from backend.services.adherence import (
    adherence_statement,
    calendar,
    pain_statement,
    week_start,
)

COLUMNS = [
    "patient_id",
    "patient_name",
    "therapist_name",
    "week_start",
    "sessions_due",
    "sessions_done",
    "adherence_pct",
    "pain_mean",
    "pain_max",
    "pain_logs",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def weekly_statement(patient_ids: Select, start: date, end: date) -> Select:
    cal = calendar(start, end, week_start)
    adherence = adherence_statement(patient_ids, cal).subquery("adherence")
    pain = pain_statement(patient_ids, cal).subquery("pain")
    weeks = select(cal.c.bucket.label("week_start")).distinct().subquery("weeks")
    therapist = aliased(User)
    return (
        select(
            User.id.label("patient_id"),
            User.name.label("patient_name"),
            therapist.name.label("therapist_name"),
            weeks.c.week_start,
            adherence.c.due,
            adherence.c.done,
            pain.c.pain_mean,
            pain.c.pain_max,
            pain.c.pain_logs,
        )
        .select_from(User)
        .join(PatientProfile, PatientProfile.user_id == User.id)
        .outerjoin(therapist, therapist.id == PatientProfile.therapist_id)
        .join(weeks, true())
        .outerjoin(
            adherence,
            and_(
                adherence.c.patient_id == User.id,
                adherence.c.bucket == weeks.c.week_start,
            ),
        )
        .outerjoin(
            pain,
            and_(pain.c.patient_id == User.id, pain.c.bucket == weeks.c.week_start),
        )
        .where(User.id.in_(patient_ids))
        .order_by(User.name, User.id, weeks.c.week_start)
    )


def weekly_rows(patient_ids: Select, start: date, end: date) -> Iterator[dict]:
    """Report rows as plain dicts, fetched from the database in batches."""
    result = db.session.execute(
        weekly_statement(patient_ids, start, end),
        execution_options={"yield_per": 1000},
    )
    for row in result:
        due, done = int(row.due or 0), int(row.done or 0)
        yield {
            "patient_id": row.patient_id,
            "patient_name": row.patient_name,
            "therapist_name": row.therapist_name,
            "week_start": row.week_start,
            "sessions_due": due,
            "sessions_done": done,
            "adherence_pct": round(done / due * 100, 1) if due else None,
            "pain_mean": round(float(row.pain_mean), 2)
            if row.pain_mean is not None
            else None,
            "pain_max": row.pain_max,
            "pain_logs": int(row.pain_logs or 0),
        }


def neutralise(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    """The header, then rows in chunks of about 64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for index, row in enumerate(rows, 1):
        writer.writerow([neutralise(row[column]) for column in COLUMNS])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
