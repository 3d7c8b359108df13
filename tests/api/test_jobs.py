"""The jobs API: list (own jobs unless jobs:mod; filters; paginated), one job, its status and
log lines, cancelling (a running download stops and leaves nothing behind; a final job → 409),
and the queue surviving its workers: a job left running under an expired lease is picked up
again after a restart, and what an interrupted packing left on disk is swept."""
import os
import sqlite3
import time

import pytest

import books
from flow import (BookServer, other_operator, packed_release, prepared_draft, upload,
                  wait_job)
from helpers import Api, assert_error, create_release, list_all
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server


@pytest.fixture(scope="module")
def bookserver():
    s = BookServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def done_job(api, tokens):
    """A completed packaging job of the operator: (job_id, release_id)."""
    tok = tokens["operator"]
    rid, _ = packed_release(api, tok, books.make_epub(title="Job Book", author="Jo Bs", seed=21),
                            "job.epub", group="JobGrp")
    jobs = api.get("/api/jobs", token=tok, params={"release_id": rid}, expect=200).body["jobs"]
    assert len(jobs) == 1
    return jobs[0]["id"], rid


def test_job_object_status_and_logs(api, tokens, done_job):
    tok = tokens["operator"]
    job_id, rid = done_job
    j = api.get(f"/api/jobs/{job_id}", token=tok, expect=200).body
    assert j["status"] == "completed" and j["progress"] == 100 and j["step"] == "done"
    assert j["job_type"] == "package" and j["release_id"] == rid
    assert j["attempts"] == 1 and j["error"] is None
    assert j["started_at"] and j["finished_at"]
    st = api.get(f"/api/jobs/{job_id}/status", token=tok, expect=200).body
    assert st == {"job_id": job_id, "status": "completed", "progress": 100, "step": "done",
                  "updated_at": st["updated_at"]}
    logs = api.get(f"/api/jobs/{job_id}/logs", token=tok, params={"per_page": 100},
                   expect=200).body
    lines = [l["line"] for l in logs["logs"]]
    assert lines == list(range(1, len(lines) + 1)) and len(lines) >= 5
    assert any("zip" in l["message"] for l in logs["logs"])
    assert any("packed" in l["message"] for l in logs["logs"])
    # ?since=<line> returns only what came after
    later = api.get(f"/api/jobs/{job_id}/logs", token=tok, params={"since": 3}, expect=200).body
    assert [l["line"] for l in later["logs"]] == lines[3:][:20]
    assert later["pagination"]["total"] == len(lines) - 3
    page2 = api.get(f"/api/jobs/{job_id}/logs", token=tok, params={"per_page": 2, "page": 2},
                    expect=200).body
    assert [l["line"] for l in page2["logs"]] == [3, 4]
    # the release followed its job
    assert api.get(f"/api/releases/{rid}", token=tok, expect=200).body["status"] == "completed"


def test_list_filters_and_visibility(api, tokens, logins, done_job):
    job_id, rid = done_job
    op = tokens["operator"]
    mine = list_all(api, "/api/jobs", "jobs", op)
    assert job_id in [j["id"] for j in mine]
    assert all(j["user_id"] == logins["operator"]["user"]["id"] for j in mine)
    assert [j["id"] for j in mine] == sorted((j["id"] for j in mine), reverse=True)
    # another user sees none of the operator's jobs; the admin (jobs:mod) sees them all
    other = other_operator(api, tokens[ADMIN_USER])
    assert job_id not in [j["id"] for j in list_all(api, "/api/jobs", "jobs", other)]
    assert job_id in [j["id"] for j in list_all(api, "/api/jobs", "jobs", tokens[ADMIN_USER])]
    body = api.get("/api/jobs", token=op, params={"status": "completed", "job_type": "package",
                                                  "release_id": rid}, expect=200).body
    assert [j["id"] for j in body["jobs"]] == [job_id]
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 1, "pages": 1}
    assert api.get("/api/jobs", token=op, params={"status": "failed", "release_id": rid},
                   expect=200).body["jobs"] == []
    one = api.get("/api/jobs", token=tokens[ADMIN_USER], params={"per_page": 1},
                  expect=200).body
    assert len(one["jobs"]) == 1 and one["pagination"]["total"] >= 1
    for params, field in [({"status": "done"}, "status"), ({"job_type": "x"}, "job_type"),
                          ({"release_id": "abc"}, "release_id"), ({"release_id": 0},
                                                                   "release_id"),
                          ({"per_page": 101}, "per_page"), ({"page": 0}, "page")]:
        assert_error(api.get("/api/jobs", token=op, params=params), 400, field=field)
    assert_error(api.get("/api/jobs"), 401)


