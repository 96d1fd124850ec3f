"""Export jobs: a report too big to answer at once (services/export.py's
generators), written to a file under EXPORT_DIR by the worker.

A request queues the job (at most MAX_OPEN per clinic at once); the worker's
`export-jobs` task (backend/worker.py) claims it with a conditional UPDATE,
so two workers never run one job, streams the report into a file
(mode 0600) with its progress, and marks it done (and mails the requester) or
failed. While writing, the worker renews the job's lease every RENEW_EVERY
seconds: a job whose lease ran out lost its worker (killed, machine gone) and
is taken again from the start, once; then it fails. `.part` files of no live
job are removed. Files older than EXPORT_KEEP_DAYS are deleted.

Who may see which patients, and how a report row looks on the wire, are the
layers above's (backend/access.py, backend/schemas/): this module imports
neither. The app factory hands them in once, with `init_app(app, patients,
dump_row)`: `patients(job)` rebuilds, from what the job row stores (who asked,
its `params`), the SELECT of the patient ids the requester may see now (and
raises PermissionError when they may no longer export); `dump_row(row)` is a
report row as one JSON value. A worker is an app built by the same factory,
so it runs jobs with the same rules as the request that queued them.
"""

import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select, update

from backend import mail
from backend.extensions import db, lift_statement_timeout
from backend.i18n import speaking
from backend.links import public_url
from backend.models import Clinic, ExportJob, User
from backend.services import export
from backend.services.dates import now_utc

log = logging.getLogger(__name__)
PROGRESS_EVERY = 200  # patients between two progress updates
LEASE = timedelta(seconds=30)  # a running job not renewed for this long lost its worker
RENEW_EVERY = 5.0  # seconds between two renewals while writing
MAX_ATTEMPTS = 2  # the first run and one retry
MAX_OPEN = 3  # queued or running jobs per clinic
OPEN_STATES = ("queued", "running")
WORKER_STOPPED = "The worker stopped twice while writing it: ask again."


class TooManyJobs(Exception):
    """The clinic has MAX_OPEN jobs queued or running already."""


@dataclass(frozen=True)
class ReportRules:
    """What the layers above decide for a job's report (see the docstring)."""

    patients: Callable[[ExportJob], Select]
    dump_row: Callable[[dict], str]


def init_app(
    app: Flask,
    patients: Callable[[ExportJob], Select],
    dump_row: Callable[[dict], str],
) -> None:
    """Give this app's worker the patient selection and the row format."""
    app.extensions["homeward_jobs"] = ReportRules(patients, dump_row)


def _rules() -> ReportRules:
    return current_app.extensions["homeward_jobs"]


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
    """A queued job for `admin`'s report; the caller commits. `TooManyJobs`
    when the clinic has MAX_OPEN open already (counted under a lock of the
    clinic's row on PostgreSQL, so two requests at once cannot both pass)."""
    db.session.execute(
        select(Clinic.id).where(Clinic.id == admin.clinic_id).with_for_update()
    )
    open_jobs = db.session.scalar(
        select(func.count()).where(
            ExportJob.clinic_id == admin.clinic_id, ExportJob.state.in_(OPEN_STATES)
        )
    )
    if open_jobs >= MAX_OPEN:
        raise TooManyJobs
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


def _lost(now):
    """A running job whose worker stopped renewing its lease."""
    return and_(ExportJob.state == "running", ExportJob.lease_until < now)


def claim() -> ExportJob | None:
    """The oldest queued job, or one whose worker is gone, now running for
    this worker; None when there is none. The UPDATE only succeeds while the
    job is as read, so of two workers racing for one job exactly one gets it.
    A job whose worker died on its last attempt is marked failed instead."""
    now = now_utc()
    db.session.execute(
        update(ExportJob)
        .where(_lost(now), ExportJob.attempts >= MAX_ATTEMPTS)
        .values(state="failed", finished_at=now, lease_until=None, error=WORKER_STOPPED)
    )
    db.session.commit()
    while True:
        now = now_utc()
        found = db.session.execute(
            select(ExportJob.id, ExportJob.attempts)
            .where(or_(ExportJob.state == "queued", _lost(now)))
            .order_by(ExportJob.id)
            .limit(1)
        ).first()
        if found is None:
            db.session.commit()
            return None
        job_id, attempts = found
        claimed = db.session.execute(
            update(ExportJob)
            .where(
                ExportJob.id == job_id,
                ExportJob.attempts == attempts,
                or_(ExportJob.state == "queued", _lost(now)),
            )
            .values(
                state="running",
                started_at=now,
                lease_until=now + LEASE,
                attempts=attempts + 1,
                progress=0.0,
            )
        ).rowcount
        db.session.commit()
        if claimed == 1:
            return db.session.get(ExportJob, job_id, populate_existing=True)


