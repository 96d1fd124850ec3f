"""Export jobs: a report too big to answer at once (services/export.py's
generators), written to a file under EXPORT_DIR by the worker.

A request queues the job; the worker (`flask reminders run`) claims it with a
conditional UPDATE, so two workers never run one job, streams the report into
a file with its progress, and marks it done (and mails the requester) or
failed. Files older than EXPORT_KEEP_DAYS are deleted.
"""

import logging
import os
import secrets
import time
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from backend import mail
from backend.auth import may_still_export, visible_patients
from backend.extensions import db, lift_statement_timeout
from backend.i18n import speaking
from backend.links import public_url
from backend.models import ExportJob, PatientProfile, User
from backend.schemas.progress import ReportRowSchema
from backend.services import export
from backend.services.dates import now_utc

log = logging.getLogger(__name__)
PROGRESS_EVERY = 200  # patients between two progress updates
STALLED_AFTER = timedelta(hours=1)  # a running job this old lost its worker


def needs_job(patient_ids, start: date, end: date) -> bool:
    """Whether a report is too big to answer at once: a range over
    EXPORT_JOB_DAYS days, or over EXPORT_JOB_PATIENTS patients."""
    config = current_app.config
    if (end - start).days + 1 > config["EXPORT_JOB_DAYS"]:
        return True
    return _count(patient_ids) > config["EXPORT_JOB_PATIENTS"]


def _count(patient_ids) -> int:
    return db.session.scalar(select(func.count()).select_from(patient_ids.subquery()))


def queue(admin: User, kind: str, start: date, end: date, **params) -> ExportJob:
    """A queued job for `admin`'s report; the caller commits."""
    job = ExportJob(
        clinic_id=admin.clinic_id,
        requested_by=admin.id,
        kind=kind,
        params={"from": start.isoformat(), "to": end.isoformat(), **params},
    )
    db.session.add(job)
    db.session.flush()
    return job


def file_path(job: ExportJob) -> Path | None:
    """Where a done job's file is, if it is still there."""
    if job.state != "done" or not job.file_name:
        return None
    path = Path(current_app.config["EXPORT_DIR"]) / job.file_name
    return path if path.is_file() else None


def read_file(path: Path, chunk: int = 256 * 1024):
    """The file in chunks, closed when the answer ends (streamed, so that
    compression streams it too rather than reading it whole)."""
    with open(path, "rb") as file:
        while data := file.read(chunk):
            yield data


def download_name(job: ExportJob) -> str:
    return f"homeward-adherence-{job.params['from']}-{job.params['to']}.{job.kind}"


def claim() -> ExportJob | None:
    """The oldest queued job, now running for this worker; None when there is
    none. The UPDATE only succeeds while the job is still queued, so of two
    workers racing for one job exactly one gets it."""
    while True:
        job_id = db.session.scalar(
            select(ExportJob.id)
            .where(ExportJob.state == "queued")
            .order_by(ExportJob.id)
            .limit(1)
        )
        if job_id is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.state == "queued")
            .values(state="running", started_at=now_utc(), progress=0.0)
        ).rowcount
        db.session.commit()
        if claimed == 1:
            return db.session.get(ExportJob, job_id, populate_existing=True)


def run_queued(budget_seconds: float = 50.0) -> int:
    """Run queued jobs until none is left or the budget is spent (the worker
    also sends reminders); the number run."""
    started, ran = time.monotonic(), 0
    while time.monotonic() - started < budget_seconds:
        job = claim()
        if job is None:
            break
        run(job)
        ran += 1
    return ran


