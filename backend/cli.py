"""Flask commands: `create-admin`, `seed-demo`, `seed-library`, `backup`,
`restore`, `rebuild-adherence`, `publish-assets`, `vapid-keys`, `worker`
(backend/worker.py's tasks; `worker run-once TASK`, `worker tasks`),
`media check`, `grant-runtime`
(PostgreSQL's runtime role), `audit verify`, `rotate-keys`."""

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from backend import db_roles, push, worker
from backend.extensions import db, lift_statement_timeout
from backend.models import AuditEvent, Clinic, User
from backend.models.base import rotate_encrypted
from backend.services import audit_chain, demo, media
from backend.services.adherence import rebuild_done
from backend.services.library import sync_library
from backend.services.passwords import MIN_PASSWORD_LENGTH


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
    app.cli.add_command(seed_library)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(rebuild_adherence)
    app.cli.add_command(publish_assets)
    app.cli.add_command(vapid_keys)
    app.cli.add_command(worker_group)
    app.cli.add_command(grant_runtime)
    app.cli.add_command(audit_group)
    app.cli.add_command(rotate_keys)
    app.cli.add_command(media_group)


@click.command("create-admin")
@with_appcontext
@click.option("--clinic", "clinic_name", required=True, help="The new clinic's name.")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Clinic admin", show_default=True)
def create_admin(clinic_name, email, password, name):
    """Create a clinic and its first admin (and make sure the library is there)."""
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    # an email may be at several clinics; the same clinic and admin twice is a
    # command run again by mistake
    if db.session.scalar(
        select(User.id)
        .join(Clinic, Clinic.id == User.clinic_id)
        .where(User.email == email, Clinic.name == clinic_name.strip())
    ):
        raise click.BadParameter(
            "a clinic of this name has this email already", param_hint="--email"
        )
    sync_library()
    clinic = Clinic(name=clinic_name.strip())
    db.session.add(clinic)
    db.session.flush()
    passwords = current_app.extensions["homeward_passwords"]
    db.session.add(
        User(
            clinic_id=clinic.id,
            email=email,
            name=name,
            role="admin",
            password_hash=passwords.hash(password),
        )
    )
    db.session.commit()
    click.echo(f"Created clinic {clinic.id} ({clinic.name}) with admin {email}.")


# what the encrypted values of each table are, in the command's words
ENCRYPTED = {
    "users": "user(s)' second-factor secrets",
    "invitations": "invitation link(s)",
}