def run_queued(budget_seconds: float = 50.0) -> int:
    """Run queued jobs until none is left or the budget is spent (the worker
    also sends reminders); the number run."""
    started, ran = time.monotonic(), 0
    remove_orphan_parts()
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
    for earlier in directory.glob(f".{job.id}-*.part"):  # a dead attempt's
        earlier.unlink(missing_ok=True)
    name = f"{job.id}-{secrets.token_hex(8)}.{job.kind}"
    partial = directory / f".{name}.part"
    try:
        rows = _write(job, partial)
        os.replace(partial, directory / name)
    except Exception as error:  # recorded on the job, for the admin to see
        db.session.rollback()
        partial.unlink(missing_ok=True)
        log.exception("export job %s failed", job.id)
        _finish(job, state="failed", error=f"{type(error).__name__}: {error}")
        return
    if _finish(job, state="done", progress=1.0, rows=rows, file_name=name):
        _tell_requester(job)
    else:  # this worker's lease ran out and another took the job
        (directory / name).unlink(missing_ok=True)


def _finish(job: ExportJob, **values) -> bool:
    """Record the outcome, if the job is still this attempt's."""
    finished = db.session.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job.id,
            ExportJob.state == "running",
            ExportJob.attempts == job.attempts,
        )
        .values(finished_at=now_utc(), lease_until=None, **values)
    ).rowcount
    db.session.commit()
    return finished == 1


def _write(job: ExportJob, path: Path) -> int:
    """Stream the report into `path`; the number of rows. A clinic-sized
    report reads longer than a request's statement_timeout allows: on
    PostgreSQL this transaction lifts it (the worker has no waiting user)."""
    lift_statement_timeout()
    rules = _rules()
    ids = rules.patients(job)  # PermissionError: the job fails
    start = date.fromisoformat(job.params["from"])
    end = date.fromisoformat(job.params["to"])
    total = max(1, _count(ids))
    counted = {"rows": 0, "patients": 0, "last": None, "renewed": time.monotonic()}

    def counting(rows):
        for row in rows:
            counted["rows"] += 1
            if row["patient_id"] != counted["last"]:
                counted["last"] = row["patient_id"]
                counted["patients"] += 1
                if counted["patients"] % PROGRESS_EVERY == 0:
                    _note_progress(job, counted["patients"] / total)
                    counted["renewed"] = time.monotonic()
            if time.monotonic() - counted["renewed"] >= RENEW_EVERY:
                _note_progress(job, None)
                counted["renewed"] = time.monotonic()
            yield row

    rows = counting(export.weekly_rows(ids, start, end))
    if job.kind == "csv":
        # the readable headers in the language of the admin who asked
        with speaking(db.session.get(User, job.requested_by)):
            chunks = export.csv_lines(
                rows, start, end, contract=bool(job.params.get("contract"))
            )
    else:
        chunks = export.json_array(rows, rules.dump_row)
    # readable by this user only: a clinic's patients' health data
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as file:
        for chunk in chunks:
            file.write(chunk)
    return counted["rows"]


def _note_progress(job: ExportJob, progress: float | None) -> None:
    """Renew the job's lease (and note its progress, if given). On a
    connection of its own: the report's read keeps its transaction (and
    server-side cursors) open until the last row."""
    values = {"lease_until": now_utc() + LEASE}
    if progress is not None:
        values["progress"] = min(progress, 0.99)
    with db.engine.begin() as connection:
        connection.execute(
            update(ExportJob)
            .where(ExportJob.id == job.id, ExportJob.attempts == job.attempts)
            .values(**values)
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


def remove_orphan_parts() -> int:
    """Delete `.part` files of no live job (their worker died); the number
    deleted. A job still running under its lease keeps its file."""
    directory = Path(current_app.config["EXPORT_DIR"])
    if not directory.is_dir():
        return 0
    live = set(
        db.session.scalars(
            select(ExportJob.id).where(
                ExportJob.state == "running", ExportJob.lease_until >= now_utc()
            )
        )
    )
    db.session.commit()
    removed = 0
    for part in directory.glob(".*.part"):
        job_id = part.name[1:].split("-", 1)[0]
        if not (job_id.isdigit() and int(job_id) in live):
            part.unlink(missing_ok=True)
            removed += 1
    return removed


def delete_old_files() -> int:
    """Delete files of jobs finished more than EXPORT_KEEP_DAYS ago (their rows
    stay, without a file); the number deleted."""
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
