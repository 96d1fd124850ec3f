"""deploy/nginx.conf, run by Debian's nginx in front of gunicorn as `make serve`
runs it: HTTPS with the forwarded headers the app trusts (PROXY_FIX_HOPS=1),
no answer for a host name not its own, its own refusals in the API's JSON, the
PWA's files from disk, and slow clients held at nginx, away from the app's few
threads."""

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.serving import (
    DEMO_PASSWORD,
    ROOT,
    Gunicorn,
    app_env,
    flask_cli,
    free_port,
    fresh_database,
    migrate_and_seed,
)

pytestmark = pytest.mark.serving

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST = "homeward.example.org"  # the site's server_name (and the app's PUBLIC_URL)
CLIENT = "127.0.0.2"  # a loopback address other than nginx's own, to tell them apart
SLOW_CLIENTS = 20
HEALTH_TIMEOUT = 1.0  # seconds: /healthz must answer within it, slow clients or not


@pytest.fixture(autouse=True)
def _fresh_data():
    """Overrides conftest's: these tests bring their own database and servers."""
    yield


def site_config(tmp: Path, app_port: int, http_port: int, https_port: int) -> str:
    """deploy/nginx.conf with this machine's paths and ports (nothing else changed)."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in (
        ("127.0.0.1:5000", f"127.0.0.1:{app_port}"),
        ("listen 80", f"listen 127.0.0.1:{http_port}"),
        ("listen 443 ssl http2", f"listen 127.0.0.1:{https_port} ssl http2"),
        ("/etc/ssl/homeward/fullchain.pem", str(tmp / "cert.pem")),
        ("/etc/ssl/homeward/privkey.pem", str(tmp / "key.pem")),
        ("/srv/homeward/instance", str(tmp / "published")),
    ):
        assert old in site, old
        site = site.replace(old, new)
    # no IPv6 listeners on a test machine's loopback
    return "\n".join(line for line in site.splitlines() if "[::]" not in line)


def main_config(tmp: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf provides around a site, in `tmp`."""
    return f"""
daemon off;
user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nginx did not listen")


@pytest.fixture
def proxied(tmp_path):
    """(gunicorn, https port, http port) for a deployment behind
    deploy/nginx.conf; gunicorn's access log is tmp_path/access.log."""
    with fresh_database(tmp_path) as url:
        env = app_env(
            url,
            tmp_path / "run",
            PROXY_FIX_HOPS="1",
            PUBLIC_URL=f"https://{HOST}",
            TRUSTED_HOSTS="127.0.0.1",  # the harness's own /healthz, past nginx
            ACCESS_LOG=str(tmp_path / "access.log"),
        )
        migrate_and_seed(env, patients=1, days=1)
        flask_cli(env, "publish-assets", str(tmp_path / "published" / "assets"))
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-subj", "/CN=localhost", "-days", "1",
                "-keyout", str(tmp_path / "key.pem"),
                "-out", str(tmp_path / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        with Gunicorn(env, tmp_path / "gunicorn.log", workers=2) as app:
            https_port, http_port = free_port(), free_port()
            (tmp_path / "site.conf").write_text(
                site_config(tmp_path, app.port, http_port, https_port)
            )
            (tmp_path / "nginx.conf").write_text(main_config(tmp_path))
            tested = subprocess.run(
                [NGINX, "-t", "-c", str(tmp_path / "nginx.conf")],
                capture_output=True,
                text=True,
            )
            assert tested.returncode == 0, tested.stderr
            nginx = subprocess.Popen(
                [NGINX, "-c", str(tmp_path / "nginx.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for_port(https_port, nginx, tmp_path / "error.log")
                yield app, https_port, http_port
            finally:
                nginx.terminate()
                nginx.wait(timeout=10)


def tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context


def connect(port: int, server_name: str | None = HOST, source: str = "127.0.0.1"):
    """A TLS connection to nginx naming `server_name` (SNI), from `source`."""
    raw = socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(source, 0)
    )
    return tls().wrap_socket(raw, server_hostname=server_name)


def request(
    port, method, path, body=None, headers=None, timeout=10, source="127.0.0.1"
):
    """One request over HTTPS to HOST (SNI and Host, as a browser on 443 sends)."""
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=timeout, context=tls()
    )
    connection.sock = connect(port, source=source)
    connection.sock.settimeout(timeout)
    try:
        payload = json.dumps(body) if body is not None else None
        sent = {"Host": HOST} | (
            {"Content-Type": "application/json"} if payload else {}
        )
        connection.request(method, path, body=payload, headers=sent | (headers or {}))
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def slow_client(port: int, stop: threading.Event, opened: list) -> None:
    """A client that sends its headers a few bytes at a time and never ends them."""
    try:
        sock = connect(port)
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n".encode())
        opened.append(sock)
        while not stop.wait(0.5):
            sock.sendall(b"X-Slow: 1\r\n")
    except OSError:
        pass  # nginx dropped it (client_header_timeout): as it should


def test_nginx_forwards_https_and_the_real_address_and_serves_assets_from_disk(
    proxied,
):
    app, port, _ = proxied
    response, _ = request(port, "GET", "/healthz")
    assert response.status == 200

    # HTTPS reaches the app (X-Forwarded-Proto): secure, host-bound cookie, HSTS
    csrf_response, body = request(port, "GET", "/api/auth/csrf", source=CLIENT)
    csrf = json.loads(body)["csrf_token"]
    visit = csrf_response.getheader("Set-Cookie").split(";")[0]
    login, body = request(
        port,
        "POST",
        "/api/auth/login",
        {"email": "patient@demo.test", "password": DEMO_PASSWORD},
        headers={
            "X-CSRF-Token": csrf,
            "Cookie": visit,
            "Referer": f"https://{HOST}/",
            "X-Forwarded-For": "203.0.113.66",  # a client's claim: replaced
        },
        source=CLIENT,
    )
    assert login.status == 200, body
    [cookie] = [
        c
        for c in login.msg.get_all("Set-Cookie")
        if c.startswith("__Host-homeward_session=")
    ]
    assert "Secure" in cookie
    hsts = "max-age=31536000; includeSubDomains"
    assert login.getheader("Strict-Transport-Security") == hsts
    # the address the app saw is the client's, as nginx saw it
    sessions, body = request(
        port, "GET", "/api/auth/sessions", headers={"Cookie": cookie.split(";")[0]}
    )
    assert sessions.status == 200
    assert [s["address"] for s in json.loads(body)] == [CLIENT]
    # and so does gunicorn's access log (not nginx's address)
    assert access_log_line(app, "POST /api/auth/login").startswith(f"{CLIENT} ")

    # the PWA's files, from disk: still there with the app stopped
    page, body = request(port, "GET", "/")
    version = re.search(rb"/assets/([0-9a-f]+)/", body).group(1).decode()
    app.stop()
    script, body = request(port, "GET", f"/assets/{version}/js/app.js")
    assert script.status == 200 and b"function boot" in body
    assert "immutable" in script.getheader("Cache-Control")
    assert script.getheader("Strict-Transport-Security") == hsts
    assert script.getheader("Content-Type").startswith("application/javascript")
    for hidden in ("sw.js", "index.html", "vendor/.installed"):
        answer, _ = request(port, "GET", f"/assets/{version}/{hidden}")
        assert answer.status in (404, 502), hidden  # never the raw template
    stale, _ = request(port, "GET", "/assets/0123456789ab/js/app.js")
    assert stale.status == 502  # another version is the app's to answer
    # the app down: nginx's own answer, in the API's error format
    health, body = request(port, "GET", "/healthz")
    assert health.status == 502
    assert health.getheader("Content-Type") == "application/json"
    assert health.getheader("Retry-After") == "5"
    assert json.loads(body) == {
        "code": 502,
        "status": "Bad Gateway",
        "message": "Homeward is briefly unavailable: try again in a moment.",
    }


def access_log_line(app, request_line: str) -> str:
    """gunicorn's access log line of `request_line` (it is written as the
    answer leaves)."""
    log = Path(app.env["ACCESS_LOG"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        found = [line for line in lines if f'"{request_line} ' in line]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {request_line} in the access log:\n{lines}")


def no_answer(send) -> bool:
    """Whether nginx closed the connection (444) or refused the TLS
    handshake instead of answering."""
    try:
        send()
    except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError):
        return True
    return False


def test_a_host_name_not_the_sites_own_gets_no_answer(proxied):
    """A request naming another host never reaches the app (which would
    answer 400 anyway: TRUSTED_HOSTS), over HTTPS or plain HTTP."""
    _, port, http_port = proxied
    # another host name in the TLS handshake, or none (an address): refused
    for server_name in ("evil.example", None):
        assert no_answer(lambda name=server_name: connect(port, name).close())
    # the site's name in the handshake, another in the Host header: closed
    for forged in ({"Host": "evil.example"}, {"Host": f"evil.example:{port}"}):
        assert no_answer(lambda h=forged: request(port, "GET", "/healthz", headers=h))
    assert request(port, "GET", "/healthz")[0].status == 200

    def plain(host):
        connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        try:
            connection.request("GET", "/healthz", headers={"Host": host})
            return connection.getresponse()
        finally:
            connection.close()

    assert no_answer(lambda: plain("evil.example"))
    redirect = plain(HOST)
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://{HOST}/healthz"


def test_slow_header_clients_do_not_delay_healthz(proxied):
    app, port, _ = proxied
    stop, opened = threading.Event(), []
    clients = [
        threading.Thread(target=slow_client, args=(port, stop, opened), daemon=True)
        for _ in range(SLOW_CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 10
        while len(opened) < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == SLOW_CLIENTS
        time.sleep(1.0)  # they hold their connections open, dripping headers
        for _ in range(5):
            response, _ = request(port, "GET", "/healthz", timeout=HEALTH_TIMEOUT)
            assert response.status == 200
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)
        for sock in opened:
            sock.close()


def test_only_media_uploads_may_send_more_than_a_megabyte(proxied):
    _, port, _ = proxied
    two_megabytes = {"records": ["x" * 2**21]}
    refused, body = request(port, "POST", "/api/sync", two_megabytes)
    assert refused.status == 413  # nginx's own limit, as the API's, in its words
    assert refused.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {
        "code": 413,
        "status": "Request Entity Too Large",
        "message": "A request body may be at most 1 MiB.",
        "limits": {"bytes": 2**20, "records": 500},
    }
    # an upload reaches the app, which judges it (here: no CSRF token)
    upload, body = request(port, "POST", "/api/exercises/1/media", two_megabytes)
    assert upload.status == 400
    assert "CSRF" in json.loads(body)["message"]