def test_other_users_jobs(api, tokens, done_job):
    job_id, _ = done_job
    # another operator (jobs:read) may look, but not cancel
    other = other_operator(api, tokens[ADMIN_USER])
    api.get(f"/api/jobs/{job_id}", token=other, expect=200)
    # a viewer has no jobs permission at all
    for path in (f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/status",
                 f"/api/jobs/{job_id}/logs"):
        assert_error(api.get(path, token=tokens["viewer"]), 403)
    assert_error(api.put(f"/api/jobs/{job_id}/cancel", token=other), 403)
    for path in ("/api/jobs/99999999", "/api/jobs/99999999/status", "/api/jobs/99999999/logs",
                 "/api/jobs/abc"):
        assert_error(api.get(path, token=tokens[ADMIN_USER]), 404)
    assert_error(api.put("/api/jobs/99999999/cancel", token=tokens[ADMIN_USER]), 404)
    assert_error(api.get(f"/api/jobs/{job_id}/logs", token=tokens["operator"],
                         params={"since": -1}), 400, field="since")


def test_cancel_a_final_job_is_a_conflict(api, tokens, done_job):
    job_id, _ = done_job
    assert_error(api.put(f"/api/jobs/{job_id}/cancel", token=tokens["operator"]), 409,
                 code="conflict")


def test_cancel_a_running_download(api, server, tokens, bookserver):
    tok = tokens["operator"]
    rid = create_release(api, tok, group="CancelGrp")
    bookserver.slow_started.clear()
    q = api.post(f"/api/wizard/{rid}/upload", token=tok,
                 json={"file_url": bookserver.url("/slow/endless.epub")}, expect=202).body
    wait_job(api, tok, q["job_id"], until=("running",))
    assert bookserver.slow_started.wait(60)
    # a second job for the same release is refused while this one runs
    assert_error(api.post(f"/api/wizard/{rid}/upload", token=tok,
                          json={"file_url": bookserver.url("/missing")}), 409)
    c = api.put(f"/api/jobs/{q['job_id']}/cancel", token=tok, expect=200).body
    assert c["status"] == "cancelled" and c["finished_at"]
    assert_error(api.put(f"/api/jobs/{q['job_id']}/cancel", token=tok), 409)
    # the worker stops and removes its partial download
    deadline = time.monotonic() + 60
    uploads = os.path.join(server.data_dir, "uploads")
    while True:
        logs = api.get(f"/api/jobs/{q['job_id']}/logs", token=tok, params={"per_page": 100},
                       expect=200).body["logs"]
        stopped = any("partial output removed" in l["message"] for l in logs)
        if stopped:
            break
        assert time.monotonic() < deadline, logs
        time.sleep(0.1)
    assert [n for n in os.listdir(uploads) if n.startswith(".download-")] == []
    assert api.get(f"/api/jobs/{q['job_id']}/status", token=tok,
                   expect=200).body["status"] == "cancelled"
    rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    assert rel["status"] == "draft" and rel["file_path"] is None
    # the draft goes on with an upload
    upload(api, tok, rid, books.make_epub(seed=22), "after.epub", expect=201)


