"""/api/roles and GET /api/permissions: CRUD with permission_ids, mod ⇒ write ⇒ read, a role in
use or built in cannot be deleted, permission changes reach holders at once, and nobody without
admin rights can build a role stronger than themselves."""
import pytest

from helpers import assert_error, create_rule
from spserver import ADMIN_USER


@pytest.fixture(scope="module")
def pid(api, tokens):
    """Permission name ("releases:read") -> id."""
    perms = api.get("/api/permissions", token=tokens[ADMIN_USER], expect=200).body["permissions"]
    return {p["name"]: p["id"] for p in perms}


def test_permissions_catalogue(api, tokens, pid):
    assert len(pid) == 28
    for res in ("releases", "rules", "users", "roles", "config", "jobs", "audit"):
        for act in ("read", "write", "mod", "delete"):
            assert f"{res}:{act}" in pid


def test_seeded_roles(api, tokens):
    roles = api.get("/api/roles", token=tokens[ADMIN_USER], expect=200).body
    by_name = {r["name"]: r for r in roles["roles"]}
    assert {"admin", "operator", "viewer"} <= set(by_name)
    assert all(by_name[n]["builtin"] for n in ("admin", "operator", "viewer"))
    assert set(by_name["viewer"]["permissions"]) == {"releases:read", "rules:read"}
    assert {"releases:write", "rules:write", "jobs:read"} <= set(by_name["operator"]["permissions"])
    assert len(by_name["admin"]["permissions"]) == 28
    assert by_name["admin"]["user_count"] >= 1
    assert roles["pagination"]["total"] == len(roles["roles"]) or roles["pagination"]["pages"] > 1


def test_crud(api, tokens, pid):
    admin = tokens[ADMIN_USER]
    r = api.post("/api/roles", token=admin,
                 json={"name": "editors", "description": "edit rules",
                       "permission_ids": [pid["rules:write"], pid["rules:write"]]},
                 expect=201).body
    assert r["name"] == "editors" and r["builtin"] is False and r["user_count"] == 0
    assert r["permission_ids"] == [pid["rules:write"]] and r["permissions"] == ["rules:write"]
    assert api.get(f"/api/roles/{r['id']}", token=admin, expect=200).body == r
    listed = api.get("/api/roles", token=admin, params={"per_page": 100}, expect=200).body
    assert r["id"] in [x["id"] for x in listed["roles"]]

    u = api.put(f"/api/roles/{r['id']}", token=admin,
                json={"description": "edit and delete rules",
                      "permission_ids": [pid["rules:write"], pid["rules:delete"]]},
                expect=200).body
    assert u["name"] == "editors" and u["description"] == "edit and delete rules"
    assert sorted(u["permissions"]) == ["rules:delete", "rules:write"]
    u2 = api.put(f"/api/roles/{r['id']}", token=admin, json={"name": "rule-editors"},
                 expect=200).body
    assert u2["name"] == "rule-editors" and u2["permission_ids"] == u["permission_ids"]
    # Sending back what was read is accepted (read-only members ignored).
    api.put(f"/api/roles/{r['id']}", token=admin, json=u2, expect=200)

    assert api.delete(f"/api/roles/{r['id']}", token=admin, expect=200).body["message"]
    assert_error(api.get(f"/api/roles/{r['id']}", token=admin), 404)
    assert_error(api.put(f"/api/roles/{r['id']}", token=admin, json={"name": "zz"}), 404)
    assert_error(api.delete(f"/api/roles/{r['id']}", token=admin), 404)


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"name": "x"}, "name"),
    ({"name": "has space"}, "name"),
    ({"name": "n" * 65}, "name"),
    ({"name": 7}, "name"),
    ({"name": "okname", "description": "d" * 256}, "description"),
    ({"name": "okname", "permission_ids": "1"}, "permission_ids"),
    ({"name": "okname", "permission_ids": [0]}, "permission_ids"),
    ({"name": "okname", "permission_ids": ["1"]}, "permission_ids"),
    ({"name": "okname", "permission_ids": [99999]}, "permission_ids"),
    ({"name": "okname", "colour": "red"}, "colour"),
])
def test_validation(api, tokens, body, field):
    assert_error(api.post("/api/roles", token=tokens[ADMIN_USER], json=body), 400, field=field)


def test_duplicate_name_is_409(api, tokens):
    admin = tokens[ADMIN_USER]
    a = api.post("/api/roles", token=admin, json={"name": "dup-role-a"}, expect=201).body
    api.post("/api/roles", token=admin, json={"name": "dup-role-b"}, expect=201)
    assert_error(api.post("/api/roles", token=admin, json={"name": "dup-role-b"}), 409,
                 field="name")
    assert_error(api.put(f"/api/roles/{a['id']}", token=admin, json={"name": "dup-role-b"}),
                 409, field="name")
    assert_error(api.post("/api/roles", token=admin, json={"name": "viewer"}), 409, field="name")


