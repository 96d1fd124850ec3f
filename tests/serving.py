"""What the serving tests, the browser tests and the benchmarks share: a fresh
database, the real gunicorn server in a process group of its own, plain-HTTP
clients signed in as demo patients, and how Chromium is started.

Standard library only on the client side (http.client): one new connection per
request, so requests in flight can be sent side by side and a killed server shows
up as a connection error, never as a hang.
"""

import http.client
import http.cookies
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyotp
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/ when run by .venv/bin/pytest
DEMO_PASSWORD = "demo-password-1"
DEMO_TOTP_SECRET = "HOMEWARDDEMOSECRETHOMEWARD234567"  # backend/services/demo.py
SECRET_KEY = "serving-test-secret-key"
FIELD_ENCRYPTION_KEY = (
    "u3Y0oV0p8m3bM2eO4mUa1jYy6Cq4sKXG8kQ3F2n5W7E="  # config.TestConfig
)
REQUEST_TIMEOUT = 60  # seconds; a request slower than this is a failure, not a wait
START_TIMEOUT = 60

# Debian's Chromium; without the background-networking flags it keeps trying to
# reach Google's hosts, which this machine's closed network refuses.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_patient_email(number: int) -> str:
    """seed-demo's patients: patient@demo.test, then patient0001@demo.test, ..."""
    return "patient@demo.test" if number == 0 else f"patient{number:04d}@demo.test"