def test_cancel_a_pending_packing_job(tokens):
    """On a server without workers a finalized release waits; cancelling it fails the release,
    which may then be finalized again."""
    srv = Server(name="noworkers", env={"SP_WORKERS": "0", "SP_RATE_LIMIT_PER_MIN": "0"})
    try:
        srv.start()
        api = Api(srv.base)
        tok = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
        rid, _ = prepared_draft(api, tok, books.make_epub(seed=23), "p.epub", group="PendGrp")
        fin = api.post(f"/api/wizard/{rid}/finalize", token=tok, expect=202).body
        assert api.get(f"/api/releases/{rid}", token=tok, expect=200).body["status"] == "queued"
        assert api.get(f"/api/jobs/{fin['job_id']}/status", token=tok,
                       expect=200).body["status"] == "pending"
        # only its job moves it on: a PUT cannot (to stop it, cancel the job)
        for status in ("processing", "completed", "failed", "draft"):
            assert_error(api.put(f"/api/releases/{rid}", token=tok, json={"status": status}),
                         409, field="status")
        assert api.get(f"/api/releases/{rid}", token=tok, expect=200).body["status"] == "queued"
        # a queued release cannot be deleted from under its job... but a pending job can go
        c = api.put(f"/api/jobs/{fin['job_id']}/cancel", token=tok, expect=200).body
        assert c["status"] == "cancelled"
        assert api.get(f"/api/releases/{rid}", token=tok, expect=200).body["status"] == "failed"
        again = api.post(f"/api/wizard/{rid}/finalize", token=tok, expect=202).body
        assert again["job_id"] != fin["job_id"]
        assert api.get(f"/api/releases/{rid}", token=tok, expect=200).body["status"] == "queued"
        srv.stop()
    finally:
        srv.cleanup()


def test_expired_lease_is_picked_up_after_restart():
    """A job whose worker died (left running, lease expired) is finished by the next start;
    the directory an interrupted packing left behind is swept; uploads over the limit are
    refused while they arrive."""
    srv = Server(name="lease", env={"SP_WORKERS": "0", "SP_RATE_LIMIT_PER_MIN": "0",
                                    "SP_MAX_UPLOAD_BYTES": "200000"})
    try:
        srv.start()
        api = Api(srv.base)
        tok = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
        rid, name = prepared_draft(api, tok, books.make_epub(title="Lease Book", seed=24),
                                   "lease.epub", group="LeaseGrp")
        fin = api.post(f"/api/wizard/{rid}/finalize", token=tok, expect=202).body
        # uploads are capped by SP_MAX_UPLOAD_BYTES
        other = create_release(api, tok, group="LeaseGrp")
        big = books.make_epub(filler=400000, seed=25)
        assert_error(upload(api, tok, other, big, "big.epub"), 413, code="payload_too_large")
        srv.stop()

        # a worker took the job and died: running, its lease long expired
        with sqlite3.connect(srv.db_path) as db:
            db.execute("UPDATE jobs SET status = 'running', lease_owner = 'dead-host/1/0#0',"
                       " lease_until = 1000, attempts = 1, started_at = 900 WHERE id = ?",
                       (fin["job_id"],))
            db.execute("UPDATE releases SET status = 'processing' WHERE id = ?", (rid,))
        db.close()
        leftover = os.path.join(srv.data_dir, "releases", ".sp-pack-Ab12Cd")
        os.makedirs(leftover)
        with open(os.path.join(leftover, "abcdef01.zip"), "wb") as f:
            f.write(b"half a zip")
        old = time.time() - 3600
        os.utime(os.path.join(leftover, "abcdef01.zip"), (old, old))
        os.utime(leftover, (old, old))

        srv.extra_env["SP_WORKERS"] = "1"
        srv.start()
        api = Api(srv.base)
        tok = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
        st = wait_job(api, tok, fin["job_id"])
        assert st["status"] == "completed"
        job = api.get(f"/api/jobs/{fin['job_id']}", token=tok, expect=200).body
        assert job["attempts"] == 2
        logs = api.get(f"/api/jobs/{fin['job_id']}/logs", token=tok, params={"per_page": 100},
                       expect=200).body["logs"]
        assert any("lease expired" in l["message"] for l in logs)
        rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
        assert rel["status"] == "completed" and rel["name"] == name
        assert not os.path.exists(leftover)
        assert os.path.isdir(os.path.join(srv.data_dir, "releases", name))
        srv.stop()
    finally:
        srv.cleanup()


def test_jobs_in_metrics_and_dashboard(api, tokens, done_job):
    text = api.get("/metrics", expect=200).text
    completed = [l for l in text.splitlines() if l.startswith('jobs{state="completed"}')]
    assert completed and float(completed[0].split()[-1]) >= 1
    assert "job_duration_seconds_count" in text
    stats = api.get("/api/dashboard/stats", token=tokens["operator"], expect=200).body
    assert stats["user_jobs"] >= 1
