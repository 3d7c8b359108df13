"""Readiness (GET /api/health/ready) follows what the instance can really do.

Each test runs its own server. The database test runs it as the unprivileged user `nobody`
(root ignores file modes, and CI runs as root), takes read and write permission away from the
database file (then from its write-ahead log), and expects 503 naming `database` while every
other endpoint keeps answering JSON; permission back, 200 again. The disk test fills a small
tmpfs holding the data directory. The job queue test plays a dead worker by writing job rows
directly, with no worker running (SP_WORKERS=0).
"""
import contextlib
import errno
import grp
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time

import pytest

from helpers import Api
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server, binary_path

# How long the job queue may hold waiting work with no live worker lease before readiness
# names `jobs` (src/api/health.c JOBS_STUCK_AFTER_S).
JOBS_STUCK_AFTER_S = 300


def _need_root(what):
    assert os.geteuid() == 0, f"{what} must run as root (CI does); it is not skipped"


def ready(api):
    r = api.get("/api/health/ready")
    assert r.status_code in (200, 503), r.text[:500]
    body = r.body
    assert body["status"] == ("ok" if r.status_code == 200 else "degraded"), body
    assert (r.status_code == 200) == (body["failing"] == []), body
    if r.status_code == 503:
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
    return r


def assert_ready(api):
    r = ready(api)
    assert r.status_code == 200, r.text[:500]
    return r.body


def assert_not_ready(api, check):
    r = ready(api)
    assert r.status_code == 503, f"expected 503 naming {check}: {r.text[:500]}"
    assert check in r.body["failing"], r.body
    return r.body


# --- the database file becomes unreadable ------------------------------------------------------

@contextlib.contextmanager
def unprivileged_server(name, env=None):
    """A Server whose process (and CLI runs) are `nobody`, with a data dir nobody owns."""
    _need_root("the unreadable-database test")
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup")
    root = tempfile.mkdtemp(prefix=f"sp-{name}-")
    os.chmod(root, 0o755)  # nobody must reach the data dir inside
    data = os.path.join(root, "data")
    os.mkdir(data)
    os.chown(data, nobody.pw_uid, nogroup.gr_gid)
    # A copy of the binary nobody can run, wherever the checkout lives (/root is 0700).
    binary = os.path.join(root, "scenepacker")
    shutil.copy2(binary_path(), binary)
    os.chmod(binary, 0o755)
    wrapper = os.path.join(root, "as-nobody")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups "
                f"'{binary}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    srv = Server(data_dir=data, name=name, env=env)
    srv.binary = wrapper
    try:
        yield srv
    finally:
        srv.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def other_endpoints_answer_json(api, token):
    """While the database is unusable, nothing crashes: every answer is JSON (or the metrics
    text), successful or 500/503. Returns the statuses seen."""
    seen = []
    calls = [
        ("GET", "/api/health", {}),
        ("GET", "/api/releases", {"token": token}),
        ("GET", "/api/dashboard/stats", {"token": token}),
        ("GET", "/api/rules", {"token": token}),
        ("POST", "/api/auth/login", {"json": {"username": ADMIN_USER,
                                              "password": ADMIN_PASSWORD}}),
        ("POST", "/api/rules", {"token": token,
                                "json": {"name": f"During outage {time.time_ns()}",
                                         "content": "rules\n"}}),
    ]
    for method, path, kw in calls:
        r = api.request(method, path, **kw)
        assert r.status_code in (200, 201, 500, 503), f"{method} {path}: {r.text[:300]}"
        assert r.headers.get("Content-Type", "").startswith("application/json"), \
            f"{method} {path}: {r.headers.get('Content-Type')}"
        assert isinstance(r.body, dict), f"{method} {path}: {r.text[:300]}"
        seen.append(r.status_code)
    r = api.get("/metrics")
    assert r.status_code == 200 and "http_requests_total" in r.text
    api.get("/api/health", expect=200)
    return seen


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_ready_fails_while_the_database_file_is_unusable(suffix):
    # info: the change-of-state lines are checked below
    with unprivileged_server("ready-db", env={"SP_LOG_LEVEL": "info"}) as srv:
        srv.start()
        api = Api(srv.base)
        token = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
        api.get("/api/rules", token=token, expect=200)
        body = assert_ready(api)
        assert body["database"]["ok"] is True and "error" not in body["database"]
        # The server really is someone who cannot bypass file modes.
        owner = os.stat(srv.db_path).st_uid
        assert owner == pwd.getpwnam("nobody").pw_uid, "the server made its database as nobody"

        path = srv.db_path + suffix
        assert os.path.exists(path), f"{path} exists while the server runs"
        mode = stat.S_IMODE(os.stat(path).st_mode)
        os.chmod(path, 0)
        try:
            body = assert_not_ready(api, "database")
            assert body["database"]["ok"] is False
            err = body["database"]["error"]
            assert "not readable and writable" in err, err
            assert srv.data_dir not in err, "the public answer gives no file path"
            assert body["failing"] == ["database"], body
            other_endpoints_answer_json(api, token)
            assert_not_ready(api, "database")  # still failing: nothing papered over it
            assert srv.alive()
        finally:
            os.chmod(path, mode)

        body = assert_ready(api)
        assert body["database"]["ok"] is True
        api.get("/api/rules", token=token, expect=200)
        api.post("/api/rules", token=token, expect=201,
                 json={"name": "After the outage", "content": "rules\n"})
        # The change was logged once each way, with the file path for the operator.
        srv.stop()
        log = srv.stderr()
        assert '"msg":"not ready"' in log and path in log, log[-3000:]
        assert '"msg":"ready again"' in log, log[-3000:]