@click.command("rotate-keys")
@with_appcontext
def rotate_keys():
    """Encrypt every stored TOTP secret and sealed invitation link again with
    the newest key of FIELD_ENCRYPTION_KEYS (then the older keys may be
    dropped)."""
    keys = current_app.extensions["homeward_fields"]
    counts = rotate_encrypted(db.session, db.metadata, keys)
    db.session.commit()
    for name, count in counts.items():
        what = ENCRYPTED.get(name, f"row(s) of {name}")
        click.echo(f"Encrypted {count} {what} with the newest key.")


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--patients", default=5, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 3650))
@click.option(
    "--if-missing", is_flag=True, help="Do nothing if the demo clinic exists."
)
def seed_demo(patients, days, if_missing):
    """A demo clinic with staff, patients and DAYS days of plausible history.
    Never in production: the demo accounts' password and TOTP secret are public."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            "seed-demo does not run in production (HOMEWARD_ENV=production): the "
            "demo accounts' password and second factor are public. Nothing written."
        )
    if demo.demo_exists():
        if if_missing:
            click.echo("Demo clinic already there.")
            return
        raise click.ClickException("The demo clinic exists already (admin@demo.test).")
    passwords = current_app.extensions["homeward_passwords"]
    lift_statement_timeout()  # 10,000 patients' history is one transaction
    counts = demo.seed_demo(passwords.hash(demo.DEMO_PASSWORD), patients, days)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # the planner's statistics for the new rows now, not when autovacuum
        # gets to them (a fresh clinic's first pages would be planned blind)
        lift_statement_timeout()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    click.echo(
        "Demo clinic ready: {patients} patients, {exercise_logs} exercise logs, "
        "{pain_logs} pain logs. Sign in as admin@demo.test, therapist@demo.test or "
        "patient@demo.test with password {password}; the demo staff's second "
        "factor is the TOTP secret {secret} (any authenticator app).".format(
            **counts, password=demo.DEMO_PASSWORD, secret=demo.DEMO_TOTP_SECRET
        )
    )


@click.command("seed-library")
@with_appcontext
def seed_library():
    """Insert or update the shipped exercise library."""
    added = sync_library()
    db.session.commit()
    click.echo(f"Exercise library up to date ({added} new).")


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(destination):
    """Write a consistent copy of the SQLite database to DESTINATION.

    Uses SQLite's online backup API, so it is safe while the app is serving.
    For PostgreSQL use pg_dump (see README, "Backups").
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: back it up with "
            '`pg_dump --format=custom --file=homeward.dump "$DATABASE_URL"` '
            "(strip the +psycopg from the URL) and restore with pg_restore."
        )
    with engine.connect() as connection:
        source = connection.connection.driver_connection
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
        finally:
            target.close()
    click.echo(f"Backed up to {destination}.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore(source):
    """Replace the SQLite database with SOURCE (a `flask backup` copy).

    Stop the app and the worker first: this refuses while any process has the
    database open. Every SQLite connection in WAL mode holds a shared lock on
    the file for as long as it is open, idle or not, so an exclusive lock taken
    without waiting fails while a server (or any other process) still uses it;
    the lock is held until the copy is in place. The copy is checked
    (`PRAGMA integrity_check`), moved in atomically, and the database's old
    -wal/-shm files removed: replayed onto the restored file they corrupt it.
    For PostgreSQL use pg_restore into a fresh database (README, "Backups").
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: restore a pg_dump into a fresh database "
            "with `createdb` and `pg_restore --no-owner --dbname=...` "
            '(README, "Backups").'
        )
    engine.dispose()  # this command's own connections, if any
    target = Path(engine.url.database).resolve()
    copy = target.with_name(f".{target.name}.restoring")
    _sqlite_copy_checked(Path(source), copy)
    lock = sqlite3.connect(target, timeout=0, isolation_level=None)
    try:
        try:
            lock.execute("PRAGMA locking_mode=EXCLUSIVE")
            lock.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as error:
            copy.unlink(missing_ok=True)
            raise click.ClickException(
                f"{target} is in use ({error}): stop the app and the worker first."
            ) from None
        os.replace(copy, target)
        _remove_sidecars(target)
    finally:
        lock.close()
    _remove_sidecars(target)  # in case closing the old file's lock left any
    _fsync_directory(target.parent)
    check = sqlite3.connect(target)
    try:
        state = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    click.echo(f"Restored {target} from {source} (integrity: {state}).")


def _sqlite_copy_checked(source: Path, copy: Path) -> None:
    """SOURCE copied to COPY (beside the database, for an atomic rename), made
    durable, and refused unless it is a sound SQLite database."""
    copy.unlink(missing_ok=True)
    _remove_sidecars(copy)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(copy)
    try:
        reader.backup(writer)
        state = writer.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        state = str(error)
    finally:
        reader.close()
        writer.close()
    if state != "ok":
        copy.unlink(missing_ok=True)
        raise click.ClickException(f"{source} is not a sound SQLite database: {state}")
    with open(copy, "rb+") as written:
        os.fsync(written.fileno())


def _remove_sidecars(database: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@click.command("rebuild-adherence")
@with_appcontext
def rebuild_adherence():
    """Recompute every patient's stored sessions done from their ticks.

    Every write keeps them current; run this after repairing ticks or
    programmes by hand in the database. Safe while the app is serving.
    """
    patients = select(User.id).where(User.role == "patient")
    lift_statement_timeout()
    days, changed = rebuild_done(patients)
    db.session.commit()
    click.echo(
        f"Sessions done rebuilt: {days} patient-days stored, {changed} corrected."
    )


@click.command("publish-assets")
@click.argument(
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=False,
)
@with_appcontext
def publish_assets(directory):
    """Link DIRECTORY/<asset version> to the frontend, for a web server in front
    (deploy/nginx.conf) to serve /assets/<version>/... from disk.

    Default DIRECTORY: instance/assets. Only this version is linked: a page from
    before a deploy asks for another version, which the web server then passes
    to the app (it answers with today's files, not cached). Run on every deploy.
    """
    from backend.web import FRONTEND_DIR

    directory = directory or Path(current_app.instance_path) / "assets"
    directory.mkdir(parents=True, exist_ok=True)
    version = current_app.extensions["homeward_frontend"]["version"]
    link = directory / version
    fresh = directory / f".{version}.new"
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(FRONTEND_DIR, target_is_directory=True)
    os.replace(fresh, link)  # atomic: the old link or the new, never neither
    for entry in directory.iterdir():
        if entry.name != version and entry.is_symlink():
            entry.unlink()
    click.echo(f"Assets of version {version} published at {link}.")


@click.command("vapid-keys")
@with_appcontext
@click.option(
    "--force",
    is_flag=True,
    help="Replace keys that exist (phones must subscribe again).",
)
@click.option("--if-missing", is_flag=True, help="Do nothing when there are keys.")
def vapid_keys(force, if_missing):
    """Create the VAPID key pair for Web Push in VAPID_FILE (instance/vapid.json)
    and print the public key. VAPID_PRIVATE_KEY, when set, wins over the file."""
    path = Path(current_app.config["VAPID_FILE"])
    if path.exists() and not force:
        if if_missing:
            return
        raise click.ClickException(f"{path} exists; --force replaces it.")
    public = push.generate_keys(path)
    click.echo(f"VAPID keys written to {path}.\nPublic key: {public}")


@click.group("worker", invoke_without_command=True)
@with_appcontext
@click.pass_context
def worker_group(ctx):
    """Run every worker task on its schedule until SIGTERM or Ctrl+C
    (backend/worker.py; `flask worker tasks` lists them)."""
    if ctx.invoked_subcommand is None:
        worker.run_forever(current_app._get_current_object(), echo=click.echo)


@worker_group.command("run-once")
@click.argument("task", type=click.Choice(list(worker.TASKS)), metavar="TASK")
def worker_run_once(task):
    """Run TASK once and say what it did (for cron and by hand); exit 1 if it
    failed."""
    try:
        done = worker.run_once(current_app._get_current_object(), task)
    except Exception as error:
        logging.getLogger(__name__).exception("worker task %s failed", task)
        raise click.ClickException(
            f"Task {task} failed: {type(error).__name__}: {error}"
        ) from None
    click.echo(f"{task}: {worker.describe(done)}")


@worker_group.command("tasks")
def worker_tasks():
    """List the tasks and how often the worker runs each."""
    for task in worker.TASKS.values():
        click.echo(
            f"{task.name:<14} every {worker.every_words(task.every):<8} {task.about}"
        )


@click.command("grant-runtime")
@click.argument("role")
@with_appcontext
def grant_runtime(role):
    """Grant ROLE, the app's PostgreSQL role (DATABASE_URL's), what it needs:
    every table's rows, but only INSERT and SELECT on the audit trail.

    Runs as the tables' owner (MIGRATION_DATABASE_URL, else DATABASE_URL),
    after `flask db upgrade`; safe to run again.
    """
    owner_url = current_app.config.get("MIGRATION_DATABASE_URL")
    engine = create_engine(owner_url, poolclass=NullPool) if owner_url else db.engine
    try:
        with engine.begin() as connection:
            db_roles.grant_runtime(connection, role)
    except db_roles.RoleRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"{role} may now use Homeward's tables (the audit trail: add, read).")


@click.group("audit")
def audit_group():
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def verify_audit():
    """Walk the audit trail's hash chain from its first row: exit 1 at the
    first row changed, removed or added outside the app."""
    lift_statement_timeout()
    chain = select(AuditEvent.__table__).order_by(AuditEvent.id)
    # streamed (a server-side cursor on PostgreSQL), closed where the walk stops
    with closing(db.session.execute(chain.execution_options(yield_per=1000))) as rows:
        verdict = audit_chain.verify(row._mapping for row in rows)
    db.session.rollback()
    if verdict.broken_id is not None:
        raise click.ClickException(
            f"Row {verdict.broken_id} breaks the chain: {verdict.problem}."
        )
    click.echo(f"{verdict.rows} rows, chain intact.")
    if verdict.last_hash:  # noted elsewhere, it shows rows removed from the end
        click.echo(f"Last hash: {verdict.last_hash}")


@click.group("media")
def media_group():
    """The clinics' uploaded pictures and videos in MEDIA_DIR."""


@media_group.command("check")
@with_appcontext
@click.option("--delete", is_flag=True, help="Delete what is listed.")
def media_check(delete):
    """List temp files older than an hour and files no media row names (older
    than an hour: an upload may be committing); --delete removes them. The
    worker deletes them every hour."""
    stale, orphans = media.leftovers()
    folder = media.media_dir()
    for label, paths in (("temp file", stale), ("unreferenced", orphans)):
        for path in paths:
            click.echo(f"{label}: {path.relative_to(folder)}")
            if delete:
                path.unlink(missing_ok=True)
    if not stale and not orphans:
        click.echo("Nothing left over.")
    elif delete:
        click.echo(f"Deleted {len(stale) + len(orphans)} files.")
