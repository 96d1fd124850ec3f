"""Helpers for the benchmarks: a synthetic clinic in a fresh database, a server
process on a free port, and a signed-in HTTP session (urllib, no extra packages)."""

import http.cookiejar
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-password-1"
# One User-Agent for the whole session, as a browser sends: the session cookie is
# bound to it (Flask-Login's session protection), so wrk sends it too.
USER_AGENT = "homeward-bench/1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_for(database_url: str, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOMEWARD_ENV": "production",
        "SECRET_KEY": "bench-secret-key",
        **extra,
    }


def flask(env: dict, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def seeded_sqlite(name: str, patients: int, days: int) -> tuple[str, Path, float]:
    """A fresh SQLite file with the synthetic clinic; returns (url, path, seconds)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    return url, path, migrated_and_seeded(url, patients, days)


def seeded_database(url: str, patients: int, days: int) -> float:
    """Empty the (PostgreSQL) database at `url`, migrate it and seed the synthetic
    clinic; returns the seconds seeding took."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return migrated_and_seeded(url, patients, days)


def migrated_and_seeded(url: str, patients: int, days: int) -> float:
    """Migrate the empty database at `url` and seed the synthetic clinic into it;
    returns the seconds seeding took."""
    env = env_for(url)
    flask(env, "db", "upgrade")
    started = time.perf_counter()
    flask(env, "seed-demo", "--patients", str(patients), "--days", str(days))
    return time.perf_counter() - started


class Server:
    """gunicorn serving the app from a subprocess, stopped on exit."""

    def __init__(self, env: dict, workers: int = 1, app: str = "wsgi:app"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "/dev/null",
                app,
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid] + [int(p) for p in children.read_text().split()]

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the server's processes."""
        peaks = []
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def rss_mb(self) -> float:
        sizes = []
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return max(sizes)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Session:
    """A signed-in browser-like session: cookie jar plus the CSRF header."""

    def __init__(self, base: str, email: str, password: str = DEMO_PASSWORD):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.opener.addheaders = [("User-Agent", USER_AGENT)]
        token = self.json("GET", "/api/auth/csrf")["csrf_token"]
        signed = self.json(
            "POST", "/api/auth/login", {"email": email, "password": password}, token
        )
        self.user, self.csrf = signed["user"], signed["csrf_token"]

    def request(self, method, path, body=None, csrf=None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if csrf or (method != "GET" and getattr(self, "csrf", None)):
            request.add_header("X-CSRF-Token", csrf or self.csrf)
        with self.opener.open(request, timeout=300) as response:
            return response.read()

    def json(self, method, path, body=None, csrf=None):
        return json.loads(self.request(method, path, body, csrf))


def timed(function, repeat: int) -> tuple[float, list[float]]:
    """(median seconds, all timings) of `repeat` calls after one warm-up."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times
