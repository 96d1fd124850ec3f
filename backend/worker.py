"""The worker: everything the app does without a request, as named tasks on
schedules of their own (`flask worker`; `make worker`).

| task           | every   | what it does                                             |
|----------------|---------|----------------------------------------------------------|
| `mail`         | 5 s     | send the outbox (backend/mail.py)                        |
| `push`         | 5 s     | send queued Web Push notices (backend/push.py)           |
| `reminders`    | 1 min   | claim and send due reminders and nudges (Web Push, email)|
| `export-jobs`  | 15 s    | run queued export jobs (services/jobs.py)                |
| `alert-sweep`  | 1 hour  | every patient's time-based alert rules (services/alerts) |
| `file-cleanup` | 1 hour  | export files past EXPORT_KEEP_DAYS, media left over      |

APScheduler (3.x, BackgroundScheduler) runs them: each in a thread of its
own pool, so a slow task (a mail server that swallows connections, a big
export) never holds up the others; at most one run of a task at a time
(`max_instances=1`), and runs missed while one was still going or the
machine slept are coalesced into one. Every task runs at start, then on its
interval. No misfire limit: what is too late to send is each task's own rule
(a reminder more than REMINDER_LATEST late, a mail past its give_up_at),
decided where the rows are claimed, not by when the scheduler woke.

Each run has an app context, so a database session, of its own, commits its
own work, and is rolled back and logged if it raises: a failing task never
stops another, and runs again on its next turn. Several workers may run at
once: mail, reminders and export jobs are claimed row by row with
conditional UPDATEs or unique inserts (mail.py, services/reminders.py,
services/jobs.py), so nothing is sent or run twice.

SIGTERM or SIGINT stops it: no new runs start, the running ones finish (a
second signal stops at once; leases then hand their rows to the next
worker). `flask worker run-once TASK` runs one task once, for cron and tests.
"""

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from backend import mail, push
from backend.extensions import db
from backend.services import alerts, jobs, media, notices, reminders

log = logging.getLogger(__name__)
EXPORT_BUDGET = 50.0  # seconds of export jobs one run starts at most


@dataclass(frozen=True)
class Task:
    """A named piece of the worker's work: `run` (in an app context) returns
    what it did as counts by outcome, e.g. {"sent": 2}."""

    name: str
    every: timedelta
    run: Callable[[], dict]
    about: str


def _mail() -> dict:
    return dict(mail.send_queued())


def _push() -> dict:
    return dict(push.send_queued(fallback=notices.email_instead))


def _reminders() -> dict:
    return reminders.send_due()


def _export_jobs() -> dict:
    return {"run": jobs.run_queued(budget_seconds=EXPORT_BUDGET)}


def _alert_sweep() -> dict:
    return {"raised": alerts.sweep()}


def _file_cleanup() -> dict:
    return {
        "export files deleted": jobs.delete_old_files(),
        "media files deleted": media.sweep(),
    }


TASKS = {
    task.name: task
    for task in (
        Task("mail", timedelta(seconds=5), _mail, "send the mail outbox"),
        Task("push", timedelta(seconds=5), _push, "send queued Web Push notices"),
        Task(
            "reminders",
            timedelta(minutes=1),
            _reminders,
            "send due reminders and nudges (Web Push or email)",
        ),
        Task(
            "export-jobs",
            timedelta(seconds=15),
            _export_jobs,
            "run queued export jobs (big reports)",
        ),
        Task(
            "alert-sweep",
            timedelta(hours=1),
            _alert_sweep,
            "run every patient's alert rules (the time-based ones)",
        ),
        Task(
            "file-cleanup",
            timedelta(hours=1),
            _file_cleanup,
            "delete old export files and media files left over",
        ),
    )
}


def run_once(app: Flask, name: str) -> dict:
    """Run the task `name` (a key of TASKS) once in an app context (and
    database session) of its own; what it did, zero counts left out. Raises
    what the task raised, after rolling its session back."""
    task = TASKS[name]
    with app.app_context():
        try:
            done = task.run()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
    return {outcome: count for outcome, count in done.items() if count}


def describe(done: dict) -> str:
    """ "2 sent, 1 retry", or "nothing to do"."""
    return ", ".join(f"{n} {o}" for o, n in sorted(done.items())) or "nothing to do"


def _scheduled(app: Flask, name: str, echo: Callable[[str], None]) -> None:
    """One scheduled run: what it did is printed (when it did something); a
    failure is logged and the task runs again on its next turn."""
    try:
        done = run_once(app, name)
    except Exception:  # the database, the disk, a server: next turn
        log.exception("worker task %s failed", name)
        return
    if done:
        echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC {name}: {describe(done)}")


def scheduler(app: Flask, echo: Callable[[str], None] = print) -> BackgroundScheduler:
    """A scheduler (not started) with every task of TASKS on its interval,
    each first run at once; a thread per task, so none waits for another."""
    background = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=len(TASKS))},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,  # late is the task's own rule
        },
        timezone=UTC,
    )
    start = datetime.now(UTC)
    for task in TASKS.values():
        background.add_job(
            _scheduled,
            IntervalTrigger(seconds=task.every.total_seconds(), timezone=UTC),
            args=(app, task.name, echo),
            id=task.name,
            name=task.name,
            next_run_time=start,
        )
    return background


def run_forever(app: Flask, echo: Callable[[str], None] = print) -> None:
    """Run every task on its schedule until SIGTERM or SIGINT, then let the
    running tasks finish (a second signal ends the process at once)."""
    stop = threading.Event()

    def stopping(signum, _frame):
        signal.signal(signum, signal.SIG_DFL)  # the next one is not so patient
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    background = scheduler(app, echo)
    background.start()
    echo(
        "Worker running: "
        + ", ".join(f"{t.name} every {every_words(t.every)}" for t in TASKS.values())
        + ". Ctrl+C stops."
    )
    while not stop.wait(1.0):  # the main thread must be free for signals
        pass
    echo("Stopping: waiting for running tasks to finish.")
    background.shutdown(wait=True)
    echo("Worker stopped.")


def every_words(every: timedelta) -> str:
    """ "5 s", "1 min", "1 h"."""
    seconds = int(every.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
