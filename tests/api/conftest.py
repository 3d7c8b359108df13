"""Fixtures of the black-box API suite.

One real `scenepacker serve` (the binary of $SP_BINARY, else build/scenepacker) runs for the
whole session on a free loopback port with a fresh data directory; it must exit 0 on SIGTERM at
the end, with no sanitizer report. Users of every role are made with the CLI before it starts,
and each logs in once (argon2 is slow under ASan): tests reuse `tokens[role]`.
Every response of every test goes through oas.validate() (see helpers.Api).
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oas  # noqa: E402
from helpers import Api, jwt_key  # noqa: E402
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server  # noqa: E402

# username -> (role, password). "inactive" is disabled before the server starts;
# "victim" is disabled while it runs (tests/api/test_auth.py).
USERS = {
    "operator": ("operator", "Operator-pass-0123"),
    "viewer": ("viewer", "Viewer-pass-0123"),
    "victim": ("operator", "Victim-pass-0123"),
    "inactive": ("viewer", "Inactive-pass-0123"),
}
PASSWORDS = {ADMIN_USER: ADMIN_PASSWORD, **{u: p for u, (_r, p) in USERS.items()}}


@pytest.fixture(scope="session")
def server():
    # The suite sends thousands of requests as one user: the per-user budget is tested on
    # its own server (test_faults.py), not here.
    # file_url downloads come from a book server on loopback: allowed here, refused by default
    # (test_wizard_flow.py checks the default on its own server).
    srv = Server(name="main", env={"SP_RATE_LIMIT_PER_MIN": "0", "SP_FETCH_PRIVATE": "1"})
    try:
        for name, (role, password) in USERS.items():
            srv.add_user(name, role, password)
        srv.cli("user", "disable", "inactive")
        srv.start()
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


@pytest.fixture(scope="session")
def api(server):
    return Api(server.base)


@pytest.fixture(scope="session")
def logins(api):
    """LoginResponse bodies of admin, operator, viewer and victim (one login each)."""
    out = {}
    for user in (ADMIN_USER, "operator", "viewer", "victim"):
        out[user] = api.login(user, PASSWORDS[user]).body
    return out


@pytest.fixture(scope="session")
def tokens(logins):
    """Access tokens by username."""
    return {u: b["access_token"] for u, b in logins.items()}


@pytest.fixture(scope="session")
def key(server, tokens):
    """The server's JWT signing key (from DATA_DIR/jwt.key)."""
    return jwt_key(server.data_dir, tokens[ADMIN_USER])


def _full_run(config):
    if config.option.keyword or config.option.markexpr:
        return False
    if getattr(config.option, "lf", False) or getattr(config.option, "deselect", None):
        return False
    return all(os.path.isdir(a.split("::")[0]) for a in config.args)


def pytest_sessionfinish(session, exitstatus):
    """On a full, green run, every documented operation must have been exercised."""
    if exitstatus != 0 or not _full_run(session.config):
        return
    seen = {(t, m) for t, m, _s in oas.COVERED}
    missing = [f"{m} {t}" for t, m in oas.operations() if (t, m) not in seen]
    if missing:
        sys.stderr.write("\nDocumented operations no test exercised:\n  " +
                         "\n  ".join(missing) + "\n")
        session.exitstatus = 1


# --- accounts made through the API (tests of the admin area) ----------------------------------

@pytest.fixture(scope="session")
def role_ids(api, tokens):
    """Role name -> id (the seeded roles; GET /api/roles as admin)."""
    body = api.get("/api/roles", token=tokens[ADMIN_USER], params={"per_page": 100},
                   expect=200).body
    return {r["name"]: r["id"] for r in body["roles"]}


@pytest.fixture(scope="session")
def new_user(api, tokens, role_ids):
    """Factory: new_user(*roles, login=True, **fields) creates a user through POST /api/users
    (roles by name, default viewer) and logs it in. Returns a dict with id, username,
    password, token, refresh (token/refresh None when login=False) and the AdminUser body."""
    counter = iter(range(1, 1_000_000))

    def make(*roles, login=True, prefix="u", **fields):
        n = next(counter)
        username = fields.pop("username", f"{prefix}{n:04d}_{os.getpid() % 1000}")
        password = fields.pop("password", f"Pass-{username}-0123")
        ids = [role_ids[r] for r in (roles or ("viewer",))]
        body = {"username": username, "password": password, "role_ids": ids, **fields}
        user = api.post("/api/users", token=tokens[ADMIN_USER], json=body, expect=201).body
        out = {"id": user["id"], "username": username, "password": password, "user": user,
               "token": None, "refresh": None}
        if login:
            lb = api.login(username, password).body
            out["token"], out["refresh"] = lb["access_token"], lb["refresh_token"]
        return out

    return make
