"""GET /api/audit: one row per login (success and failure), logout and successful API write,
with user, IP, request id, resource, id and summary; filters; admin or audit:read only;
append-only (no route changes a row)."""
import uuid

import pytest

from helpers import assert_error, create_release, create_rule
from spserver import ADMIN_USER


def rid():
    return "audit-" + uuid.uuid4().hex[:16]


def entries(api, tokens, **params):
    return api.get("/api/audit", token=tokens[ADMIN_USER], params={"per_page": 100, **params},
                   expect=200).body["entries"]


def by_request(api, tokens, request_id):
    """The audit rows of one request (found by its X-Request-Id)."""
    found = []
    page = 1
    while True:
        body = api.get("/api/audit", token=tokens[ADMIN_USER],
                       params={"per_page": 100, "page": page}, expect=200).body
        found += [e for e in body["entries"] if e["request_id"] == request_id]
        if page >= body["pagination"]["pages"] or found:
            return found
        page += 1


def test_logins_failures_and_logouts_are_recorded(api, tokens, new_user):
    u = new_user(login=False, prefix="aud")
    r1 = rid()
    api.post("/api/auth/login", json={"username": u["username"], "password": "wrong-password"},
             headers={"X-Request-Id": r1}, expect=401)
    [row] = by_request(api, tokens, r1)
    assert row["action"] == "auth.login_failed" and row["resource"] == "auth"
    assert row["user_id"] == u["id"] and row["username"] == u["username"]
    assert row["ip"] == "127.0.0.1"
    assert "wrong-password" not in row["summary"]

    r2 = rid()
    api.post("/api/auth/login", json={"username": "nobody-" + r2, "password": "whatever-123"},
             headers={"X-Request-Id": r2}, expect=401)
    [row] = by_request(api, tokens, r2)
    assert row["action"] == "auth.login_failed" and row["user_id"] is None
    assert row["username"] == "nobody-" + r2

    r3 = rid()
    body = api.post("/api/auth/login", json={"username": u["username"], "password": u["password"]},
                    headers={"X-Request-Id": r3}, expect=200).body
    [row] = by_request(api, tokens, r3)
    assert row["action"] == "auth.login" and row["user_id"] == u["id"]
    assert row["created_at"].endswith("Z")

    r4 = rid()
    api.post("/api/auth/logout", token=body["access_token"], headers={"X-Request-Id": r4},
             expect=200)
    [row] = by_request(api, tokens, r4)
    assert row["action"] == "auth.logout" and row["user_id"] == u["id"]


def test_disabled_account_login_is_recorded(api, tokens, new_user):
    u = new_user(login=False, prefix="audoff")
    api.put(f"/api/users/{u['id']}", token=tokens[ADMIN_USER], json={"active": False},
            expect=200)
    r = rid()
    api.post("/api/auth/login", json={"username": u["username"], "password": u["password"]},
             headers={"X-Request-Id": r}, expect=403)
    [row] = by_request(api, tokens, r)
    assert row["action"] == "auth.login_failed" and "disabled" in row["summary"]


def test_every_write_is_recorded_with_its_resource_and_id(api, tokens, logins):
    op = tokens["operator"]
    op_id = logins["operator"]["user"]["id"]
    r = rid()
    rule = api.post("/api/rules", token=op, json={"name": "Audited rule", "content": "x\n"},
                    headers={"X-Request-Id": r}, expect=201).body
    [row] = by_request(api, tokens, r)
    assert (row["action"], row["resource"], row["resource_id"]) == ("rules.create", "rules",
                                                                   rule["id"])
    assert row["user_id"] == op_id and row["username"] == "operator" and row["ip"] == "127.0.0.1"
    assert row["summary"]

    r = rid()
    api.put(f"/api/rules/{rule['id']}", token=op, json={"name": "Audited rule 2"},
            headers={"X-Request-Id": r}, expect=200)
    [row] = by_request(api, tokens, r)
    assert (row["action"], row["resource_id"]) == ("rules.update", rule["id"])

    r = rid()
    release = create_release(api, op, group="AuditGrp")
    api.put(f"/api/releases/{release}", token=op, json={"release_metadata": {"title": "T"}},
            headers={"X-Request-Id": r}, expect=200)
    [row] = by_request(api, tokens, r)
    assert (row["action"], row["resource"], row["resource_id"]) == ("releases.update", "releases",
                                                                   release)
    r = rid()
    api.delete(f"/api/rules/{rule['id']}", token=tokens[ADMIN_USER], headers={"X-Request-Id": r},
               expect=200)
    [row] = by_request(api, tokens, r)
    assert (row["action"], row["resource_id"], row["username"]) == ("rules.delete", rule["id"],
                                                                   ADMIN_USER)


