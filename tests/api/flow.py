"""Helpers that drive the release wizard and the jobs through the API (every response is
validated against docs/openapi.yaml by helpers.Api), and a loopback HTTP server for file_url."""
import http.server
import os
import subprocess
import threading
import time

from helpers import create_release
from spserver import base_env, sanitizer_report

FINAL = ("completed", "failed", "cancelled")
JOB_WAIT = 180  # seconds; generous for sanitizer builds

# Metadata the generated books lack: with it, any of them is a valid RETAiL release.
RETAIL = {"source": "RETAiL", "release_date": "2024-03-01", "url": "https://shop.example.com/b"}


_OTHERS = {}


def other_operator(api, admin_token, username="flowop2"):
    """The access token of a second operator (made once through the API): someone with the
    same permissions who owns none of the objects under test."""
    if username not in _OTHERS:
        roles = api.get("/api/roles", token=admin_token, params={"per_page": 100},
                        expect=200).body["roles"]
        op = [r["id"] for r in roles if r["name"] == "operator"]
        password = "Other-operator-0123"
        r = api.post("/api/users", token=admin_token,
                     json={"username": username, "password": password, "role_ids": op})
        assert r.status_code in (201, 409), r.text
        _OTHERS[username] = api.login(username, password).body["access_token"]
    return _OTHERS[username]


def upload(api, token, rid, data, filename, ctype="application/octet-stream", expect=None):
    return api.post(f"/api/wizard/{rid}/upload", token=token,
                    files={"file": (filename, data, ctype)}, expect=expect)


def wait_job(api, token, job_id, until=FINAL, timeout=JOB_WAIT):
    """Poll GET /api/jobs/{id}/status until the status is one of `until`; returns the body."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/api/jobs/{job_id}/status", token=token, expect=200).body
        if body["status"] in until:
            return body
        assert time.monotonic() < deadline, f"job {job_id} still {body} after {timeout}s"
        time.sleep(0.1)


def prepared_draft(api, token, data, filename, group="FlowGrp", meta=None, template_id=None,
                   options=None):
    """A draft through steps 1-8 (template and options only when given); returns its id and
    the name step 6 gave."""
    rid = create_release(api, token, group=group)
    upload(api, token, rid, data, filename, expect=201)
    api.post(f"/api/wizard/{rid}/analyze", token=token, expect=200)
    name = api.post(f"/api/wizard/{rid}/metadata", token=token,
                    json={"enriched_metadata": dict(RETAIL, **(meta or {}))},
                    expect=200).body["name"]
    if template_id:
        api.post(f"/api/wizard/{rid}/templates", token=token, json={"template_id": template_id},
                 expect=200)
    if options is not None:
        api.post(f"/api/wizard/{rid}/options", token=token, json={"options": options},
                 expect=200)
    return rid, name


def packed_release(api, token, data, filename, **kw):
    """A release through the whole wizard, packed by its job; returns (release_id, name)."""
    rid, _name = prepared_draft(api, token, data, filename, **kw)
    fin = api.post(f"/api/wizard/{rid}/finalize", token=token, expect=202).body
    st = wait_job(api, token, fin["job_id"])
    assert st["status"] == "completed", api.get(f"/api/jobs/{fin['job_id']}/logs",
                                                token=token).body
    return rid, fin["name"]


class BookServer:
    """A loopback HTTP server for file_url downloads. Paths:
      /book/<name>      the bytes given to `put(name, data)`
      /redirect/<name>  302 to /book/<name>
      /ftp              302 to an ftp:// URL (must not be followed)
      /slow/<name>      headers, then one byte every 0.2 s until the client hangs up
      /missing          404
    """

    def __init__(self):
        self.files = {}
        self.slow_started = threading.Event()
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                p = self.path
                if p.startswith("/book/") and p[6:] in srv.files:
                    data = srv.files[p[6:]]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif p.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", "/book/" + p[10:])
                    self.end_headers()
                elif p == "/ftp":
                    self.send_response(302)
                    self.send_header("Location", "ftp://127.0.0.1/book.epub")
                    self.end_headers()
                elif p.startswith("/slow/"):
                    self.send_response(200)
                    self.send_header("Content-Length", str(10 ** 9))
                    self.end_headers()
                    srv.slow_started.set()
                    try:
                        for _ in range(3000):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.2)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, name, data):
        self.files[name] = data

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def release_dir(server, name):
    return os.path.join(server.data_dir, "releases", name)


def scenepacker_check(server, path):
    """`scenepacker check PATH` (the packer's own independent checker); CompletedProcess."""
    p = subprocess.run([server.binary, "check", path], capture_output=True, text=True,
                       env=base_env(), timeout=120)
    rep = sanitizer_report(p.stderr)
    assert rep is None, f"scenepacker check: sanitizer report: {rep}\n{p.stderr}"
    return p
