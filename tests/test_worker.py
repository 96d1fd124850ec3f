"""The worker (backend/worker.py): each named task run once does its work,
for real (mail to an SMTP server, reminders to a push service, export files
on disk); the running `flask worker` sends mail within seconds, keeps going
past a task that fails and a mail server that hangs, and stops on SIGTERM."""

import os
import signal
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from backend.extensions import db
from backend.models import ExportJob, OutboxMail, User
from backend.services import jobs
from backend.worker import TASKS
from tests.conftest import EMAILS
from tests.serving import BIN, ROOT
from tests.tcp_proxy import TcpProxy
from tests.test_mail_outbox import ask_reset
from tests.test_reminders import at, set_up


@pytest.fixture
def exports(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path / "exports"))
    return tmp_path / "exports"


def run_once(app, task: str):
    return app.test_cli_runner().invoke(args=["worker", "run-once", task])


def queue_export(app, world) -> int:
    with app.app_context():
        admin = db.session.get(User, world.admin_a)
        job = jobs.queue(admin, "csv", date(2026, 1, 1), date(2026, 1, 31))
        db.session.commit()
        job_id = job.id
        db.session.remove()
    return job_id


def job_state(app, job_id: int) -> str:
    with app.app_context():
        state = db.session.get(ExportJob, job_id).state
        db.session.remove()
    return state


def mail_statuses(app, to: str | None = None) -> list[str]:
    with app.app_context():
        query = select(OutboxMail.status).order_by(OutboxMail.id)
        if to is not None:
            query = query.where(OutboxMail.to_address == to)
        found = db.session.scalars(query).all()
        db.session.remove()
    return found


# -- one task at a time: `flask worker run-once TASK` ---------------------------


def test_run_once_mail_sends_the_outbox(app, world, smtp):
    box, _proxy = smtp
    ask_reset(app, EMAILS["patient_a"])
    assert list(box) == []  # queued only
    result = run_once(app, "mail")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "mail: 1 sent"
    assert [m["To"] for m in box] == [EMAILS["patient_a"]]
    assert run_once(app, "mail").output.strip() == "mail: nothing to do"
    assert len(box) == 1


def test_run_once_reminders_pushes_a_due_reminder(app, world, signed_in, push):
    with time_machine.travel(at("2026-11-30", "17:50"), tick=False) as clock:
        set_up(signed_in, world, push, times=("18:00",))
        assert run_once(app, "reminders").output.strip() == "reminders: nothing to do"
        clock.move_to(at("2026-11-30", "18:02"))
        result = run_once(app, "reminders")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "reminders: 1 sent"
    assert push.texts() == ["3 exercises left today"]


def test_run_once_export_jobs_writes_the_queued_job(app, world, exports):
    job_id = queue_export(app, world)
    result = run_once(app, "export-jobs")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "export-jobs: 1 run"
    assert job_state(app, job_id) == "done"
    [written] = exports.glob(f"{job_id}-*.csv")
    assert written.stat().st_size > 0


def test_run_once_file_cleanup_deletes_old_exports_and_media_left_over(
    app, world, exports
):
    job_id = queue_export(app, world)
    assert run_once(app, "export-jobs").exit_code == 0
    [written] = exports.glob(f"{job_id}-*.csv")
    media = Path(app.config["MEDIA_DIR"])
    media.mkdir(parents=True, exist_ok=True)
    orphan = media / "no-row-names-this.jpg"
    orphan.write_bytes(b"a picture whose upload never committed")
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    fresh = media / "being-uploaded.jpg"  # within the hour's grace
    fresh.write_bytes(b"an upload committing now")

    assert run_once(app, "file-cleanup").output.strip() == (
        "file-cleanup: 1 media files deleted"  # the export is a day old
    )
    assert not orphan.exists() and fresh.exists() and written.exists()
    keep = app.config["EXPORT_KEEP_DAYS"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=keep, hours=1)):
        result = run_once(app, "file-cleanup")
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("file-cleanup: 1 export files deleted")
    assert not written.exists() and job_state(app, job_id) == "done"


