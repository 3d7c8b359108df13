# tests/load/locustfile.py
"""Load test of eBook Scene Packer (LOAD_TESTING_PLAN.md, docs/LOAD-TESTING.md).

ApplicationUser is the plan's class, verbatim. SessionUser adds the rest of a real session
(release detail, search, rule detail, logout); the plan's mix stays dominant (weights 4:1).

Plain plan usage still works (no shape unless asked):
    locust -f tests/load/locustfile.py --host=http://localhost:5000 --headless -u 50 -r 10 -t 30m
Scenario shapes (scripts/load-test sets these):
    SP_LOAD_SCENARIO=normal|high|max|spike  [SP_LOAD_DURATION=30m] [SP_LOAD_USERS=N] [SP_LOAD_SPAWN_RATE=R]
Other environment:
    SP_LOAD_HOST      default host when --host is not given (default http://127.0.0.1:5000)
    SP_LOAD_USER, SP_LOAD_PASSWORD   SessionUser's account (default testuser / password, as the plan)
    SP_LOAD_SAMPLES   file that receives one CSV line per request (end time, method, name, ms,
                      ok, status, bytes) for the report; SP_LOAD_USERS_LOG gets the user count
                      every second.
    SP_LOAD_CLIENT    requests (default: HttpUser, as the plan) or fast (FastHttpUser under
                      the same classes; what `make load-test` uses unless CLIENT=requests)
    SP_LOAD_GC_FREEZE, SP_LOAD_WARM_CLIENT   0 turns off the generator's own pause and start-up
                      fixes (see the end of this file)
"""
import importlib.util
import os
import random
import re
import sys
import time
from urllib.parse import quote

import gevent
from locust import HttpUser, task, between, events

# SP_LOAD_CLIENT=fast runs the same classes on Locust's FastHttpUser (geventhttpclient) instead of
# HttpUser (python-requests): the plan's class text is unchanged, only the HTTP client under it.
# On a 2-core machine shared with the server, requests' own CPU time shows up in every response
# time once hundreds of users run (docs/PERFORMANCE.md). The default is the plan's HttpUser.
_CLIENT = os.environ.get("SP_LOAD_CLIENT", "requests").strip() or "requests"
if _CLIENT == "fast":
    from locust.contrib.fasthttp import FastHttpUser as HttpUser  # noqa: F811
elif _CLIENT != "requests":
    raise SystemExit(f"SP_LOAD_CLIENT: unknown client '{_CLIENT}' (use: requests, fast)")

class ApplicationUser(HttpUser):
    wait_time = between(1, 3)
    
    def on_start(self):
        """Login before starting."""
        response = self.client.post("/api/auth/login", json={
            "username": "testuser",
            "password": "password"
        })
        self.token = response.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
    
    @task(5)
    def view_dashboard(self):
        """View dashboard."""
        self.client.get("/api/dashboard/stats", headers=self.headers)
    
    @task(4)
    def list_releases(self):
        """List releases."""
        self.client.get("/api/releases", headers=self.headers)
    
    @task(2)
    def list_rules(self):
        """List rules."""
        self.client.get("/api/rules", headers=self.headers)
    
    @task(1)
    def create_release(self):
        """Create release."""
        self.client.post("/api/wizard/create", json={
            "group": "TestGroup",
            "release_type": "EBOOK"
        }, headers=self.headers)


# Outside the plan's class so its text stays verbatim: where to find the server when no --host
# is given, and its share of the simulated users (4 of every 5).
DEFAULT_HOST = os.environ.get("SP_LOAD_HOST", "http://127.0.0.1:5000")
if ApplicationUser.host is None:
    ApplicationUser.host = DEFAULT_HOST
ApplicationUser.weight = 4

# Debian's python3-locust 2.12 ships an empty locust.__version__, and a master then takes every
# worker for a pre-2.0 one and refuses it ("An old (pre 2.0) worker tried to connect"). Give
# both sides the same non-empty version so distributed runs (scripts/load-test --locust-workers)
# work; nothing else reads it.
import locust.runners as _locust_runners  # noqa: E402

if not _locust_runners.__version__:
    _locust_runners.__version__ = "2.12-debian"