# --- the data directory's disk fills up --------------------------------------------------------

@contextlib.contextmanager
def tmpfs(size_mb):
    _need_root("the full-disk readiness test mounts a tmpfs and")
    mnt = tempfile.mkdtemp(prefix="sp-ready-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", mnt],
                   check=True)
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


def fill(path):
    """Write zeros to `path` until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for block in (1 << 20, 1 << 12, 1):
            buf = b"\0" * block
            while True:
                try:
                    if os.write(fd, buf) < block:
                        break
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    finally:
        os.close(fd)


def test_ready_fails_while_the_disk_is_full():
    with tmpfs(24) as mnt:
        data = os.path.join(mnt, "data")
        os.makedirs(data)
        srv = Server(data_dir=data, name="ready-disk")
        try:
            srv.start()
            api = Api(srv.base)
            body = assert_ready(api)
            assert body["disk_free_percent"] > 5
            filler = os.path.join(mnt, "filler")
            fill(filler)
            body = assert_not_ready(api, "disk")
            assert body["disk_free_percent"] < 5
            assert body["database"]["ok"] is True, "a full disk is not a database failure"
            api.get("/api/health", expect=200)
            os.unlink(filler)
            body = assert_ready(api)
            assert body["disk_free_percent"] > 5
            srv.stop()
        finally:
            srv.cleanup()


# --- the job queue stops moving ----------------------------------------------------------------

def test_ready_names_a_stuck_job_queue():
    """No worker runs (SP_WORKERS=0). Work that waited longer than the limit with no live lease
    anywhere makes the queue stuck; one running job with a live lease (a worker busy on a long
    job) means the queue moves; a lease that long expired is stuck again."""
    srv = Server(name="ready-jobs", env={"SP_WORKERS": "0"})
    try:
        srv.start()
        api = Api(srv.base)
        body = assert_ready(api)
        assert body["jobs"] == {"ok": True, "running": 0, "pending": 0, "expired": 0,
                                "oldest_wait_seconds": 0}, body
        db = sqlite3.connect(srv.db_path, timeout=30, isolation_level=None)
        try:
            (admin_id,) = db.execute("SELECT id FROM users WHERE username = ?",
                                     (ADMIN_USER,)).fetchone()
            now = int(time.time())

            def add_job(status, updated_at, lease_until=None):
                cur = db.execute(
                    "INSERT INTO jobs(user_id, job_type, status, lease_owner, lease_until,"
                    " created_at, updated_at) VALUES (?, 'package', ?, ?, ?, ?, ?)",
                    (admin_id, status, "test-worker" if lease_until else None, lease_until,
                     updated_at, updated_at))
                return cur.lastrowid

            # Fresh pending work is not stuck.
            fresh = add_job("pending", now)
            body = assert_ready(api)
            assert body["jobs"]["pending"] == 1 and body["jobs"]["ok"] is True, body
            db.execute("DELETE FROM jobs WHERE id = ?", (fresh,))

            # Work waiting far longer than the limit, nobody on it: stuck.
            old = now - JOBS_STUCK_AFTER_S - 600
            add_job("pending", old)
            body = assert_not_ready(api, "jobs")
            assert body["failing"] == ["jobs"], body
            assert body["jobs"]["ok"] is False
            assert body["jobs"]["oldest_wait_seconds"] >= JOBS_STUCK_AFTER_S + 600, body

            # A worker holding a live lease: the queue is moving (just busy).
            busy = add_job("running", now, lease_until=now + 3600)
            body = assert_ready(api)
            assert body["jobs"]["running"] == 1 and body["jobs"]["expired"] == 0, body

            # That worker died long ago: its lease expired and no live lease remains.
            db.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (old, busy))
            db.execute("DELETE FROM jobs WHERE status = 'pending'")
            body = assert_not_ready(api, "jobs")
            assert body["jobs"]["expired"] == 1 and body["jobs"]["pending"] == 0, body

            # The dead worker's job is finished (cancelled): nothing waits, ready again.
            db.execute("UPDATE jobs SET status = 'cancelled', lease_owner = NULL,"
                       " lease_until = NULL, finished_at = ? WHERE id = ?", (now, busy))
            body = assert_ready(api)
            assert body["jobs"]["running"] == 0 and body["jobs"]["oldest_wait_seconds"] == 0
        finally:
            db.close()
        srv.stop()
    finally:
        srv.cleanup()
