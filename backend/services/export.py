"""The clinic's weekly adherence report: one row per patient per ISO week.

Due, done and pain come from adherence.py as three streams sorted by patient
and week; they are merged as they arrive, so a year of a large clinic never
sits in memory.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.models import PatientProfile, User
from backend.services.adherence import adherence_streams, pain_stream, week_start
from backend.services.dates import today_in

# The contract's columns, in its order and spelling (`?format=contract`).
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
# The default CSV, for people in a spreadsheet: readable headers (in the
# reader's language), how many of the week's days the range covers, and no
# weeks before a patient enrolled.
HEADERS = {
    "patient_id": _l("Patient ID"),
    "patient_name": _l("Patient"),
    "therapist_name": _l("Therapist"),
    "week_start": _l("Week starting (Monday)"),
    "days_in_range": _l("Days of the week in the range"),
    "sessions_due": _l("Sessions due"),
    "sessions_done": _l("Sessions done"),
    "adherence_pct": _l("Adherence %"),
    "pain_mean": _l("Mean pain (0-10)"),
    "pain_max": _l("Worst pain (0-10)"),
    "pain_logs": _l("Pain check-ins"),
}
# A spreadsheet runs a cell that starts with one of these as a formula
# (OWASP CSV injection), and some split cells at "," or ";" and look again.
RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
RISKY_INSIDE = re.compile(r"[,;]\s*[=+\-@\t\r\n\0]")
BOM = "\ufeff"  # so Excel reads the file as UTF-8 (accents in names)


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
        select(
            User.id,
            User.name,
            User.created_at,
            PatientProfile.timezone,
            therapist.name.label("therapist_name"),
        )
        .join(PatientProfile, PatientProfile.user_id == User.id)
        .outerjoin(therapist, therapist.id == PatientProfile.therapist_id)
        .where(User.id.in_(patient_ids))
        .order_by(User.id),
        execution_options={"yield_per": 1000},
    )
    weeks = _weeks(start, end)
    for patient in patients:
        enrolled_on = today_in(patient.timezone, patient.created_at)
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
                "enrolled_on": enrolled_on,  # not in the JSON report's schema
            }


def neutralise(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: a leading `'`
    when it starts with a risky character, or has one after a `,` or `;`."""
    if value is None:
        return ""
    if type(value) in (int, float) and value >= 0:
        return str(value)  # digits: nothing to neutralise (most of a report's cells)
    text = value.isoformat() if isinstance(value, date) else str(value)
    if text.startswith(RISKY_STARTS) or RISKY_INSIDE.search(text):
        return "'" + text
    return text


def days_in_range(week: date, start: date, end: date) -> int:
    first, last = max(week, start), min(week + timedelta(days=6), end)
    return max(0, (last - first).days + 1)


def csv_stream(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """A UTF-8 BOM and the header, then every row: every field quoted and
    neutralised, in chunks of about 500 rows (a spreadsheet-safe CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for index, row in enumerate(rows, 1):
        writer.writerow([neutralise(value) for value in row])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


JSON_CHUNK_ROWS = 500


def json_array(rows: Iterable, dumps) -> Iterator[str]:
    """The rows as one JSON array, each written by `dumps` as it comes, in
    chunks of JSON_CHUNK_ROWS rows (the JSON report, streamed like the CSV)."""
    chunk, separator = ["["], ""
    for index, row in enumerate(rows, 1):
        chunk.append(separator + dumps(row))
        separator = ","
        if index % JSON_CHUNK_ROWS == 0:
            yield "".join(chunk)
            chunk = []
    chunk.append("]")
    yield "".join(chunk)


def csv_lines(
    rows: Iterator[dict], start: date, end: date, contract: bool = False
) -> Iterator[str]:
    """The report as CSV. `contract`: exactly the contract's columns and rows;
    else the readable default (see HEADERS)."""
    if contract:
        return csv_stream(COLUMNS, ([row[c] for c in COLUMNS] for row in rows))
    columns = list(HEADERS)
    header = [str(HEADERS[column]) for column in columns]
    return csv_stream(header, _for_people(rows, start, end))


def _for_people(rows, start, end):
    for row in rows:
        week = row["week_start"]
        if week + timedelta(days=6) < row["enrolled_on"]:
            continue  # the patient was not there yet
        row["days_in_range"] = days_in_range(week, start, end)  # a fresh dict
        yield [row[column] for column in HEADERS]