def run(job: ExportJob) -> None:
    """Write a claimed job's file, then mark it done (and tell the requester)
    or failed with its error."""
    directory = Path(current_app.config["EXPORT_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{job.id}-{secrets.token_hex(8)}.{job.kind}"
    partial = directory / f".{name}.part"
    try:
        rows = _write(job, partial)
        os.replace(partial, directory / name)
    except Exception as error:  # recorded on the job, for the admin to see
        db.session.rollback()
        partial.unlink(missing_ok=True)
        log.exception("export job %s failed", job.id)
        _finish(job.id, state="failed", error=f"{type(error).__name__}: {error}")
        return
    _finish(job.id, state="done", progress=1.0, rows=rows, file_name=name)
    _tell_requester(job)


def _finish(job_id: int, **values) -> None:
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(finished_at=now_utc(), **values)
    )
    db.session.commit()


def _selection(job: ExportJob):
    """The patient ids the requester may see now (an admin no longer, or
    gone: the job fails)."""
    admin = db.session.get(User, job.requested_by) if job.requested_by else None
    if not may_still_export(admin):
        raise PermissionError("the admin who asked for it may no longer export")
    patients = visible_patients(admin)
    if job.params.get("therapist_id") is not None:
        therapist_id = job.params["therapist_id"]
        patients = patients.where(PatientProfile.therapist_id == therapist_id)
    return patients.with_only_columns(User.id)


def _write(job: ExportJob, path: Path) -> int:
    """Stream the report into `path`; the number of rows. A clinic-sized
    report reads longer than a request's statement_timeout allows: on
    PostgreSQL this transaction lifts it (the worker has no waiting user)."""
    lift_statement_timeout()
    ids = _selection(job)
    start = date.fromisoformat(job.params["from"])
    end = date.fromisoformat(job.params["to"])
    total = max(1, _count(ids))
    counted = {"rows": 0, "patients": 0, "last": None}

    def counting(rows):
        for row in rows:
            counted["rows"] += 1
            if row["patient_id"] != counted["last"]:
                counted["last"] = row["patient_id"]
                counted["patients"] += 1
                if counted["patients"] % PROGRESS_EVERY == 0:
                    _note_progress(job.id, counted["patients"] / total)
            yield row

    rows = counting(export.weekly_rows(ids, start, end))
    if job.kind == "csv":
        # the readable headers in the language of the admin who asked
        with speaking(db.session.get(User, job.requested_by)):
            chunks = export.csv_lines(
                rows, start, end, contract=bool(job.params.get("contract"))
            )
    else:
        schema = ReportRowSchema()
        chunks = export.json_array(
            rows, lambda row: current_app.json.dumps(schema.dump(row))
        )
    with open(path, "w", encoding="utf-8", newline="") as file:
        for chunk in chunks:
            file.write(chunk)
    return counted["rows"]


def _note_progress(job_id: int, progress: float) -> None:
    """On a connection of its own: the report's read keeps its transaction
    (and server-side cursors) open until the last row."""
    with db.engine.begin() as connection:
        connection.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(progress=min(progress, 0.99))
        )


def _tell_requester(job: ExportJob) -> None:
    admin = db.session.get(User, job.requested_by) if job.requested_by else None
    if admin is None or not mail.enabled():
        return
    mail.queue(
        admin,
        _l("Your report is ready"),
        "export_ready",
        kind="export",
        name=admin.name,
        clinic_name=admin.clinic.name,
        link=public_url("/#/reports"),
    )
    db.session.commit()


def delete_old_files() -> int:
    """Delete files of jobs finished more than EXPORT_KEEP_DAYS ago (their rows
    stay, without a file); the number deleted. Jobs left running by a worker
    that stopped are marked failed."""
    db.session.execute(
        update(ExportJob)
        .where(
            ExportJob.state == "running",
            ExportJob.started_at < now_utc() - STALLED_AFTER,
        )
        .values(
            state="failed",
            finished_at=now_utc(),
            error="The worker stopped while writing it: ask again.",
        )
    )
    keep = timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    old = db.session.scalars(
        select(ExportJob).where(
            ExportJob.file_name.is_not(None), ExportJob.finished_at < now_utc() - keep
        )
    ).all()
    directory = Path(current_app.config["EXPORT_DIR"])
    for job in old:
        (directory / job.file_name).unlink(missing_ok=True)
        job.file_name = None
    db.session.commit()
    return len(old)