@contextmanager
def fresh_database(tmp_path: Path):
    """A brand-new database on the test suite's engine (TEST_DATABASE_URL or SQLite).

    On PostgreSQL a database of its own is created and dropped again; the suite's
    own database is never touched.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or make_url(base).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'serving.db'}"
        return
    url = make_url(base)
    name = f"homeward_serving_{uuid.uuid4().hex[:8]}"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


def app_env(database_url: str, runtime_dir: Path, **extra: str) -> dict:
    """The environment of a production deployment on this machine."""
    env = {
        name: value
        for name, value in os.environ.items()
        # BIND would override PORT; the rest would change what is being tested
        if name
        not in {
            "BIND",
            "WEB_CONCURRENCY",
            "TEST_DATABASE_URL",
            "PREFERRED_URL_SCHEME",
            "BEHIND_HTTPS_PROXY",
        }
    }
    runtime_dir.mkdir(parents=True, exist_ok=True)
    return env | {
        "HOMEWARD_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": FIELD_ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
        # production refuses per-worker limits: the local Redis, keys of its own
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"homeward-{uuid.uuid4().hex[:12]}",
        "ACCESS_LOG": "/dev/null",
        # the host the clients below name (production answers to no other)
        "PUBLIC_URL": "http://127.0.0.1",
        # gunicorn's control socket defaults to one path per user; keep ours apart
        # so a test never replaces the socket of a server someone else is running
        "XDG_RUNTIME_DIR": str(runtime_dir),
        **extra,
    }


def flask_cli(env: dict, *args: str, timeout: float = 180) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def seeding(env: dict) -> dict:
    """`env` for seed-demo, which refuses production (the demo's password and
    TOTP secret are public): the same database, seeded as in development."""
    return env | {"HOMEWARD_ENV": "development"}


def migrate_and_seed(env: dict, patients: int, days: int = 1) -> None:
    flask_cli(env, "db", "upgrade")
    flask_cli(
        seeding(env), "seed-demo", "--patients", str(patients), "--days", str(days)
    )


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state not in {"Z", "X"}:
            members.append(int(entry.name))
    return members


class Gunicorn:
    """`gunicorn --config gunicorn.conf.py --workers N wsgi:app`, as `make serve` runs
    it, in a new session so the master and its workers can be signalled together.
    `app` names another WSGI app (the benchmarks' hello-world floor)."""

    def __init__(
        self, env: dict, log_path: Path, workers: int = 2, app: str = "wsgi:app"
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env | {"PORT": str(self.port)}
        self.log_path = log_path
        self.workers = workers
        self.app = app
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "Gunicorn":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    "gunicorn.conf.py",
                    "--workers",
                    str(self.workers),
                    self.app,
                ],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited at start:\n{self.log()}")
            try:
                if health(self.port) == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not answer /healthz:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once, as a power cut of the
        process would; returns when none of them runs any more."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_for_group(timeout=15)

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the group), then SIGKILL for what is left."""
        if self.process is None:
            return
        pgid = self.process.pid
        if self.process.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                pass
        if _group_members(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)
        self._wait_for_group(timeout=15)

    def _wait_for_group(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while _group_members(self.process.pid):
            assert time.monotonic() < deadline, "gunicorn processes survived"
            time.sleep(0.05)


def worker_pids(server: Gunicorn) -> list[int]:
    """The pids of the server's workers (the master's children)."""
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in children.split()]


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_mb(server: Gunicorn, peak: bool = False) -> float:
    """The largest resident set (or peak resident set, VmHWM) among the server's
    master and workers, in MB."""
    assert server.process is not None
    pids = [server.process.pid, *worker_pids(server)]
    return max(_status_mb(pid, "VmHWM" if peak else "VmRSS") for pid in pids)


def cpu_seconds(server: Gunicorn) -> float:
    """User + system CPU time used so far by the master and its workers."""
    assert server.process is not None
    ticks = 0
    for pid in [server.process.pid, *worker_pids(server)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


TCP_STATES = {"01": "ESTABLISHED", "0A": "LISTEN"}


def tcp_sockets_on_port(port: int) -> dict[int, str]:
    """{socket inode: state} of the IPv4 TCP sockets whose local port is `port`."""
    sockets = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] in TCP_STATES:
            sockets[int(fields[9])] = TCP_STATES[fields[3]]
    return sockets


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def health(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@dataclass
class Reply:
    status: int
    body: object  # parsed JSON, or the raw bytes when not JSON


class Client:
    """One signed-in person: the session cookie and the CSRF token, as the PWA
    keeps them. `send` writes a request on a new connection and returns it; `receive`
    reads its reply, so several requests can be in flight side by side."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.user: dict = {}

    def send(self, method: str, path: str, body=None) -> http.client.HTTPConnection:
        headers = {"Connection": "close", "Accept": "application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET" and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
        )
        try:
            connection.request(method, path, body=payload, headers=headers)
        except BaseException:
            connection.close()
            raise
        return connection

    def receive(self, connection: http.client.HTTPConnection) -> Reply:
        try:
            response = connection.getresponse()
            raw = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie()
                jar.load(header)
                self.cookies.update({name: m.value for name, m in jar.items()})
        finally:
            connection.close()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        return Reply(response.status, body)

    def call(self, method: str, path: str, body=None) -> Reply:
        return self.receive(self.send(method, path, body))

    def login(
        self, email: str, password: str = DEMO_PASSWORD, totp_secret: str | None = None
    ) -> "Client":
        """Sign in; staff give `totp_secret` for the second step (a pyotp code)."""
        csrf = self.call("GET", "/api/auth/csrf")
        assert csrf.status == 200, csrf
        self.csrf = csrf.body["csrf_token"]
        signed = self.call(
            "POST", "/api/auth/login", {"email": email, "password": password}
        )
        assert signed.status == 200, signed
        self.csrf = signed.body["csrf_token"]
        if totp_secret is not None:
            code = pyotp.TOTP(totp_secret).now()
            signed = self.call("POST", "/api/auth/totp", {"code": code})
            assert signed.status == 200, signed
        self.user, self.csrf = signed.body["user"], signed.body["csrf_token"]
        return self

    @property
    def logs_path(self) -> str:
        return f"/api/patients/{self.user['id']}/exercise-logs"

    def routine(self) -> dict:
        reply = self.call("GET", f"/api/patients/{self.user['id']}/routine")
        assert reply.status == 200, reply
        return reply.body