_FALLBACK_TERMS = ["the", "book", "history", "guide", "love", "world", "retail", "ebook", "2024"]
_WORD = re.compile(r"[A-Za-z]{4,}")


class SessionUser(HttpUser):
    """The rest of a real session: browse pages, open releases, search, read a rule, log out.

    Every response is checked (status and JSON body), so the smoke test catches wrong answers,
    not only transport errors. Tokens are refreshed before they expire, like the web client.
    """

    host = DEFAULT_HOST
    weight = 1
    wait_time = between(1, 3)

    username = os.environ.get("SP_LOAD_USER", "testuser")
    password = os.environ.get("SP_LOAD_PASSWORD", "password")

    def on_start(self):
        self.headers = {}
        self.refresh_token = None
        self.token_expires = 0.0
        self.release_ids = []
        self.rule_ids = []
        self.pages = 1
        self.terms = list(_FALLBACK_TERMS)
        if self.login():
            self.load_release_page(1)
            self.load_rules()

    # --- helpers -------------------------------------------------------------------------
    def _json(self, resp, expect=200):
        """Body of `resp` as a dict when its status is `expect`; else mark it failed, return None."""
        if resp.status_code != expect:
            resp.failure(f"HTTP {resp.status_code} (expected {expect}): {resp.text[:200]}")
            return None
        try:
            body = resp.json()
        except ValueError:
            resp.failure("response is not JSON")
            return None
        if not isinstance(body, dict):
            resp.failure("response is not a JSON object")
            return None
        return body

    def login(self):
        with self.client.post("/api/auth/login", json={"username": self.username,
                                                        "password": self.password},
                              name="/api/auth/login", catch_response=True) as resp:
            body = self._json(resp)
            if body is None:
                return False
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                resp.failure("login response has no access_token")
                return False
            self.headers = {"Authorization": f"Bearer {token}"}
            self.refresh_token = body.get("refresh_token")
            expires_in = body.get("expires_in")
            self.token_expires = time.time() + (expires_in if isinstance(expires_in, (int, float)) else 900)
            return True

    def ensure_token(self):
        """Log in when there is no token; refresh it when it is about to expire."""
        if not self.headers:
            return self.login()
        if time.time() < self.token_expires - 30:
            return True
        if not self.refresh_token:
            return self.login()
        with self.client.post("/api/auth/refresh", name="/api/auth/refresh", catch_response=True,
                              headers={"Authorization": f"Bearer {self.refresh_token}"}) as resp:
            body = self._json(resp)
            if body is None or not isinstance(body.get("access_token"), str):
                if body is not None:
                    resp.failure("refresh response has no access_token")
                self.headers = {}
                return self.login()
            self.headers = {"Authorization": f"Bearer {body['access_token']}"}
            self.refresh_token = body.get("refresh_token") or self.refresh_token
            expires_in = body.get("expires_in")
            self.token_expires = time.time() + (expires_in if isinstance(expires_in, (int, float)) else 900)
            return True

    def load_release_page(self, page):
        with self.client.get(f"/api/releases?page={page}&per_page=50", headers=self.headers,
                             name="/api/releases?page=[n]", catch_response=True) as resp:
            body = self._json(resp)
            if body is None:
                return
            items = body.get("releases")
            pagination = body.get("pagination") or {}
            if not isinstance(items, list):
                resp.failure("list response has no 'releases' array")
                return
            pages = pagination.get("pages")
            if isinstance(pages, int) and pages >= 1:
                self.pages = pages
            ids = [r.get("id") for r in items if isinstance(r, dict) and isinstance(r.get("id"), int)]
            if ids:
                self.release_ids = ids
            words = set()
            for r in items:
                if isinstance(r, dict):
                    for key in ("name", "group"):
                        if isinstance(r.get(key), str):
                            words.update(w.lower() for w in _WORD.findall(r[key]))
            if words:
                self.terms = sorted(words)[:200]

    def load_rules(self):
        with self.client.get("/api/rules", headers=self.headers, name="/api/rules",
                             catch_response=True) as resp:
            body = self._json(resp)
            if body is None:
                return
            items = body.get("rules")
            if not isinstance(items, list):
                resp.failure("list response has no 'rules' array")
                return
            self.rule_ids = [r["id"] for r in items if isinstance(r, dict) and isinstance(r.get("id"), int)]

    # --- tasks ---------------------------------------------------------------------------
    @task(4)
    def release_detail(self):
        """Open a release seen on a list page (a random page now and then)."""
        if not self.ensure_token():
            return
        if not self.release_ids or random.random() < 0.2:
            self.load_release_page(random.randint(1, max(1, min(self.pages, 500))))
        if not self.release_ids:
            return
        rid = random.choice(self.release_ids)
        with self.client.get(f"/api/releases/{rid}", headers=self.headers, name="/api/releases/[id]",
                             catch_response=True) as resp:
            body = self._json(resp)
            if body is not None and body.get("id") != rid and (body.get("release") or {}).get("id") != rid:
                resp.failure("release detail has another id")

    @task(2)
    def search_releases(self):
        """Full-text search with a word taken from release names."""
        if not self.ensure_token():
            return
        term = random.choice(self.terms)
        with self.client.get(f"/api/releases?search={quote(term)}", headers=self.headers,
                             name="/api/releases?search=[q]", catch_response=True) as resp:
            body = self._json(resp)
            if body is not None and not isinstance(body.get("releases"), list):
                resp.failure("search response has no 'releases' array")

    @task(2)
    def rule_detail(self):
        """Read one scene rule."""
        if not self.ensure_token():
            return
        if not self.rule_ids:
            self.load_rules()
            if not self.rule_ids:
                return
        rid = random.choice(self.rule_ids)
        with self.client.get(f"/api/rules/{rid}", headers=self.headers, name="/api/rules/[id]",
                             catch_response=True) as resp:
            body = self._json(resp)
            if body is not None and body.get("id") != rid and (body.get("rule") or {}).get("id") != rid:
                resp.failure("rule detail has another id")

    @task(1)
    def logout_and_login(self):
        """End the session (access and refresh token revoked), then start a new one."""
        if not self.ensure_token():
            return
        payload = {"refresh_token": self.refresh_token} if self.refresh_token else {}
        with self.client.post("/api/auth/logout", json=payload, headers=self.headers,
                              name="/api/auth/logout", catch_response=True) as resp:
            self._json(resp)
        self.headers = {}
        self.refresh_token = None
        self.login()


