"""Health, readiness, metrics, the UI page, and what every response has in common."""
import shutil
import subprocess

import pytest

import oas
from helpers import assert_error, raw_connect, read_response
from spserver import ADMIN_USER


def test_health(api):
    body = api.get("/api/health", expect=200).body
    assert body["status"] == "ok"
    assert body["version"]


def test_ready(api):
    body = api.get("/api/health/ready", expect=200).body
    assert body["status"] == "ok" and body["failing"] == []
    assert body["database"]["ok"] is True and body["cache"]["ok"] is True
    assert 0 <= body["disk_free_percent"] <= 100


def test_metrics_is_prometheus_text(api):
    api.get("/api/releases")  # at least one routed request was counted
    r = api.get("/metrics", expect=200)
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert "# TYPE" in text and "# HELP" in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed by this test"
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    # 1 = the text does not parse; 3 = lint findings only (naming advice), reported below.
    assert p.returncode in (0, 3), f"promtool check metrics: {p.returncode}\n{p.stdout}{p.stderr}"
    assert p.returncode == 0, f"promtool lint findings:\n{p.stdout}{p.stderr}"


def test_ui_page(api):
    r = api.get("/", expect=200)
    assert "<title>" in r.text.lower()
    assert "openapi.yaml" in r.text, "the page links the API documentation"
    assert r.headers.get("Content-Security-Policy"), "the UI has a Content-Security-Policy"


def test_security_headers_and_request_id(api, tokens):
    r = api.get("/api/releases", token=tokens[ADMIN_USER], headers={"X-Request-Id": "test-req-42"},
                expect=200)
    assert r.headers["X-Request-Id"] == "test-req-42"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers.get("Referrer-Policy")
    r2 = api.get("/api/health", expect=200)
    r3 = api.get("/api/health", expect=200)
    assert r2.headers["X-Request-Id"] != r3.headers["X-Request-Id"], "generated ids are unique"


def test_cors_only_for_configured_origins(api):
    r = api.get("/api/health", headers={"Origin": "http://evil.example"}, expect=200)
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("path", ["/api/nope", "/api/releases/1/nope/deeper", "/api/auth",
                                  "/api/" + "x" * 3000])
def test_unknown_api_route_is_json_404(api, tokens, path):
    assert_error(api.get(path, token=tokens[ADMIN_USER]), 404, code="not_found")
    assert_error(api.post(path, token=tokens[ADMIN_USER], json={}), 404)


def test_unknown_route_without_token_is_404_too(api):
    assert_error(api.get("/api/does-not-exist"), 404)


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/health"),
    ("POST", "/api/health/ready"),
    ("PUT", "/api/auth/login"),
    ("GET", "/api/auth/login"),
    ("GET", "/api/auth/logout"),
    ("PATCH", "/api/releases/1"),
    ("POST", "/api/releases/1"),
    ("DELETE", "/api/releases"),
    ("PUT", "/api/rules"),
    ("POST", "/api/rules/1/spec"),
    ("GET", "/api/wizard/create"),
    ("DELETE", "/api/dashboard/stats"),
    ("POST", "/api/groups"),
    ("PUT", "/api/permissions"),
    ("POST", "/metrics"),
])
def test_wrong_method_is_405_with_allow(api, tokens, method, path):
    r = api.request(method, path, token=tokens[ADMIN_USER])
    assert_error(r, 405, code="method_not_allowed")
    assert r.headers.get("Allow")


@pytest.mark.parametrize("path", ["/api/releases/0", "/api/releases/-1", "/api/releases/abc",
                                  "/api/releases/99999999", "/api/releases/1.5",
                                  "/api/releases/99999999999999999999999",
                                  "/api/rules/0", "/api/rules/abc", "/api/rules/99999999",
                                  "/api/rules/99999999/spec"])
def test_unknown_or_malformed_ids_are_404(api, tokens, path):
    assert_error(api.get(path, token=tokens[ADMIN_USER]), 404, code="not_found")


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/auth/me"), ("POST", "/api/auth/logout"), ("GET", "/api/dashboard/stats"),
    ("GET", "/api/releases"), ("GET", "/api/releases/1"), ("PUT", "/api/releases/1"),
    ("DELETE", "/api/releases/1"), ("POST", "/api/wizard/create"), ("POST", "/api/wizard/draft"),
    ("GET", "/api/wizard/rules"), ("GET", "/api/rules"), ("POST", "/api/rules"),
    ("GET", "/api/rules/1"), ("PUT", "/api/rules/1"), ("DELETE", "/api/rules/1"),
    ("GET", "/api/rules/1/spec"), ("GET", "/api/groups"), ("GET", "/api/permissions"),
])
def test_protected_endpoints_need_a_token(api, method, path):
    kw = {"json": {}} if method in ("POST", "PUT") else {}
    assert_error(api.request(method, path, **kw), 401, code="unauthorized")


def test_ui_page_etag_revalidates(api):
    r = api.get("/", expect=200)
    etag = r.headers.get("ETag")
    assert etag, "the page has an ETag"
    r2 = api.get("/", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""


def test_head_of_a_get_route(api):
    r = api.request("HEAD", "/api/health", expect=200)
    assert r.content == b""


@pytest.mark.parametrize("target", ["/api/../api/health", "/../../etc/passwd",
                                    "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                                    "/web/../../etc/passwd"])
def test_path_traversal_is_404(server, target):
    s = raw_connect(server.port)
    try:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status, headers, body = read_response(s)
    finally:
        s.close()
    path = target.split("?")[0]
    assert status == 404, f"{target}: {status} {body[:200]!r}"
    assert b"root:" not in body
    oas.validate_parts("GET", path, status, headers, body)
