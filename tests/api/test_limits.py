"""Limits and headers: the failed-login limiter (per (IP, username) and per username; success is
never limited), the per-user request budget (SP_RATE_LIMIT_PER_MIN), X-Forwarded-For honoured
only from SP_TRUSTED_PROXIES, CORS only for SP_CORS_ORIGINS (with a correct preflight), and the
security headers on every response (JSON, errors, HTML, text)."""
import uuid

import pytest
import requests

from helpers import Api, assert_error, raw_connect, read_response
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server

ORIGIN = "https://ui.example"
BUDGET = 30
USERS = {"alice": "Alice-pass-0123", "bob": "Bob-pass-01234", "carl": "Carl-pass-0123",
         "dave": "Dave-pass-0123", "erin": "Erin-pass-0123"}


@pytest.fixture(scope="module")
def limits_server():
    srv = Server(name="limits", env={"SP_RATE_LIMIT_PER_MIN": str(BUDGET),
                                     "SP_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
                                     "SP_CORS_ORIGINS": ORIGIN, "SP_HSTS": "1"})
    try:
        for name, pw in USERS.items():
            srv.add_user(name, "operator", pw)
        srv.start()
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def lapi(limits_server):
    return Api(limits_server.base)


def audit_ip(api, admin_token, request_id):
    rows = [e for e in api.get("/api/audit", token=admin_token, params={"per_page": 100},
                               expect=200).body["entries"] if e["request_id"] == request_id]
    assert len(rows) == 1, rows
    return rows[0]["ip"]


# --- per-user request budget -------------------------------------------------------------------

def test_request_budget_is_per_user(lapi):
    alice = lapi.login("alice", USERS["alice"]).body["access_token"]
    bob = lapi.login("bob", USERS["bob"]).body["access_token"]
    statuses = []
    for _ in range(BUDGET + 10):
        r = lapi.get("/api/auth/me", token=alice)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert r.body["code"] == "rate_limited"
            assert 0 < int(r.headers["Retry-After"]) <= 61
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            break
    assert statuses[-1] == 429 and statuses.count(200) >= BUDGET - 2, statuses
    # Another user is not affected; anonymous endpoints neither; logging in is never charged.
    lapi.get("/api/auth/me", token=bob, expect=200)
    lapi.get("/api/health", expect=200)
    again = lapi.login("alice", USERS["alice"]).body["access_token"]
    # The budget belongs to the user, not to a token.
    assert_error(lapi.get("/api/releases", token=again), 429)
    metrics = requests.get(lapi.base + "/metrics", timeout=30).text
    line = [x for x in metrics.splitlines() if x.startswith("rate_limited_total")][0]
    assert float(line.split()[-1]) >= 1


# --- failed logins -----------------------------------------------------------------------------

def test_failed_logins_are_limited_per_username_across_ips(lapi):
    for i in range(5):
        lapi.post("/api/auth/login", json={"username": "carl", "password": f"wrong-{i}"},
                  headers={"X-Forwarded-For": f"198.51.100.{i + 1}"}, expect=401)
    # A sixth attempt from yet another address, even with the right password, is refused.
    r = lapi.post("/api/auth/login", json={"username": "carl", "password": USERS["carl"]},
                  headers={"X-Forwarded-For": "198.51.100.99"})
    assert_error(r, 429, code="rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # Other accounts from the same addresses are unaffected.
    lapi.post("/api/auth/login", json={"username": "erin", "password": USERS["erin"]},
              headers={"X-Forwarded-For": "198.51.100.1"}, expect=200)


def test_successful_logins_are_never_limited(lapi):
    for round_ in range(3):
        for i in range(4):
            lapi.post("/api/auth/login", json={"username": "dave", "password": f"bad-{i}"},
                      expect=401)
        lapi.login("dave", USERS["dave"])  # success forgets the failures
    for _ in range(8):
        lapi.login("dave", USERS["dave"])


# --- X-Forwarded-For ---------------------------------------------------------------------------

def test_forwarded_for_is_honoured_from_trusted_proxies(lapi):
    admin = lapi.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
    cases = [("203.0.113.7", "203.0.113.7"),
             ("198.51.100.4, 203.0.113.8", "203.0.113.8"),   # the nearest untrusted hop
             ("203.0.113.9, 10.1.2.3", "203.0.113.9"),       # trusted hops are skipped
             ("not-an-address", "127.0.0.1")]                # garbage: keep the proxy
    for xff, expected in cases:
        rid = "xff-" + uuid.uuid4().hex[:12]
        lapi.post("/api/auth/login", json={"username": "nobody-" + rid, "password": "x" * 10},
                  headers={"X-Forwarded-For": xff, "X-Request-Id": rid}, expect=401)
        assert audit_ip(lapi, admin, rid) == expected, xff


def test_forwarded_for_is_ignored_without_trusted_proxies(api, tokens):
    rid = "xff-" + uuid.uuid4().hex[:12]
    api.post("/api/auth/login", json={"username": "nobody-" + rid, "password": "x" * 10},
             headers={"X-Forwarded-For": "203.0.113.66", "X-Request-Id": rid}, expect=401)
    assert audit_ip(api, tokens[ADMIN_USER], rid) == "127.0.0.1"


# --- CORS --------------------------------------------------------------------------------------

def test_cors_for_the_configured_origin_only(lapi):
    r = lapi.get("/api/health", headers={"Origin": ORIGIN}, expect=200)
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in r.headers["Vary"]
    assert "X-Request-Id" in r.headers["Access-Control-Expose-Headers"]
    r = lapi.get("/api/health", headers={"Origin": "https://evil.example"}, expect=200)
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Origin" in r.headers["Vary"], "caches must not mix answers for different origins"
    # Errors carry it too, so the page can read them.
    r = lapi.get("/api/releases", headers={"Origin": ORIGIN})
    assert_error(r, 401)
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_cors_preflight(lapi):
    h = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
         "Access-Control-Request-Headers": "authorization, content-type"}
    r = requests.options(lapi.base + "/api/users", headers=h, timeout=30)
    assert r.status_code == 204 and not r.content
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    methods = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST"} <= methods and "DELETE" not in methods
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert int(r.headers["Access-Control-Max-Age"]) > 0
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # No token is needed for a preflight, and none is granted to a stranger.
    r = requests.options(lapi.base + "/api/users/1", headers={**h, "Origin": "https://evil.example"},
                         timeout=30)
    assert r.status_code == 204
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Methods" not in r.headers
    r = requests.options(lapi.base + "/api/no-such-thing", headers=h, timeout=30)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_no_cors_when_none_configured(server):
    h = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    r = requests.options(server.base + "/api/releases", headers=h, timeout=30)
    assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(server.base + "/api/health", headers={"Origin": ORIGIN}, timeout=30)
    assert "Access-Control-Allow-Origin" not in r.headers