def test_an_unknown_task_is_exit_code_2_naming_the_tasks(app):
    result = run_once(app, "reminder")
    assert result.exit_code == 2
    for name in TASKS:
        assert name in result.output
    listed = app.test_cli_runner().invoke(args=["worker", "tasks"])
    assert [line.split()[:3] for line in listed.output.splitlines()] == [
        ["mail", "every", "5"],
        ["push", "every", "5"],
        ["reminders", "every", "1"],
        ["export-jobs", "every", "15"],
        ["alert-sweep", "every", "1"],
        ["file-cleanup", "every", "1"],
    ]


def test_a_failing_task_run_once_is_exit_code_1_with_the_error(
    app, monkeypatch, tmp_path
):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("MEDIA_DIR is a file: the disk was set up wrong")
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(not_a_folder))
    result = run_once(app, "file-cleanup")
    assert result.exit_code == 1
    assert "Task file-cleanup failed: FileExistsError" in result.output


# -- the running worker -----------------------------------------------------------


def worker_env(app, tmp_path: Path, proxy: TcpProxy, **extra: str) -> dict:
    return os.environ | {
        "HOMEWARD_ENV": "development",
        "SECRET_KEY": "a-worker-of-the-tests",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(proxy.port),
        "MAIL_USE_TLS": "0",
        "VAPID_FILE": str(tmp_path / "vapid.json"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "MEDIA_DIR": str(tmp_path / "media"),
        **extra,
    }


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as output:
        return subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate, seconds: float, worker: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


@pytest.mark.serving
def test_the_worker_mails_within_seconds_past_a_failing_task_and_stops_on_sigterm(
    app, world, smtp, tmp_path
):
    box, proxy = smtp
    broken = tmp_path / "media"
    broken.write_text("MEDIA_DIR is a file: file-cleanup fails on every run")
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(app, tmp_path, proxy), log)
    try:
        wait_for(lambda: "Worker running" in log.read_text(), 60, worker, log)
        ask_reset(app, EMAILS["patient_a"])
        queued = time.monotonic()
        wait_for(lambda: len(box) == 1, 15, worker, log)
        assert time.monotonic() - queued < 10  # the mail task runs every 5 s
        assert box[0]["To"] == EMAILS["patient_a"]
        assert mail_statuses(app) == ["sent"]
        # the failing task was logged, and the others went on regardless
        assert "worker task file-cleanup failed" in log.read_text()
        assert "FileExistsError" in log.read_text()

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        worker.kill()
        worker.wait()
    assert log.read_text().rstrip().endswith("Worker stopped.")


@pytest.mark.serving
def test_a_hanging_mail_server_holds_up_no_other_task(app, world, smtp, tmp_path):
    box, proxy = smtp
    proxy.set_mode("drop")  # the mail task hangs in the greeting
    ask_reset(app, EMAILS["patient_a"])
    job_id = queue_export(app, world)
    log = tmp_path / "worker.log"
    env = worker_env(app, tmp_path, proxy, MAIL_TIMEOUT="120")
    worker = start_worker(env, log)
    try:
        wait_for(lambda: proxy.accepted, 60, worker, log)
        # the export job is written (and its mail queued) while the mail task
        # still waits for the server's greeting
        wait_for(lambda: job_state(app, job_id) == "done", 30, worker, log)
        wait_for(lambda: "export-jobs: 1 run" in log.read_text(), 30, worker, log)
        assert mail_statuses(app, EMAILS["patient_a"]) == ["sending"]
        assert len(box) == 0
        proxy.set_mode("pass")  # the held connection ends: the mail is retried
        wait_for(lambda: "not sent" in log.read_text(), 30, worker, log)
        assert mail_statuses(app, EMAILS["patient_a"]) == ["queued"]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        worker.kill()
        worker.wait()
