"""Export jobs: a big adherence report written to a file by the worker.

Admins only (a therapist gets 403); another clinic's job is a 404. The
worker's patient selection and row format (`job_patients`, `dump_report_row`)
are given to services/jobs.py by the app factory.
"""

from flask import Response, current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from backend import mail
from backend.access import (
    clinic_record_or_404,
    may_still_export,
    require_role,
    visible_patients,
)
from backend.api.common import documents
from backend.extensions import db
from backend.models import ExportJob, PatientProfile, User
from backend.schemas.jobs import ExportJobInSchema, ExportJobSchema
from backend.schemas.progress import ReportRowSchema
from backend.services import jobs

blp = Blueprint(
    "jobs", __name__, url_prefix="/api/reports", description="Report export jobs"
)


def job_patients(job: ExportJob):
    """The ids of the patients a job's requester may see now (an admin no
    longer, or gone: PermissionError, and the job fails)."""
    admin = db.session.get(User, job.requested_by) if job.requested_by else None
    if not may_still_export(admin):
        raise PermissionError("the admin who asked for it may no longer export")
    patients = visible_patients(admin)
    if job.params.get("therapist_id") is not None:
        therapist_id = job.params["therapist_id"]
        patients = patients.where(PatientProfile.therapist_id == therapist_id)
    return patients.with_only_columns(User.id)


_ROW = ReportRowSchema()


def dump_report_row(row: dict) -> str:
    """A report row as the JSON the adherence report answers."""
    return current_app.json.dumps(_ROW.dump(row))


def job_answer(job: ExportJob, status: int = 200):
    """The job as JSON, with where to download its file once it is ready."""
    body = ExportJobSchema().dump(job)
    body["file_url"] = (
        url_for("jobs.report_job_file", job_id=job.id) if job.state == "done" else None
    )
    body["mail"] = mail.enabled()
    response = jsonify(body)
    response.status_code = status
    if status == 202:
        response.headers["Location"] = url_for("jobs.report_job", job_id=job.id)
    return response


def queue_report(admin: User, kind: str, start, end, **params):
    """Queue the report as a job and answer 202 with it (429 while the clinic
    has jobs.MAX_OPEN queued or running)."""
    try:
        job = jobs.queue(admin, kind, start, end, **params)
    except jobs.TooManyJobs:
        db.session.rollback()
        abort(
            429,
            message=_(
                "Your clinic already has %(count)s reports being prepared: "
                "wait for one to finish, then ask again.",
                count=jobs.MAX_OPEN,
            ),
            headers={"Retry-After": "60"},
        )
    db.session.commit()
    return job_answer(job, 202)


def _job_or_404(job_id: int) -> ExportJob:
    return clinic_record_or_404(ExportJob, job_id, _("No such export."))


@blp.route("/adherence/jobs", methods=["POST"])
@blp.arguments(ExportJobInSchema())
@blp.response(202, ExportJobSchema())
@documents(blp, 401, 403, 422, 429)
def request_report_job(body):
    """Queue the adherence report as a file the worker writes (any size):
    poll the job, then download its `file_url`."""
    admin = require_role("admin")
    params = {"contract": True} if body["format"] == "contract" else {}
    if "therapist_id" in body:
        params["therapist_id"] = body["therapist_id"]
    kind = "json" if body["format"] == "json" else "csv"
    return queue_report(admin, kind, body["start"], body["end"], **params)


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@blp.response(200, ExportJobSchema())
@documents(blp, 401, 403, 404)
def report_job(job_id):
    """A job's state and progress (0 to 1), for a progress bar."""
    return job_answer(_job_or_404(job_id))


@blp.route("/jobs/<int:job_id>/file", methods=["GET"])
@blp.response(200, content_type="text/csv", description="The report's file.")
@documents(blp, 401, 403, 404, 409)
def report_job_file(job_id):
    """The job's file, as an attachment: 409 until it is ready, 404 once it
    has been deleted (after EXPORT_KEEP_DAYS)."""
    job = _job_or_404(job_id)
    if job.state in ("queued", "running"):
        abort(409, message=_("The report is not ready yet."))
    path = jobs.file_path(job)
    if path is None:
        abort(404, message=_("This export has no file (failed, or deleted)."))
    return Response(
        jobs.read_file(path),
        mimetype="text/csv" if job.kind == "csv" else "application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{jobs.download_name(job)}"',
            "Cache-Control": "no-store",
        },
    )