def test_builtin_roles_cannot_be_deleted_or_renamed(api, tokens, role_ids):
    admin = tokens[ADMIN_USER]
    for name in ("admin", "operator", "viewer"):
        body = assert_error(api.delete(f"/api/roles/{role_ids[name]}", token=admin), 409)
        assert "built-in" in body["message"]
        assert_error(api.put(f"/api/roles/{role_ids[name]}", token=admin,
                             json={"name": f"{name}-renamed"}), 409)
        # The same name again is no rename.
        api.put(f"/api/roles/{role_ids[name]}", token=admin, json={"name": name}, expect=200)


def test_role_in_use_cannot_be_deleted(api, tokens, new_user, pid):
    admin = tokens[ADMIN_USER]
    role = api.post("/api/roles", token=admin,
                    json={"name": "held-role", "permission_ids": [pid["releases:read"]]},
                    expect=201).body
    a = new_user(login=False, prefix="hold", role_ids=[role["id"]])
    b = new_user(login=False, prefix="hold", role_ids=[role["id"]])
    assert api.get(f"/api/roles/{role['id']}", token=admin, expect=200).body["user_count"] == 2
    body = assert_error(api.delete(f"/api/roles/{role['id']}", token=admin), 409)
    assert "2 users" in body["message"]
    api.put(f"/api/users/{a['id']}", token=admin, json={"role_ids": []}, expect=200)
    body = assert_error(api.delete(f"/api/roles/{role['id']}", token=admin), 409)
    assert "1 user" in body["message"]
    api.delete(f"/api/users/{b['id']}", token=admin, expect=200)
    api.delete(f"/api/roles/{role['id']}", token=admin, expect=200)


def test_mod_implies_write_implies_read(api, tokens, new_user, pid):
    admin = tokens[ADMIN_USER]
    role = api.post("/api/roles", token=admin,
                    json={"name": "rules-mod", "permission_ids": [pid["rules:mod"]]},
                    expect=201).body
    assert role["permissions"] == ["rules:mod"], "a role lists what it was given"
    u = new_user(login=True, prefix="mod", role_ids=[role["id"]])
    me = api.get("/api/auth/me", token=u["token"], expect=200).body["user"]
    assert {"rules:read", "rules:write", "rules:mod"} <= set(me["permissions"])
    assert "rules:delete" not in me["permissions"], "delete is not implied"
    api.get("/api/rules", token=u["token"], expect=200)                 # read
    rule = create_rule(api, u["token"], name="Made by a mod")           # write
    assert_error(api.delete(f"/api/rules/{rule['id']}", token=u["token"]), 403)
    assert_error(api.get("/api/releases", token=u["token"]), 403)       # other resources: no


def test_permission_changes_reach_holders_at_once(api, tokens, new_user, pid):
    admin = tokens[ADMIN_USER]
    role = api.post("/api/roles", token=admin, json={"name": "growing"}, expect=201).body
    u = new_user(login=True, prefix="grow", role_ids=[role["id"]])
    assert_error(api.get("/api/releases", token=u["token"]), 403)
    api.put(f"/api/roles/{role['id']}", token=admin,
            json={"permission_ids": [pid["releases:read"]]}, expect=200)
    api.get("/api/releases", token=u["token"], expect=200)
    api.put(f"/api/roles/{role['id']}", token=admin, json={"permission_ids": []}, expect=200)
    assert_error(api.get("/api/releases", token=u["token"]), 403)


def test_role_managers_cannot_exceed_their_own_rights(api, tokens, new_user, pid, role_ids):
    admin = tokens[ADMIN_USER]
    mgr_role = api.post("/api/roles", token=admin,
                        json={"name": "role-managers",
                              "permission_ids": [pid["roles:write"], pid["releases:read"]]},
                        expect=201).body
    m = new_user(login=True, prefix="rmgr", role_ids=[mgr_role["id"]])
    ok = api.post("/api/roles", token=m["token"],
                  json={"name": "readers", "permission_ids": [pid["releases:read"]]},
                  expect=201).body
    assert_error(api.post("/api/roles", token=m["token"],
                          json={"name": "writers", "permission_ids": [pid["releases:write"]]}),
                 403)
    assert_error(api.put(f"/api/roles/{ok['id']}", token=m["token"],
                         json={"permission_ids": [pid["users:write"]]}), 403)
    # Their own role cannot grow either.
    assert_error(api.put(f"/api/roles/{mgr_role['id']}", token=m["token"],
                         json={"permission_ids": [pid["roles:write"], pid["config:read"]]}), 403)
    assert_error(api.put(f"/api/roles/{role_ids['admin']}", token=m["token"],
                         json={"description": "mine now"}), 403)
    # roles:write is not roles:delete.
    assert_error(api.delete(f"/api/roles/{ok['id']}", token=m["token"]), 403)
    api.delete(f"/api/roles/{ok['id']}", token=admin, expect=200)


def test_operators_and_viewers_cannot_manage_roles(api, tokens, role_ids):
    for who in ("operator", "viewer"):
        assert_error(api.get("/api/roles", token=tokens[who]), 403)
        assert_error(api.post("/api/roles", token=tokens[who], json={"name": "sneaky"}), 403)
        assert_error(api.delete(f"/api/roles/{role_ids['viewer']}", token=tokens[who]), 403)
