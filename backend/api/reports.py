"""The clinic's adherence report, as JSON and as a streamed CSV download.

Both answer to a session cookie or to an API token (`Authorization: Bearer`).
An admin's report over EXPORT_JOB_PATIENTS patients or EXPORT_JOB_DAYS days
is queued as an export job instead (202, api/jobs.py).
"""

from datetime import timedelta

from flask import Response, stream_with_context
from flask_smorest import Blueprint

from backend.access import actor, exports_as_job, require_role, visible_patients
from backend.api.common import documents
from backend.api.jobs import dump_report_row, queue_report
from backend.models import PatientProfile, User
from backend.schemas.jobs import ExportJobSchema
from backend.schemas.progress import CsvQuerySchema, ReportQuerySchema, ReportRowSchema
from backend.services import export, jobs
from backend.services.adherence import week_start
from backend.services.dates import now_utc

blp = Blueprint(
    "reports", __name__, url_prefix="/api/reports", description="Clinic reports"
)

DEFAULT_WEEKS = 4


def _selection(query: dict):
    """(patient ids SELECT, from, to) for the caller and the query."""
    user = require_role("therapist", "admin")
    patients = visible_patients(user)
    if "therapist_id" in query:
        patients = patients.where(PatientProfile.therapist_id == query["therapist_id"])
    ids = patients.with_only_columns(User.id)
    # a day ahead of UTC covers every patient's today; later days are never due
    end = query.get("end") or (now_utc() + timedelta(days=1)).date()
    start = query.get("start") or week_start(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
    return ids, start, end


def _job_instead(query: dict, ids, start, end, kind: str, **params):
    """A 202 with an export job when an admin's report is too big to answer
    at once (a therapist's own patients are always answered at once)."""
    user = actor()
    if not exports_as_job(user) or not jobs.needs_job(ids, start, end):
        return None
    if "therapist_id" in query:
        params["therapist_id"] = query["therapist_id"]
    return queue_report(user, kind, start, end, **params)


JOB_INSTEAD = {
    "schema": ExportJobSchema,
    "description": "An admin's report over 2,000 patients or a year (settings "
    "EXPORT_JOB_PATIENTS, EXPORT_JOB_DAYS): queued as an export job; poll "
    "GET /api/reports/jobs/{id}, then download its file_url.",
}


@blp.route("/adherence", methods=["GET"])
@blp.arguments(ReportQuerySchema(), location="query")
@blp.response(200, ReportRowSchema(many=True))
@blp.alt_response(202, **JOB_INSTEAD)
@documents(blp, 401, 403, 429)
def adherence_report(query):
    """One row per patient per ISO week (Monday start) in the range, streamed
    as a JSON array (memory stays flat, whatever the clinic's size)."""
    ids, start, end = _selection(query)
    if (job := _job_instead(query, ids, start, end, "json")) is not None:
        return job
    rows = export.weekly_rows(ids, start, end)
    lines = export.json_array(rows, dump_report_row)
    return Response(stream_with_context(lines), mimetype="application/json")


@blp.route("/adherence.csv", methods=["GET"])
@blp.arguments(CsvQuerySchema(), location="query")
@blp.response(200, content_type="text/csv", description="The same rows as CSV.")
@blp.alt_response(202, **JOB_INSTEAD)
@documents(blp, 401, 403, 429)
def adherence_report_csv(query):
    """The report as CSV, streamed; every field quoted, formula-like cells
    neutralised with a '. By default for people (readable headers, days in
    range, no weeks before a patient enrolled); `format=contract` gives
    exactly the contract's columns, header and rows, for scripts."""
    ids, start, end = _selection(query)
    contract = query.get("format") == "contract"
    params = {"contract": True} if contract else {}
    if (job := _job_instead(query, ids, start, end, "csv", **params)) is not None:
        return job
    rows = export.weekly_rows(ids, start, end)
    lines = export.csv_lines(rows, start, end, contract=contract)
    filename = f"homeward-adherence-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
