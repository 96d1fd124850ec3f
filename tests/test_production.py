"""Production settings: secrets, headers, proxies, caching, compression, Redis."""

import uuid

import pytest

import config as settings
from backend.extensions import db, limiter
from backend.web import build_manifest
from tests.conftest import PASSWORD, ApiClient

FIELD_KEY = settings.TestConfig.FIELD_ENCRYPTION_KEYS[0]


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("HOMEWARD_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(settings.Config, "ENV_NAME", "production")
    monkeypatch.setattr(settings.Config, "RATELIMIT_STORAGE_URI", "redis://x")
    monkeypatch.setattr(settings.Config, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        settings.Config()


def test_production_refuses_rate_limits_in_each_workers_memory(monkeypatch):
    monkeypatch.setattr(settings.Config, "ENV_NAME", "production")
    monkeypatch.setattr(settings.Config, "SECRET_KEY", "a-long-random-secret")
    monkeypatch.setattr(settings.Config, "FIELD_ENCRYPTION_KEYS", [FIELD_KEY])
    monkeypatch.setattr(settings.Config, "RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        settings.Config()
    monkeypatch.setattr(settings.Config, "RATELIMIT_STORAGE_URI", "redis://x:6379")
    monkeypatch.setattr(settings.Config, "PUBLIC_URL", "https://homeward.example.org")
    assert settings.Config().RATELIMIT_STORAGE_URI == "redis://x:6379"


def test_production_refuses_staff_without_a_second_factor(monkeypatch):
    monkeypatch.setattr(settings.Config, "ENV_NAME", "production")
    monkeypatch.setattr(settings.Config, "SECRET_KEY", "a-long-random-secret")
    monkeypatch.setattr(settings.Config, "RATELIMIT_STORAGE_URI", "redis://x:6379")
    monkeypatch.setattr(settings.Config, "SECOND_FACTOR_FOR_STAFF", False)
    with pytest.raises(RuntimeError, match="second factor"):
        settings.Config()


def test_production_logs_sql_errors_without_their_values(make_app, app):
    """A crafted input that reaches the database must not write itself (or a
    patient's data) into the error log with the failing SQL."""
    production = make_app(ENV_NAME="production")
    with production.app_context():
        assert db.engine.hide_parameters
    with app.app_context():  # the tests' own engine shows them, for debugging
        assert not db.engine.hide_parameters


def test_production_refuses_to_start_without_field_encryption_keys(monkeypatch):
    monkeypatch.setattr(settings.Config, "ENV_NAME", "production")
    monkeypatch.setattr(settings.Config, "SECRET_KEY", "a-long-random-secret")
    monkeypatch.setattr(settings.Config, "RATELIMIT_STORAGE_URI", "redis://x:6379")
    monkeypatch.setattr(settings.Config, "FIELD_ENCRYPTION_KEYS", [])
    with pytest.raises(RuntimeError, match="FIELD_ENCRYPTION_KEYS"):
        settings.Config()


def production_settings(monkeypatch, **values) -> None:
    """Config as HOMEWARD_ENV=production reads it, with `values` set."""
    monkeypatch.setattr(settings.Config, "ENV_NAME", "production")
    monkeypatch.setattr(settings.Config, "SECRET_KEY", "a-long-random-secret")
    monkeypatch.setattr(settings.Config, "RATELIMIT_STORAGE_URI", "redis://x:6379")
    monkeypatch.setattr(settings.Config, "FIELD_ENCRYPTION_KEYS", [FIELD_KEY])
    for name, value in values.items():
        monkeypatch.setattr(settings.Config, name, value)


def test_production_refuses_to_start_without_its_public_url(monkeypatch):
    production_settings(monkeypatch, PUBLIC_URL=None)
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        settings.Config()
    production_settings(monkeypatch, PUBLIC_URL="homeward.example.org")
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        settings.Config()  # no scheme: not an address a link can start with


def test_development_links_lead_to_this_machines_port(monkeypatch):
    monkeypatch.setattr(settings.Config, "ENV_NAME", "development")
    monkeypatch.setattr(settings.Config, "SECRET_KEY", "a-development-secret")
    monkeypatch.setattr(settings.Config, "PUBLIC_URL", None)
    monkeypatch.setenv("PORT", "5123")
    config = settings.Config()
    assert config.PUBLIC_URL == "http://127.0.0.1:5123"
    assert config.TRUSTED_HOSTS is None  # Flask's default: any host


def test_production_answers_only_to_the_host_of_its_public_url(
    monkeypatch, make_app, world
):
    production_settings(
        monkeypatch,
        PUBLIC_URL="https://homeward.example.org/",
        TRUSTED_HOSTS_EXTRA=["10.0.0.5"],
    )
    trusted = settings.Config().TRUSTED_HOSTS
    assert trusted == ["homeward.example.org", "10.0.0.5"]
    client = make_app(TRUSTED_HOSTS=trusted, PROXY_FIX_HOPS=1).test_client()
    for forged in ({"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}):
        refused = client.get(
            "/api/auth/csrf", headers={"Host": "homeward.example.org"} | forged
        )
        assert refused.status_code == 400, forged
        assert refused.json["code"] == 400  # the API's one error format
    for host in ("homeward.example.org", "homeward.example.org:443", "10.0.0.5"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_every_response_carries_the_security_headers(anonymous):
    for path in ("/", "/api/auth/csrf", "/api/patients"):
        headers = anonymous.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain http


def test_api_answers_are_never_cached(world, patient):
    response = patient.get(f"/api/patients/{world.patient_a}")
    assert response.headers["Cache-Control"] == "no-store"


def test_behind_an_https_proxy_hsts_secure_cookies_and_the_client_address(
    make_app, world, admin
):
    behind = make_app(PROXY_FIX_HOPS=1, SESSION_COOKIE_SECURE=True)
    client = ApiClient(behind.test_client())
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "clinic.example",
        "Referer": "https://clinic.example/",
    }
    client.csrf_token = client.client.get("/api/auth/csrf", headers=forwarded).json[
        "csrf_token"
    ]
    response = client.post(
        "/api/auth/login",
        headers=forwarded,
        json={"email": "ther@a.test", "password": "wrong-password"},
    )
    assert response.status_code == 401
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    events = admin.get("/api/audit").json
    assert any(e["ip"] == "203.0.113.9" for e in events)
    ok = client.post(
        "/api/auth/login",
        headers=forwarded,
        json={"email": "ther@a.test", "password": PASSWORD},
    )
    assert ok.status_code == 200
    assert "Secure" in ok.headers["Set-Cookie"]


def test_versioned_assets_are_cached_for_a_year_and_the_shell_is_not(app, anonymous):
    version = app.extensions["homeward_frontend"]["version"]
    files = app.extensions["homeward_frontend"]["files"]
    assert files
    asset = anonymous.get(f"/assets/{version}/{files[0]}")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["Cache-Control"]
    asset.close()
    stale = anonymous.get(f"/assets/0ld0ld0ld0ld/{files[0]}")
    assert stale.headers["Cache-Control"] == "no-cache"
    stale.close()
    assert anonymous.get("/").headers["Cache-Control"] == "no-cache"
    assert version in anonymous.get("/").get_data(as_text=True)


def test_the_precache_holds_the_app_s_modules_and_not_its_unit_tests(app):
    files = app.extensions["homeward_frontend"]["files"]
    assert "js/app.js" in files
    assert "js/core/outbox.js" in files
    assert "js/screens/patient/today.js" in files
    assert not [name for name in files if name.startswith("tests/")]


def test_each_precached_file_has_a_revision_of_its_own_content(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("export const a = 1;")
    (tmp_path / "js" / "b.js").write_text("export const b = 2;")
    before = build_manifest(tmp_path)
    (tmp_path / "js" / "b.js").write_text("export const b = 3;")
    after = build_manifest(tmp_path)
    assert after["version"] != before["version"]
    assert after["revisions"]["js/a.js"] == before["revisions"]["js/a.js"]
    assert after["revisions"]["js/b.js"] != before["revisions"]["js/b.js"]


def test_text_is_compressed_when_the_client_accepts_it(world, patient):
    response = patient.get("/api/exercises", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] in ("br", "gzip")


def test_health_check_answers_when_the_database_does(anonymous):
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "database": "ok",
        "redis": "off",
        "mail_oldest_unsent_seconds": None,
    }


def test_rate_limits_live_in_redis_and_are_shared_between_app_servers(make_app, world):
    """Two app instances (as on two hosts) count one account's failures from one
    address together."""
    shared = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": f"homeward-test-{uuid.uuid4().hex}",
    }
    try:
        first, second = make_app(**shared), make_app(**shared)
        assert type(limiter._storage).__name__ == "RedisStorage"
        codes = []
        for attempt in range(6):
            server = first if attempt % 2 else second
            response = ApiClient(server.test_client()).post(
                "/api/auth/login",
                json={"email": "pat@a.test", "password": "wrong-guess"},
            )
            codes.append(response.status_code)
        assert codes == [401] * 5 + [429]
    finally:
        make_app()  # back to in-memory limits for the rest of the run
