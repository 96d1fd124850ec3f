"""Big reports become export jobs: queued by the request (202), run by the
worker, downloaded by the clinic's admins; small reports stay immediate."""

import signal
import stat
import subprocess
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import AuditEvent, ExportJob, User
from backend.services import export, jobs
from backend.services.dates import now_utc
from backend.services.demo import DEMO_TOTP_SECRET, seed_demo
from tests.conftest import ApiClient
from tests.serving import (
    BIN,
    ROOT,
    app_env,
    flask_cli,
    fresh_database,
    migrate_and_seed,
)

PASSWORD = "demo-password-1"
END = date.today()
RANGE = {"from": (END - timedelta(days=27)).isoformat(), "to": END.isoformat()}


@pytest.fixture
def exports(app, monkeypatch, tmp_path):
    """Jobs from 3 patients up (the demo clinic has 3), files under tmp_path."""
    monkeypatch.setitem(app.config, "EXPORT_JOB_PATIENTS", 2)
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path / "exports"))
    return tmp_path / "exports"


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo(
            app.extensions["homeward_passwords"].hash(PASSWORD), patients=3, days=30
        )
        db.session.commit()
    return ApiClient(app.test_client()).login(
        "admin@demo.test", PASSWORD, DEMO_TOTP_SECRET
    )


def sign_in_demo(app, email):
    return ApiClient(app.test_client()).login(email, PASSWORD, DEMO_TOTP_SECRET)


def run_worker(app) -> int:
    with app.app_context():
        ran = jobs.run_queued()
        db.session.remove()
    return ran


def immediate(app, client, path, query):
    """The report answered at once, thresholds out of the way."""
    saved = app.config["EXPORT_JOB_PATIENTS"]
    app.config["EXPORT_JOB_PATIENTS"] = 10**6
    try:
        response = client.get(path, query_string=query)
    finally:
        app.config["EXPORT_JOB_PATIENTS"] = saved
    assert response.status_code == 200
    return response.get_data()


