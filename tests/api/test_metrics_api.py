"""GET /metrics counts what the API suite's server really did.

Requests of several kinds go to the suite's server; the counters of those routes and statuses
must move by exactly the number made, the latency histograms' counts with them, failed logins
in login_failures_total, response cache lookups in cache_requests_total, and the scrape must
pass `promtool check metrics` (no error, no lint).
"""
import re
import shutil
import subprocess
import time
import uuid

import pytest

from spserver import ADMIN_USER

N = 6
SERIES_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def parse(text):
    """{'name{labels}': value} of every sample in a scrape."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            m = SERIES_RE.match(line)
            assert m, f"not a sample line: {line!r}"
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def scrape(api):
    r = api.get("/metrics", expect=200)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    return r.text, parse(r.text)


def req_total(route, method, status):
    return f'http_requests_total{{route="{route}",method="{method}",status="{status}"}}'


def hist(route, method, klass, part="count", le=None):
    labels = f'route="{route}",method="{method}",status_class="{klass}"'
    if le is not None:
        labels += f',le="{le}"'
    return f"http_request_duration_seconds_{part}{{{labels}}}"


def moved(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


def family_sum(samples, prefix):
    return sum(v for k, v in samples.items() if k.startswith(prefix))


def test_counters_move_by_the_requests_made(api, tokens):
    admin = tokens[ADMIN_USER]
    _text, before = scrape(api)

    # N of each kind, one after the other.
    for _ in range(N):
        api.get("/api/rules", token=admin, expect=200)
    for _ in range(N):
        api.get("/api/releases/999999999", token=admin, expect=404)
    for _ in range(N):
        api.get("/api/releases", expect=401)  # no token
    for _ in range(N):
        api.post("/api/rules", token=admin, json={"name": ""}, expect=400)
    for _ in range(N):
        api.get("/api/metrics-test-no-such-route", expect=404)
    for _ in range(N):
        # A different unknown name each time: the failed-login limiter (5 per name) stays out.
        api.post("/api/auth/login", expect=401,
                 json={"username": f"nobody-{uuid.uuid4().hex[:12]}", "password": "wrong-pw-1"})

    want = {
        req_total("/api/rules", "GET", 200): N,
        hist("/api/rules", "GET", "2xx"): N,
        req_total("/api/releases/{id}", "GET", 404): N,
        hist("/api/releases/{id}", "GET", "4xx"): N,
        req_total("/api/releases", "GET", 401): N,
        req_total("/api/rules", "POST", 400): N,
        hist("/api/rules", "POST", "4xx"): N,
        req_total("unmatched", "GET", 404): N,
        req_total("/api/auth/login", "POST", 401): N,
        hist("/api/auth/login", "POST", "4xx"): N,
        "login_failures_total": N,
    }
    # A request is counted once its response has gone out, which can trail the client reading
    # it by a moment: scrape again until every counter has caught up, then compare exactly.
    deadline = time.monotonic() + 30
    while True:
        text, after = scrape(api)
        if all(moved(before, after, k) >= v for k, v in want.items()):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for key, n in want.items():
        assert moved(before, after, key) == n, f"{key} moved by {moved(before, after, key)}, not {n}"

    # Histograms: the +Inf bucket is the count, buckets are cumulative, time was spent.
    for route, method, klass in (("/api/rules", "GET", "2xx"), ("/api/releases/{id}", "GET", "4xx"),
                                 ("/api/auth/login", "POST", "4xx")):
        assert moved(before, after, hist(route, method, klass, "bucket", "+Inf")) == N
        assert moved(before, after, hist(route, method, klass, "sum")) > 0
        prefix = hist(route, method, klass, "bucket", "")[:-2]  # up to le="
        buckets = sorted(((float(k[len(prefix):].split('"')[0]), v) for k, v in after.items()
                          if k.startswith(prefix)), key=lambda b: b[0])
        assert len(buckets) > 10, buckets
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets

    # Every GET /api/rules (first page, no search) is one response cache lookup; the first may
    # miss, the rest hit (nothing wrote rules in between).
    hits = moved(before, after, 'cache_requests_total{cache="response",result="hit"}')
    misses = moved(before, after, 'cache_requests_total{cache="response",result="miss"}')
    assert hits + misses == N and hits >= N - 1, (hits, misses)

    # The database did work, and each statement's histogram count follows its counter.
    assert family_sum(after, "db_queries_total") > family_sum(before, "db_queries_total")
    for key in (k for k in after if k.startswith("db_queries_total{")):
        labels = key[len("db_queries_total"):]
        count = "db_query_duration_seconds_count" + labels
        assert count in after, f"{count} missing"
        assert moved(before, after, count) == moved(before, after, key), key

    assert after["http_requests_in_flight"] >= 1, "the scrape itself is in flight"
    assert after["process_resident_memory_bytes"] > 0 and after["process_open_fds"] > 0
    # What the memory is made of: the database library holds its page caches and statements
    # (SQLite counts them), the response cache holds the /api/rules page fetched above.
    assert 0 < after["db_memory_bytes"] <= after["db_memory_highest_bytes"]
    assert after['process_heap_bytes{state="in_use"}'] >= 0
    assert after['process_heap_bytes{state="free"}'] >= 0
    assert after['cache_entries{cache="response"}'] >= 1
    assert after['cache_bytes{cache="response"}'] > 0
    assert any(k.startswith("build_info{") and v == 1 for k, v in after.items())
    for state in ("pending", "running", "completed", "failed", "cancelled"):
        assert f'jobs{{state="{state}"}}' in after, state

    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed by this test"
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and not (p.stdout + p.stderr).strip(), \
        f"promtool check metrics: {p.returncode}\n{p.stdout}{p.stderr}"


@pytest.mark.parametrize("path", ["/api/health", "/api/health/ready"])
def test_health_probes_are_counted_under_their_route(api, path):
    _text, before = scrape(api)
    for _ in range(N):
        api.get(path, expect=200)
    key = req_total(path, "GET", 200)
    deadline = time.monotonic() + 30
    while True:
        _text, after = scrape(api)
        if moved(before, after, key) >= N or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert moved(before, after, key) == N
    assert moved(before, after, hist(path, "GET", "2xx")) == N