# --- security headers --------------------------------------------------------------------------

def check_security_headers(r, what, hsts=False):
    h = r.headers
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("X-Frame-Options") == "DENY", what
    assert h.get("Referrer-Policy"), what
    assert h.get("X-Request-Id"), what
    assert h.get("Content-Security-Policy"), what
    assert ("Strict-Transport-Security" in h) == hsts, what


def every_kind_of_response(base, token):
    s = requests.Session()
    auth = {"Authorization": f"Bearer {token}"}
    yield "html page", s.get(base + "/", timeout=30)
    yield "yaml", s.get(base + "/api/openapi.yaml", timeout=30)
    yield "metrics", s.get(base + "/metrics", timeout=30)
    yield "json 200", s.get(base + "/api/health", timeout=30)
    yield "401", s.get(base + "/api/releases", timeout=30)
    yield "403 (401 for a bad token)", s.get(base + "/api/audit", headers=auth, timeout=30)
    yield "404", s.get(base + "/api/nope", headers=auth, timeout=30)
    yield "405", s.delete(base + "/api/health", timeout=30)
    yield "400", s.post(base + "/api/auth/login", data="{not json", timeout=30)
    yield "415", s.post(base + "/api/auth/login", data=b"x", timeout=30,
                        headers={"Content-Type": "image/png"})
    yield "413", requests.post(base + "/api/auth/login", data=b"x" * (2 << 20), timeout=60,
                               headers={"Content-Type": "application/json"})
    yield "204", s.options(base + "/api/health", timeout=30)


def test_security_headers_on_every_response(server, tokens):
    seen = set()
    for what, r in every_kind_of_response(server.base, tokens["viewer"]):
        check_security_headers(r, what)
        seen.add(r.status_code)
    assert {200, 204, 400, 401, 403, 404, 405, 413, 415} <= seen
    r = requests.get(server.base + "/", timeout=30)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_hsts_and_headers_on_rate_limited_answers(limits_server, lapi):
    for what, r in every_kind_of_response(limits_server.base, "x"):
        check_security_headers(r, what, hsts=True)
    tok = lapi.login("bob", USERS["bob"]).body["access_token"]
    r = None
    for _ in range(BUDGET + 10):
        r = requests.get(limits_server.base + "/api/auth/me",
                         headers={"Authorization": f"Bearer {tok}"}, timeout=30)
        if r.status_code == 429:
            break
    assert r.status_code == 429
    check_security_headers(r, "429", hsts=True)


def test_protocol_errors_answered_by_libmicrohttpd(server, api):
    """Requests libmicrohttpd refuses before our code sees them (a header block larger than the
    per-connection memory, an unknown HTTP version) get its own short static answer and a
    closed connection. They echo nothing of the request; the server stays healthy."""
    marker = b"reflect-" + uuid.uuid4().hex.encode()
    for raw, status in ((b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + marker * 4000 +
                         b"\r\n\r\n", 431),
                        (b"GET /" + marker + b" HTTP/9.9\r\nHost: x\r\n\r\n", 505)):
        s = raw_connect(server.port)
        try:
            try:
                s.sendall(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # it may answer and close before reading everything
            got, headers, body = read_response(s)
        finally:
            s.close()
        assert got == status
        assert marker not in body
        assert headers.get("Connection", "").lower() == "close"
    api.get("/api/health", expect=200)