def test_admin_writes_name_what_changed_but_no_secret(api, tokens, new_user):
    admin = tokens[ADMIN_USER]
    u = new_user(prefix="audpw")
    r = rid()
    api.put(f"/api/users/{u['id']}", token=u["token"], headers={"X-Request-Id": r},
            json={"password": "Changed-pass-0123", "old_password": u["password"], "note": "n"},
            expect=200)
    [row] = by_request(api, tokens, r)
    assert row["action"] == "users.password" and row["resource_id"] == u["id"]
    assert "password" in row["summary"] and "note" in row["summary"]
    assert u["password"] not in row["summary"] and "Changed-pass-0123" not in row["summary"]

    r = rid()
    c = api.post("/api/config", token=admin, headers={"X-Request-Id": r},
                 json={"key": "AUDITED_SECRET", "value": "very-secret-value", "secret": True},
                 expect=201).body
    [row] = by_request(api, tokens, r)
    assert row["action"] == "config.create" and row["resource_id"] == c["id"]
    assert "AUDITED_SECRET" in row["summary"] and "very-secret-value" not in row["summary"]


def test_reads_and_refused_writes_are_not_recorded(api, tokens):
    r = rid()
    api.get("/api/releases", token=tokens["viewer"], headers={"X-Request-Id": r}, expect=200)
    r2 = rid()
    api.post("/api/rules", token=tokens["viewer"], json={"name": "no", "content": "x"},
             headers={"X-Request-Id": r2}, expect=403)
    r3 = rid()
    api.post("/api/rules", token=tokens["operator"], json={"name": ""},
             headers={"X-Request-Id": r3}, expect=400)
    for x in (r, r2, r3):
        assert by_request(api, tokens, x) == []


def test_filters(api, tokens, logins):
    op_id = logins["operator"]["user"]["id"]
    create_rule(api, tokens["operator"], name="Filter rule")
    mine = entries(api, tokens, user_id=op_id)
    assert mine and all(e["user_id"] == op_id for e in mine)
    assert entries(api, tokens, username="OPERATOR") == mine
    rules = entries(api, tokens, resource="rules")
    assert rules and all(e["resource"] == "rules" for e in rules)
    creates = entries(api, tokens, action="rules.create")
    assert creates and all(e["action"] == "rules.create" for e in creates)
    auth = entries(api, tokens, action="auth.")
    assert auth and all(e["action"].startswith("auth.") for e in auth)
    one = creates[0]
    same = entries(api, tokens, resource="rules", resource_id=one["resource_id"])
    assert one["id"] in [e["id"] for e in same]
    assert all(e["resource_id"] == one["resource_id"] for e in same)
    # newest first
    ids = [e["id"] for e in entries(api, tokens)]
    assert ids == sorted(ids, reverse=True)
    # date range
    assert entries(api, tokens, since="2999-01-01") == []
    assert entries(api, tokens, until="2000-01-01T00:00:00Z") == []
    today = one["created_at"][:10]
    assert one["id"] in [e["id"] for e in entries(api, tokens, since=today, until=today,
                                                   action="rules.create")]
    assert one["id"] in [e["id"] for e in entries(api, tokens, since=one["created_at"],
                                                   action="rules.create")]


@pytest.mark.parametrize("params,field", [
    ({"user_id": "abc"}, "user_id"),
    ({"user_id": "0"}, "user_id"),
    ({"resource_id": "-1"}, "resource_id"),
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ({"action": "a" * 65}, "action"),
    ({"page": "0"}, "page"),
    ({"per_page": "1000"}, "per_page"),
])
def test_filter_validation(api, tokens, params, field):
    assert_error(api.get("/api/audit", token=tokens[ADMIN_USER], params=params), 400, field=field)


def test_only_admins_and_audit_readers(api, tokens, new_user):
    for who in ("operator", "viewer"):
        assert_error(api.get("/api/audit", token=tokens[who]), 403)
    perms = {p["name"]: p["id"] for p in
             api.get("/api/permissions", token=tokens[ADMIN_USER], expect=200).body["permissions"]}
    role = api.post("/api/roles", token=tokens[ADMIN_USER],
                    json={"name": "auditors", "permission_ids": [perms["audit:read"]]},
                    expect=201).body
    a = new_user(prefix="auditor", role_ids=[role["id"]])
    assert api.get("/api/audit", token=a["token"], expect=200).body["entries"]


def test_append_only(api, tokens):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = api.request(method, "/api/audit", token=tokens[ADMIN_USER], json={})
        assert_error(r, 405)
        assert "GET" in r.headers["Allow"]