# --- scenario shape (only when asked, so the plan's -u/-r/-t command keeps working) ------------
def _load_shapes():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shapes.py")
    spec = importlib.util.spec_from_file_location("sp_load_shapes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_scenario = os.environ.get("SP_LOAD_SCENARIO", "").strip()
if _scenario:
    _shapes = _load_shapes()
    if _scenario not in _shapes.SHAPES:
        raise SystemExit(f"SP_LOAD_SCENARIO: unknown scenario '{_scenario}' "
                         f"(use: {', '.join(_shapes.SHAPES)})")
    ScenarioShape = _shapes.SHAPES[_scenario]


# --- raw samples for the report (only when SP_LOAD_SAMPLES is set) ------------------------------
class _Recorder:
    def __init__(self, samples_path, users_path):
        # A distributed run's master makes no requests and a worker does not know the total user
        # count: each process records what it has (samples_path or users_path may be None).
        self.samples = open(samples_path, "a", buffering=1 << 16, encoding="utf-8") \
            if samples_path else None
        self.users = open(users_path, "a", buffering=1 << 12, encoding="utf-8") if users_path else None
        self.environment = None
        self.ticker = None

    def on_request(self, request_type, name, response_time, response_length, response=None,
                   exception=None, start_time=None, **_kw):
        if self.samples is None or self.samples.closed:
            return
        status = getattr(response, "status_code", 0) or 0
        end = (start_time + response_time / 1000.0) if start_time else time.time()
        ok = 0 if exception is not None else 1
        self.samples.write(f"{end:.4f},{request_type},{name},{response_time:.3f},{ok},{status},"
                           f"{response_length or 0}\n")

    def tick_forever(self):
        while not self._closed():
            self.write_users()
            if self.samples is not None:
                self.samples.flush()
            gevent.sleep(1.0)

    def _closed(self):
        return all(f is None or f.closed for f in (self.samples, self.users))

    def write_users(self):
        if self.users is not None and not self.users.closed and self.environment is not None \
                and self.environment.runner:
            self.users.write(f"{time.time():.3f},{self.environment.runner.user_count}\n")
            self.users.flush()

    def on_test_start(self, environment, **_kw):
        self.environment = environment
        if self.ticker is None:
            self.ticker = gevent.spawn(self.tick_forever)

    def on_user_error(self, user_instance, exception, tb, **_kw):
        if self.samples is None or self.samples.closed:
            return
        user = getattr(user_instance, "user", user_instance)  # Locust passes the user's TaskSet
        self.samples.write(f"{time.time():.4f},EXCEPTION,{type(user).__name__},0,0,0,0\n")

    def on_quitting(self, environment, **_kw):
        if self.ticker is not None:
            self.ticker.kill(block=False)
        self.write_users()
        if self.samples is not None:
            self.samples.flush()
            self.samples.close()
        if self.users is not None:
            self.users.close()


_samples_path = os.environ.get("SP_LOAD_SAMPLES", "").strip()
if _samples_path:
    _users_path = os.environ.get("SP_LOAD_USERS_LOG", "").strip() or None
    if "--worker" in sys.argv:    # distributed: one samples file per worker, merged afterwards
        _samples_path, _users_path = f"{_samples_path}.{os.getpid()}", None
    elif "--master" in sys.argv:  # the master only knows the user count
        _samples_path = None
    _recorder = _Recorder(_samples_path, _users_path)
    events.request.add_listener(_recorder.on_request)
    events.test_start.add_listener(_recorder.on_test_start)
    events.user_error.add_listener(_recorder.on_user_error)
    events.quitting.add_listener(_recorder.on_quitting)


# --- the load generator's own pauses ------------------------------------------------------------
# CPython's full (generation 2) collections stop a Locust process for 30-60 ms once it holds a few
# hundred users, and every request in flight in that process is reported that much slower: the
# client-side p99 then measures Locust, not the server. Objects that live for the whole run
# (modules, then the users and their HTTP sessions as they are spawned) are moved out of the
# collector's sight with gc.freeze() — at start and whenever this process's user count has
# changed — so full collections scan only what is new. Short-lived garbage is still collected by
# the young generations. SP_LOAD_GC_FREEZE=0 turns this off (plain CPython behaviour).
import gc as _gc  # noqa: E402

if os.environ.get("SP_LOAD_GC_FREEZE", "1").strip() != "0":
    def _freeze_when_users_change(environment):
        seen = None
        while True:
            runner = environment.runner
            count = runner.user_count if runner is not None else None
            if count != seen:
                seen = count
                _gc.freeze()
            gevent.sleep(1.0)

    @events.init.add_listener
    def _start_freezer(environment, **_kw):
        gevent.spawn(_freeze_when_users_change, environment)

    _gc.collect()
    _gc.freeze()


# --- the load generator's one-off start-up costs ------------------------------------------------
# The first request of a Locust process pays costs that belong to the client, not the server:
# gevent starts its resolver thread pool on the first getaddrinfo, and requests imports netrc and
# shlex on the first request of any session. Every user spawned in the first second logs in at
# once, so those costs (measured 4-18 ms with 10 users against /api/health) landed on the first
# logins' times. Paying them once at start, before any user exists, sends nothing to the server
# and changes no request. SP_LOAD_WARM_CLIENT=0 turns this off.
if os.environ.get("SP_LOAD_WARM_CLIENT", "1").strip() != "0":
    @events.init.add_listener
    def _warm_client(environment, **_kw):
        import socket
        from urllib.parse import urlsplit

        import requests

        url = environment.host or DEFAULT_HOST
        parts = urlsplit(url)
        try:
            socket.getaddrinfo(parts.hostname or "127.0.0.1", parts.port or 80,
                               type=socket.SOCK_STREAM)
        except OSError:
            pass  # an unresolvable host fails the same way in the users' own requests
        session = requests.Session()
        session.merge_environment_settings(url, {}, None, None, None)
        requests.utils.get_netrc_auth(url)
        session.close()
