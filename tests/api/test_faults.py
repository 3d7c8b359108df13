"""Faults the server must survive: vanishing clients, a locked database, a full disk, corrupt
tokens, oversized bodies, thousands of idle connections, slow clients.
After each one the server still answers, and at the end it still exits cleanly on SIGTERM."""
import contextlib
import errno
import os
import select
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

import oas
from helpers import (Api, assert_error, create_rule, list_all, peer_closed, raw_connect,
                     read_response)
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server


def _healthy(api, token):
    api.get("/api/health", expect=200)
    api.get("/api/releases", token=token, params={"per_page": 1}, expect=200)


# --- vanishing clients ------------------------------------------------------------------------

def test_clients_vanishing_mid_request(api, server, tokens):
    token = tokens[ADMIN_USER]
    body = b'{"name": "Vanishing rule", "content": "' + b"v" * 4000 + b'"}'
    head = (f"POST /api/rules HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    for i in range(15):
        # headers and half the body, then close
        s = raw_connect(server.port)
        s.sendall(head + body[: len(body) // 2])
        s.close()
        # half the headers, then close
        s = raw_connect(server.port)
        s.sendall(head[: len(head) // 2])
        s.close()
        # half the body, then reset (SO_LINGER 0 → RST)
        s = raw_connect(server.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(head + body[: len(body) // 3])
        s.close()
        # a whole request whose answer is never read
        s = raw_connect(server.port)
        s.sendall(f"GET /api/releases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
                  .encode())
        s.close()
    _healthy(api, token)
    assert server.alive()
    # None of the cut requests created a rule.
    found = list_all(api, "/api/rules", "rules", token, search="Vanishing")
    assert [r for r in found if r["name"] == "Vanishing rule"] == []


def test_garbage_on_the_wire(api, server, tokens):
    for junk in (b"\x00\x01\x02\x03\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"G" * 20000 + b"\r\n\r\n", b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: -5\r\n\r\n", b"POST /api/rules HTTP/1.1\r\nHost: x\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\n"):
        s = raw_connect(server.port, timeout=15)
        try:
            s.sendall(junk)
            with contextlib.suppress(socket.timeout, ConnectionResetError, AssertionError,
                                     ValueError, IndexError):
                read_response(s, timeout=15)
        finally:
            s.close()
    _healthy(api, tokens[ADMIN_USER])


# --- corrupt tokens ---------------------------------------------------------------------------

def test_corrupted_tokens_never_pass_nor_crash(api, tokens):
    good = tokens["viewer"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character carries padding bits a decoder may ignore: leave it alone.
    for i in range(0, len(good) - 1, 3):
        if good[i] == ".":
            continue
        c = alphabet[(alphabet.index(good[i]) + 17) % len(alphabet)]
        bad = good[:i] + c + good[i + 1:]
        r = api.get("/api/auth/me", token=bad)
        assert r.status_code == 401, f"byte {i} changed: {r.status_code} {r.text[:200]}"
    for bad in (good + "x", good[:-5], good.replace(".", ""), good + "." + good, "." * 3,
                good.split(".")[0] + "..", "\x7f" * 10):
        assert_error(api.get("/api/auth/me", token=bad), 401)
    api.get("/api/auth/me", token=good, expect=200)


# --- oversized body ---------------------------------------------------------------------------

def test_ten_megabyte_body_is_413_and_connection_closed(api, server, tokens):
    size = 10 * 1024 * 1024
    s = raw_connect(server.port)
    try:
        s.sendall((f"POST /api/rules HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                   f"{tokens[ADMIN_USER]}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {size}\r\n\r\n").encode())
        result = {}

        def reader():
            try:
                result["resp"] = read_response(s, timeout=60)
                result["closed"] = peer_closed(s, timeout=30)
            except Exception as e:  # reported below
                result["error"] = e

        t = threading.Thread(target=reader)
        t.start()
        chunk = b'{"name": "' + b"x" * (1 << 16)
        sent = 0
        try:
            while sent < size:
                s.sendall(chunk)
                sent += len(chunk)
                chunk = b"x" * (1 << 16)
        except (BrokenPipeError, ConnectionResetError):
            pass
        t.join(90)
        assert "error" not in result, result.get("error")
        status, headers, body = result["resp"]
        assert status == 413, f"got {status}: {body[:200]!r}"
        assert oas.validate_parts("POST", "/api/rules", status, headers, body)["code"] == \
            "payload_too_large"
        assert result["closed"], "the server keeps the connection of a refused body open"
    finally:
        s.close()
    _healthy(api, tokens[ADMIN_USER])


# --- database locked by another process ---------------------------------------------------------

def test_database_locked_by_another_process(api, server, tokens):
    token = tokens[ADMIN_USER]
    name = f"Locked rule {uuid.uuid4().hex[:8]}"
    db = sqlite3.connect(server.db_path, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        result = {}

        def write():
            try:
                result["r"] = api.post("/api/rules", token=token,
                                       json={"name": name, "content": "written under a lock"},
                                       timeout=120)
            except Exception as e:  # reported below
                result["error"] = e

        t = threading.Thread(target=write)
        t.start()
        # Reads keep working (WAL) or answer a JSON 503 while the lock is held.
        for path in ("/api/rules", "/api/releases", "/api/dashboard/stats"):
            r = api.get(path, token=token, timeout=120)
            assert r.status_code in (200, 503), f"GET {path} under lock: {r.status_code}"
            if r.status_code == 503:
                assert r.body["code"] == "unavailable" and r.headers.get("Retry-After")
        api.get("/api/health", expect=200)
        # Hold the lock until the write has answered, or at most 20 s, then let it go.
        t.join(20)
        db.execute("ROLLBACK")
    finally:
        db.close()
    t.join(120)
    assert "error" not in result, result.get("error")
    r = result["r"]
    assert r.status_code in (201, 503), f"write under lock: {r.status_code} {r.text[:300]}"
    rows = [x for x in list_all(api, "/api/rules", "rules", token, search="Locked")
            if x["name"] == name]
    if r.status_code == 503:
        assert r.body["code"] == "unavailable" and r.headers.get("Retry-After")
        assert rows == [], "a refused write left a row behind"
    else:
        assert len(rows) == 1
    # After release, writes work again and the database is sound.
    create_rule(api, token, name=f"After lock {uuid.uuid4().hex[:6]}", content="ok")
    check = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=30)
    try:
        assert check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        check.close()
    _healthy(api, token)


# --- full disk ---------------------------------------------------------------------------------

@contextlib.contextmanager
def _tmpfs(size_mb):
    assert os.geteuid() == 0, ("the full-disk test mounts a tmpfs and must run as root "
                               "(CI does); it is not skipped")
    mnt = tempfile.mkdtemp(prefix="sp-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", mnt],
                   check=True)
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


def _fill(path):
    """Fill the file system holding `path` completely; returns the filler's size."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for block in (1 << 20, 1 << 12, 1):
            buf = b"\0" * block
            while True:
                try:
                    n = os.write(fd, buf)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
                written += n
                if n < block:
                    break
    finally:
        os.close(fd)
    return written


def test_full_disk(tmp_path):
    with _tmpfs(24) as mnt:
        data = os.path.join(mnt, "data")
        os.makedirs(data)
        srv = Server(data_dir=data, name="fulldisk")
        try:
            srv.start()
            api = Api(srv.base)
            token = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
            before = create_rule(api, token, name="Before full disk", content="kept")
            filler = os.path.join(mnt, "filler")
            _fill(filler)
            statuses = []
            big = "f" * (500 * 1024)
            for i in range(40):
                r = api.post("/api/rules", token=token,
                             json={"name": f"Full disk {i}", "content": big})
                statuses.append(r.status_code)
                assert r.status_code in (201, 500, 503), r.text[:300]
                if r.status_code != 201:
                    break
            assert statuses[-1] in (500, 503), f"no write failed on a full disk: {statuses}"
            # Reads and health still answer while the disk is full.
            api.get("/api/health", expect=200)
            r = api.get("/api/health/ready")
            assert r.status_code in (200, 503)
            r = api.get(f"/api/rules/{before['id']}", token=token)
            assert r.status_code in (200, 503)
            # Space comes back: so do writes, and nothing that failed was half-written.
            os.unlink(filler)
            after = create_rule(api, token, name="After full disk", content="ok")
            api.get(f"/api/rules/{after['id']}", token=token, expect=200)
            names = [x["name"] for x in list_all(api, "/api/rules", "rules", token,
                                                 search="disk")]
            assert "Before full disk" in names and "After full disk" in names
            failed = f"Full disk {len(statuses) - 1}"
            assert failed not in names, "the write refused on a full disk was stored anyway"
            srv.stop()
        finally:
            srv.cleanup()


# --- many idle connections ------------------------------------------------------------------

def test_thousands_of_idle_connections(api, server, tokens):
    socks = []
    try:
        for _ in range(2000):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", server.port))
            socks.append(s)
        # Wait until every connection is established (poll: select() stops at fd 1024).
        pending = {s.fileno(): s for s in socks}
        poller = select.poll()
        for fd in pending:
            poller.register(fd, select.POLLOUT)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for fd, ev in poller.poll(1000):
                assert not ev & (select.POLLERR | select.POLLHUP), "an idle connection was refused"
                poller.unregister(fd)
                del pending[fd]
        assert not pending, f"{len(pending)} idle connections never connected"
        # A new client is still served.
        fresh = Api(server.base)
        fresh.get("/api/health", expect=200)
        fresh.get("/api/releases", token=tokens[ADMIN_USER], params={"per_page": 1}, expect=200)
        fresh.get("/api/dashboard/stats", token=tokens["viewer"], expect=200)
    finally:
        for s in socks:
            s.close()
    _healthy(api, tokens[ADMIN_USER])
    assert server.alive()


# --- slow clients -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def short_timeout_server():
    srv = Server(name="idle", env={"SP_IDLE_TIMEOUT": "2", "SP_RATE_LIMIT_PER_MIN": "20"})
    try:
        srv.start()
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


def test_idle_connection_is_dropped_after_timeout(short_timeout_server):
    s = raw_connect(short_timeout_server.port)
    try:
        assert peer_closed(s, timeout=30), "an idle connection was never closed"
    finally:
        s.close()
    Api(short_timeout_server.base).get("/api/health", expect=200)


def test_trickling_client_is_dropped_while_others_are_served(short_timeout_server):
    srv = short_timeout_server
    api = Api(srv.base)
    s = raw_connect(srv.port)
    request = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    dropped = False
    served = 0
    try:
        for i in range(len(request)):
            try:
                s.sendall(request[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
            # Meanwhile others are served.
            api.get("/api/health", expect=200)
            served += 1
            r, _w, _x = select.select([s], [], [], 1.0)
            if r:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data or data.startswith(b"HTTP/1.1 408"):
                    dropped = True
                    break
            if i > 60:
                break
    finally:
        s.close()
    assert dropped, f"a client trickling one byte per second was kept for {served} s"
    assert served >= 1
    api.get("/api/health", expect=200)


# --- per-user request budget ------------------------------------------------------------------

def test_per_user_request_budget_answers_429(short_timeout_server):
    api = Api(short_timeout_server.base)
    token = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
    statuses = []
    for _ in range(60):
        r = api.get("/api/auth/me", token=token)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) > 0
            assert r.body["code"] == "rate_limited"
            break
        assert r.status_code == 200, r.text[:300]
    assert statuses[-1] == 429, f"60 requests in a row under a budget of 20/min: {statuses}"
    # Anonymous health checks are not charged to the user.
    api.get("/api/health", expect=200)


# --- graceful stop ----------------------------------------------------------------------------

def test_sigterm_finishes_the_request_in_flight_and_serves_no_new_one():
    """SIGTERM while a request is half received: a new connection gets no answer (refused, or
    closed without reading a request), the request in flight is still answered and its rule is
    stored, and the process exits 0 once it is done."""
    srv = Server(name="drain").start()
    try:
        token = Api(srv.base).login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
        body = b'{"name": "Drained rule", "content": "' + b"d" * 4000 + b'"}'
        head = (f"POST /api/rules HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        s = raw_connect(srv.port)
        s.sendall(head + body[:1000])
        time.sleep(0.3)  # headers read: the request is in flight
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert srv.proc.poll() is None, "the server exited with a request in flight"
        try:
            n = raw_connect(srv.port, timeout=5)
            n.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _h, _b = read_response(n, timeout=5)
            n.close()
            assert status is None, f"a connection opened while draining was served: {status}"
        except (ConnectionRefusedError, ConnectionResetError):
            pass
        s.sendall(body[1000:])
        status, headers, answer = read_response(s)
        s.close()
        assert status == 201, answer[:300]
        assert {k.lower(): v for k, v in headers.items()}.get("connection", "").lower() == "close"
        srv.proc.wait(timeout=30)
        path = srv.db_path
        srv.stop()  # asserts exit status 0 and no sanitizer report
        with contextlib.closing(sqlite3.connect(path)) as db:
            assert db.execute("SELECT COUNT(*) FROM rules WHERE name = 'Drained rule'").fetchone()[0] == 1
    finally:
        srv.cleanup()