def queued_then_done(app, client, path, query):
    response = client.get(path, query_string=query)
    assert response.status_code == 202, response.json
    job = response.json
    assert job["state"] == "queued" and job["file_url"] is None
    assert response.headers["Location"] == f"/api/reports/jobs/{job['id']}"
    assert run_worker(app) == 1
    done = client.get(f"/api/reports/jobs/{job['id']}").json
    assert done["state"] == "done", done
    assert done["progress"] == 1.0
    return done


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/api/reports/adherence", {}),
        ("/api/reports/adherence.csv", {}),
        ("/api/reports/adherence.csv", {"format": "contract"}),
    ],
)
def test_a_jobs_file_is_the_immediate_reports_body(app, exports, demo, path, extra):
    query = RANGE | extra
    done = queued_then_done(app, demo, path, query)
    download = demo.get(done["file_url"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_data() == immediate(app, demo, path, query)
    assert done["rows"] == 3 * len(
        export._weeks(*map(date.fromisoformat, RANGE.values()))
    )


def test_a_small_report_stays_immediate(app, demo, tmp_path):
    response = demo.get("/api/reports/adherence", query_string=RANGE)
    assert response.status_code == 200
    assert isinstance(response.json, list)


def test_a_range_over_a_year_becomes_a_job_whatever_the_clinic(app, demo):
    query = {"from": (END - timedelta(days=366)).isoformat(), "to": END.isoformat()}
    response = demo.get("/api/reports/adherence.csv", query_string=query)
    assert response.status_code == 202
    assert response.json["params"] == query


def test_a_therapists_report_stays_immediate(app, exports, demo):
    therapist = sign_in_demo(app, "therapist@demo.test")
    response = therapist.get("/api/reports/adherence", query_string=RANGE)
    assert response.status_code == 200


def test_an_admin_can_ask_for_a_job_of_any_size(app, exports, demo):
    response = demo.post("/api/reports/adherence/jobs", json=RANGE | {"format": "json"})
    assert response.status_code == 202, response.json
    assert response.json["kind"] == "json"
    run_worker(app)
    done = demo.get(f"/api/reports/jobs/{response.json['id']}").json
    body = demo.get(done["file_url"]).get_data()
    assert body == immediate(app, demo, "/api/reports/adherence", RANGE)


def test_progress_rises_to_one(app, exports, demo, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 1)
    seen = []
    note = jobs._note_progress
    monkeypatch.setattr(
        jobs, "_note_progress", lambda job, p: (seen.append(p), note(job, p))
    )
    done = queued_then_done(app, demo, "/api/reports/adherence.csv", RANGE)
    seen = [p for p in seen if p is not None]  # None: only the lease renewed
    assert seen == sorted(seen) and 0 < seen[0] < 1
    assert done["progress"] == 1.0 and done["finished_at"]


def test_two_workers_claim_a_job_once(app, exports, demo, make_app):
    demo.get("/api/reports/adherence.csv", query_string=RANGE)
    workers = [make_app(EXPORT_DIR=str(exports)) for _ in range(4)]
    claimed, start = [], threading.Barrier(len(workers))

    def work(worker):
        with worker.app_context():
            start.wait()
            job = jobs.claim()
            if job is not None:
                claimed.append(job.id)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 1
    with app.app_context():
        assert db.session.get(ExportJob, claimed[0]).state == "running"
        assert jobs.claim() is None


def test_another_clinics_admin_gets_404(app, exports, demo, world, signed_in):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    run_worker(app)
    other = signed_in("admin_b")
    assert other.get(f"/api/reports/jobs/{job['id']}").status_code == 404
    assert other.get(f"/api/reports/jobs/{job['id']}/file").status_code == 404


def test_a_therapist_gets_403(app, exports, demo):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    run_worker(app)
    therapist = sign_in_demo(app, "therapist@demo.test")
    assert therapist.get(f"/api/reports/jobs/{job['id']}").status_code == 403
    assert therapist.get(f"/api/reports/jobs/{job['id']}/file").status_code == 403
    response = therapist.post("/api/reports/adherence/jobs", json=RANGE)
    assert response.status_code == 403


def test_the_file_waits_for_the_job(app, exports, demo):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    assert demo.get(f"/api/reports/jobs/{job['id']}/file").status_code == 409


def test_a_failed_job_records_its_error(app, exports, demo, monkeypatch):
    def broken(*args):
        raise RuntimeError("the disk is full")
        yield

    monkeypatch.setattr(export, "weekly_rows", broken)
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    run_worker(app)
    failed = demo.get(f"/api/reports/jobs/{job['id']}").json
    assert failed["state"] == "failed"
    assert "the disk is full" in failed["error"]
    assert failed["file_url"] is None
    assert demo.get(f"/api/reports/jobs/{job['id']}/file").status_code == 404
    assert not [p for p in exports.iterdir() if p.is_file()]


@pytest.mark.parametrize("change", [{"active": False}, {"role": "therapist"}])
def test_a_job_runs_only_while_its_admin_may_still_export(app, exports, demo, change):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.test"))
        for name, value in change.items():  # deactivated, or no longer an admin
            setattr(admin, name, value)
        db.session.commit()
    run_worker(app)
    with app.app_context():
        stored = db.session.get(ExportJob, job["id"])
        assert (stored.state, stored.file_name) == ("failed", None)
        assert "may no longer export" in stored.error
    assert not [p for p in exports.iterdir() if p.is_file()]


def test_the_admin_is_mailed_when_the_file_is_ready(app, exports, demo, mailbox):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    assert job["mail"] is True
    run_worker(app)
    [message] = mailbox.to("admin@demo.test")
    assert message["Subject"] == "Your report is ready"
    assert "/#/reports" in mailbox.text(message)


def test_files_older_than_a_week_are_deleted(app, exports, demo):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    run_worker(app)
    with app.app_context():
        stored = db.session.get(ExportJob, job["id"])
        path = jobs.file_path(stored)
        assert path.is_file()
        assert jobs.delete_old_files() == 0
        stored.finished_at -= timedelta(days=8)
        db.session.commit()
        assert jobs.delete_old_files() == 1
        assert not path.exists()
    assert demo.get(f"/api/reports/jobs/{job['id']}/file").status_code == 404


def test_asking_for_and_downloading_a_file_are_audited(app, exports, demo):
    demo.post("/api/reports/adherence/jobs", json=RANGE)
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    assert run_worker(app) == 2
    done = demo.get(f"/api/reports/jobs/{job['id']}").json
    assert demo.get(done["file_url"]).status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "jobs.request_report_job" in actions
    assert "reports.adherence_report_csv" in actions
    assert "jobs.report_job_file" in actions


def lease_runs_out(job_id: int) -> None:
    """What a minute without its worker's renewals does to a running job."""
    stored = db.session.get(ExportJob, job_id)
    stored.lease_until = now_utc() - timedelta(seconds=1)
    db.session.commit()


def test_a_job_whose_worker_died_is_retried_once_then_failed(app, exports, demo):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    with app.app_context():
        assert jobs.claim().id == job["id"]  # and the worker is killed
        assert jobs.claim() is None  # its lease still runs: nobody else takes it
        lease_runs_out(job["id"])
        retried = jobs.claim()  # the retry, from the start
        assert (retried.id, retried.attempts) == (job["id"], 2)
        lease_runs_out(job["id"])  # killed again
        assert jobs.claim() is None
        db.session.remove()
    failed = demo.get(f"/api/reports/jobs/{job['id']}").json
    assert failed["state"] == "failed" and "ask again" in failed["error"]


def test_parts_of_no_live_job_are_removed(app, exports, demo):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    exports.mkdir()
    orphan = exports / ".999-0123456789abcdef.csv.part"
    orphan.write_text("half a report")
    with app.app_context():
        jobs.claim()
        alive = exports / f".{job['id']}-0123456789abcdef.csv.part"
        alive.write_text("being written")
        assert jobs.remove_orphan_parts() == 1
        assert alive.exists() and not orphan.exists()
        lease_runs_out(job["id"])
        assert jobs.remove_orphan_parts() == 1
        assert not alive.exists()
        db.session.remove()


def test_a_jobs_file_is_readable_by_the_worker_only(app, exports, demo):
    job = demo.get("/api/reports/adherence.csv", query_string=RANGE).json
    run_worker(app)
    with app.app_context():
        path = jobs.file_path(db.session.get(ExportJob, job["id"]))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_clinic_has_at_most_three_jobs_queued(app, exports, demo):
    for _ in range(jobs.MAX_OPEN):
        response = demo.post("/api/reports/adherence/jobs", json=RANGE)
        assert response.status_code == 202
    refused = demo.post("/api/reports/adherence/jobs", json=RANGE)
    assert refused.status_code == 429
    assert "3 reports being prepared" in refused.json["message"]
    assert refused.headers["Retry-After"] == "60"
    assert demo.get("/api/reports/adherence.csv", query_string=RANGE).status_code == (
        429
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(ExportJob.id))) == jobs.MAX_OPEN
    run_worker(app)  # done jobs no longer count
    assert demo.post("/api/reports/adherence/jobs", json=RANGE).status_code == 202


# -- a real worker killed mid-export ------------------------------------------


def worker_run_one(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker", "run-once", "export-jobs"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def queue_directly(app, database_url: str) -> int:
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.test"))
        start = END - timedelta(days=3 * 366)  # a long report: a moment to write
        job = jobs.queue(admin, "csv", start, END, contract=True)  # every week
        db.session.commit()
        job_id = job.id
        db.session.remove()
        db.engine.dispose()
    return job_id


@pytest.mark.serving
def test_a_sigkilled_export_is_retried_into_the_same_file(make_app, tmp_path):
    exports = tmp_path / "exports"
    with fresh_database(tmp_path) as url:
        env = app_env(url, tmp_path / "run", EXPORT_DIR=str(exports))
        migrate_and_seed(env, patients=100, days=2)
        here = make_app(SQLALCHEMY_DATABASE_URI=url, EXPORT_DIR=str(exports))
        killed = queue_directly(here, url)

        worker = worker_run_one(env)
        try:
            while not [p for p in exports.glob(".*.part") if p.stat().st_size]:
                assert worker.poll() is None, worker.stderr.read()
                time.sleep(0.005)
            worker.send_signal(signal.SIGKILL)
        finally:
            worker.kill()
            worker.wait()
            worker.stderr.close()
        with here.app_context():
            assert db.session.get(ExportJob, killed).state == "running"
            lease_runs_out(killed)  # a minute passes without renewals
            db.session.remove()

        flask_cli(env, "worker", "run-once", "export-jobs")  # the retry
        clean = queue_directly(here, url)
        flask_cli(
            env, "worker", "run-once", "export-jobs"
        )  # the same report, never interrupted
        with here.app_context():
            retried = db.session.get(ExportJob, killed)
            assert (retried.state, retried.attempts) == ("done", 2)
            again = db.session.get(ExportJob, clean)
            assert (again.state, again.attempts) == ("done", 1)
            assert retried.rows == again.rows > 100
            retried_bytes = jobs.file_path(retried).read_bytes()
            assert retried_bytes == jobs.file_path(again).read_bytes()
            db.session.remove()
            db.engine.dispose()
        assert not list(exports.glob("*.part")) + list(exports.glob(".*.part"))
