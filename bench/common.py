"""What the benchmarks add to the shared serving helpers (tests/serving.py): a
synthetic clinic seeded into a fresh database, a served app in a scratch
directory, and timing.

The benchmarks run from the repository root or from bench/ with the venv's
Python; either way the root is put on sys.path so `tests.serving` imports.
"""

import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.serving import Client, Gunicorn, app_env, flask_cli, seeding  # noqa: E402

__all__ = ["Client", "OUT", "ROOT", "served", "seeded", "timed"]


def seeded(database_url: str | None, name: str, patients: int, days: int):
    """(url, seconds seeding took): the synthetic clinic in a fresh SQLite file
    under bench/out/ called `name`, or in the PostgreSQL database at
    `database_url`, which is emptied first."""
    if database_url:
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = database_url
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / name
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    env = app_env(url, OUT / "run")
    flask_cli(env, "db", "upgrade")
    started = time.perf_counter()
    seed = ("seed-demo", "--patients", str(patients), "--days", str(days))
    flask_cli(seeding(env), *seed, timeout=3600)  # a clinic of 10,000 takes minutes
    return url, time.perf_counter() - started


@contextmanager
def served(database_url: str, workers: int = 2, app: str = "wsgi:app", **env):
    """gunicorn (gunicorn.conf.py) serving `app` on a free port, as `make serve`
    would, with its log in a scratch directory; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="homeward-bench-") as scratch:
        settings = app_env(
            database_url,
            Path(scratch) / "run",
            GUNICORN_CMD_ARGS="--log-level warning",
            **env,
        )
        log = Path(scratch) / "gunicorn.log"
        with Gunicorn(settings, log, workers=workers, app=app) as server:
            yield server


def timed(function, repeat: int) -> tuple[float, list[float]]:
    """(median seconds, all timings) of `repeat` calls after one warm-up."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times
