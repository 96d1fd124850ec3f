"""The clinic's weekly adherence report: one row per patient per ISO week.

Due, done and pain come from adherence.py as three streams sorted by patient
and week; they are merged as they arrive, so a year of a large clinic never
sits in memory.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.models import PatientProfile, User
from backend.services.adherence import adherence_streams, pain_stream, week_start

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


class _Cursor:
    """One sorted stream of (patient_id, bucket, ...) rows, read ahead by one."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._advance()

    def _advance(self):
        self.row = next(self._rows, None)

    def take(self, patient_id, week):
        """The row for this patient and week, if the stream has one."""
        row = self.row
        if row is not None and (row.patient_id, row.bucket) == (patient_id, week):
            self._advance()
            return row
        return None


def _weeks(start: date, end: date) -> list[date]:
    first, weeks = week_start(start), []
    while first <= end:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def weekly_rows(patient_ids: Select, start: date, end: date) -> Iterator[dict]:
    """Report rows as plain dicts: every visible patient × every ISO week.

    Three sorted aggregates (due, done, pain; see adherence.py) are merged as
    they stream in, so memory does not grow with the clinic or the range.
    """
    due_rows, done_rows = adherence_streams(patient_ids, start, end, week_start)
    pain_rows = pain_stream(patient_ids, start, end, week_start)
    with due_rows, done_rows, pain_rows:  # closes server-side cursors early too
        yield from _merge(patient_ids, start, end, due_rows, done_rows, pain_rows)


def _merge(patient_ids, start, end, due_rows, done_rows, pain_rows):
    due, done, pain = _Cursor(due_rows), _Cursor(done_rows), _Cursor(pain_rows)
    therapist = aliased(User)
    patients = db.session.execute(
        select(User.id, User.name, therapist.name.label("therapist_name"))
        .join(PatientProfile, PatientProfile.user_id == User.id)
        .outerjoin(therapist, therapist.id == PatientProfile.therapist_id)
        .where(User.id.in_(patient_ids))
        .order_by(User.id),
        execution_options={"yield_per": 1000},
    )
    weeks = _weeks(start, end)
    for patient in patients:
        for week in weeks:
            due_row, done_row = due.take(patient.id, week), done.take(patient.id, week)
            pain_row = pain.take(patient.id, week)
            sessions_due = int(due_row.due) if due_row else 0
            sessions_done = int(done_row.done) if done_row else 0
            yield {
                "patient_id": patient.id,
                "patient_name": patient.name,
                "therapist_name": patient.therapist_name,
                "week_start": week,
                "sessions_due": sessions_due,
                "sessions_done": sessions_done,
                "adherence_pct": round(sessions_done / sessions_due * 100, 1)
                if sessions_due
                else None,
                "pain_mean": round(float(pain_row.pain_mean), 2) if pain_row else None,
                "pain_max": pain_row.pain_max if pain_row else None,
                "pain_logs": int(pain_row.pain_logs) if pain_row else 0,
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
