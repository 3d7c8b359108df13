"""/api/users: CRUD, validation, duplicates, self-protection of admins, deactivation instead of
deletion, token revocation on disable, self-service (note, password with the old one), the
password rule (API and `user add`) and its one exception (`seed --user`, for load tests)."""
import pytest

from helpers import assert_error, create_release
from spserver import ADMIN_USER


def test_create_get_list_update_delete(api, tokens, role_ids):
    admin = tokens[ADMIN_USER]
    body = {"username": "carol.admin-test", "email": "carol@example.org",
            "password": "Carol-pass-0123", "note": "made by a test"}
    u = api.post("/api/users", token=admin, json=body, expect=201).body
    assert u["username"] == "carol.admin-test" and u["email"] == "carol@example.org"
    assert u["active"] is True and u["note"] == "made by a test"
    assert u["roles"] == ["viewer"] and u["role_ids"] == [role_ids["viewer"]], \
        "without role_ids a new user is a viewer"
    assert "password" not in u and "password_hash" not in u
    assert api.get(f"/api/users/{u['id']}", token=admin, expect=200).body == u

    found = api.get("/api/users", token=admin, params={"search": "carol.ad"}, expect=200).body
    assert [x["id"] for x in found["users"]] == [u["id"]]
    assert found["pagination"]["total"] == 1
    by_mail = api.get("/api/users", token=admin, params={"search": "CAROL@"}, expect=200).body
    assert [x["id"] for x in by_mail["users"]] == [u["id"]]

    upd = api.put(f"/api/users/{u['id']}", token=admin,
                  json={"email": None, "note": "", "role_ids": [role_ids["operator"]]},
                  expect=200).body
    assert upd["email"] is None and upd["note"] == "" and upd["roles"] == ["operator"]
    # Sending back what was read is fine (read-only members are ignored).
    back = {k: v for k, v in upd.items() if k != "role_ids"}
    assert api.put(f"/api/users/{u['id']}", token=admin, json=back, expect=200).body["id"] == u["id"]

    r = api.delete(f"/api/users/{u['id']}", token=admin, expect=200).body
    assert r["deactivated"] is False and "deleted" in r["message"]
    assert_error(api.get(f"/api/users/{u['id']}", token=admin), 404)
    assert_error(api.delete(f"/api/users/{u['id']}", token=admin), 404)
    assert_error(api.put(f"/api/users/{u['id']}", token=admin, json={"note": "x"}), 404)


def test_list_pagination_and_active_filter(api, tokens, new_user):
    admin = tokens[ADMIN_USER]
    off = new_user(login=False, prefix="inact")
    api.put(f"/api/users/{off['id']}", token=admin, json={"active": False}, expect=200)
    inactive = api.get("/api/users", token=admin, params={"active": "0", "per_page": 100},
                       expect=200).body["users"]
    assert off["id"] in [x["id"] for x in inactive]
    assert all(not x["active"] for x in inactive)
    active = api.get("/api/users", token=admin, params={"active": "true", "per_page": 100},
                     expect=200).body["users"]
    assert all(x["active"] for x in active) and off["id"] not in [x["id"] for x in active]
    p1 = api.get("/api/users", token=admin, params={"per_page": 2}, expect=200).body
    p2 = api.get("/api/users", token=admin, params={"per_page": 2, "page": 2}, expect=200).body
    assert len(p1["users"]) == 2 and p1["pagination"]["total"] >= 4
    assert not {x["id"] for x in p1["users"]} & {x["id"] for x in p2["users"]}
    for q, field in (({"page": "0"}, "page"), ({"per_page": "101"}, "per_page"),
                     ({"active": "maybe"}, "active"), ({"search": "x" * 300}, "search")):
        assert_error(api.get("/api/users", token=admin, params=q), 400, field=field)


@pytest.mark.parametrize("body,field", [
    ({"username": "ab", "password": "long-enough-1"}, "username"),
    ({"username": "x" * 65, "password": "long-enough-1"}, "username"),
    ({"username": "has space", "password": "long-enough-1"}, "username"),
    ({"username": "émile", "password": "long-enough-1"}, "username"),
    ({"username": 12345, "password": "long-enough-1"}, "username"),
    ({"password": "long-enough-1"}, "username"),
    ({"username": "shortpw", "password": "123456789"}, "password"),
    ({"username": "nopw"}, "password"),
    ({"username": "pwtype", "password": 1234567890}, "password"),
    ({"username": "bademail", "password": "long-enough-1", "email": "not-an-address"}, "email"),
    ({"username": "bademail2", "password": "long-enough-1", "email": "a@b"}, "email"),
    ({"username": "bademail3", "password": "long-enough-1", "email": "a b@c.org"}, "email"),
    ({"username": "badnote", "password": "long-enough-1", "note": "n" * 1001}, "note"),
    ({"username": "badactive", "password": "long-enough-1", "active": "yes"}, "active"),
    ({"username": "badroles", "password": "long-enough-1", "role_ids": "1"}, "role_ids"),
    ({"username": "badroles2", "password": "long-enough-1", "role_ids": ["1"]}, "role_ids"),
    ({"username": "badroles3", "password": "long-enough-1", "role_ids": [0]}, "role_ids"),
    ({"username": "badroles4", "password": "long-enough-1", "role_ids": [99999]}, "role_ids"),
    ({"username": "unknownkey", "password": "long-enough-1", "pasword": "x"}, "pasword"),
    ({"username": "oldpw", "password": "long-enough-1", "old_password": "x"}, "old_password"),
])
def test_create_validation(api, tokens, body, field):
    assert_error(api.post("/api/users", token=tokens[ADMIN_USER], json=body), 400, field=field)


def test_password_rule_counts_characters(api, tokens):
    # Ten characters, some of them multi-byte: accepted. Nine: refused.
    api.post("/api/users", token=tokens[ADMIN_USER],
             json={"username": "utf8pw", "password": "éééééééééé"}, expect=201)
    api.login("utf8pw", "éééééééééé")
    assert_error(api.post("/api/users", token=tokens[ADMIN_USER],
                          json={"username": "utf8pw2", "password": "ééééééééé"}), 400,
                 field="password")


def test_duplicates_are_409_naming_the_field(api, tokens, new_user):
    admin = tokens[ADMIN_USER]
    a = new_user(login=False, prefix="dupa", email="dup-a@example.org")
    b = new_user(login=False, prefix="dupb", email="dup-b@example.org")
    assert_error(api.post("/api/users", token=admin,
                          json={"username": a["username"].upper(), "password": "long-enough-1"}),
                 409, field="username")
    assert_error(api.post("/api/users", token=admin,
                          json={"username": "dupc", "password": "long-enough-1",
                                "email": "DUP-A@example.org"}), 409, field="email")
    assert_error(api.put(f"/api/users/{b['id']}", token=admin, json={"username": a["username"]}),
                 409, field="username")
    assert_error(api.put(f"/api/users/{b['id']}", token=admin, json={"email": "dup-a@example.org"}),
                 409, field="email")
    # Nothing of the refused update was applied.
    got = api.get(f"/api/users/{b['id']}", token=admin, expect=200).body
    assert got["username"] == b["username"] and got["email"] == "dup-b@example.org"


def test_admin_cannot_lock_themselves_out(api, tokens, logins, role_ids):
    admin = tokens[ADMIN_USER]
    me = logins[ADMIN_USER]["user"]["id"]
    assert_error(api.put(f"/api/users/{me}", token=admin, json={"active": False}), 409,
                 field="active")
    assert_error(api.put(f"/api/users/{me}", token=admin,
                         json={"role_ids": [role_ids["operator"]]}), 409, field="role_ids")
    assert_error(api.delete(f"/api/users/{me}", token=admin), 409)
    # Adding a role while keeping admin is fine.
    r = api.put(f"/api/users/{me}", token=admin,
                json={"role_ids": [role_ids["admin"], role_ids["viewer"]]}, expect=200).body
    assert set(r["roles"]) == {"admin", "viewer"}
    r = api.put(f"/api/users/{me}", token=admin, json={"role_ids": [role_ids["admin"]]},
                expect=200).body
    assert r["roles"] == ["admin"] and r["active"] is True
    api.get("/api/auth/me", token=admin, expect=200)


def test_disabling_revokes_tokens_at_once(api, tokens, new_user):
    admin = tokens[ADMIN_USER]
    u = new_user("operator", prefix="dis")
    api.get("/api/auth/me", token=u["token"], expect=200)
    api.get("/api/releases", token=u["token"], expect=200)
    r = api.put(f"/api/users/{u['id']}", token=admin, json={"active": False}, expect=200).body
    assert r["active"] is False
    # The very next request with the old tokens fails: no cache delay.
    assert_error(api.get("/api/auth/me", token=u["token"]), 401)
    assert_error(api.get("/api/releases", token=u["token"]), 401)
    assert_error(api.post("/api/auth/refresh", headers={"Authorization": f"Bearer {u['refresh']}"}),
                 401)
    assert_error(api.login(u["username"], u["password"], expect=None), 403)
    # Re-enabling does not resurrect the old tokens; a new login works.
    api.put(f"/api/users/{u['id']}", token=admin, json={"active": True}, expect=200)
    assert_error(api.get("/api/auth/me", token=u["token"]), 401)
    fresh = api.login(u["username"], u["password"]).body["access_token"]
    api.get("/api/auth/me", token=fresh, expect=200)


def test_deleting_an_owner_deactivates_instead(api, tokens, new_user):
    admin = tokens[ADMIN_USER]
    u = new_user("operator", prefix="owner")
    rid = create_release(api, u["token"], group="OwnerGrp")
    r = api.delete(f"/api/users/{u['id']}", token=admin, expect=200).body
    assert r["deactivated"] is True and "deactivated" in r["message"]
    assert r["user"]["id"] == u["id"] and r["user"]["active"] is False
    assert api.get(f"/api/users/{u['id']}", token=admin, expect=200).body["active"] is False
    assert api.get(f"/api/releases/{rid}", token=admin, expect=200).body["user_id"] == u["id"]
    assert_error(api.get("/api/auth/me", token=u["token"]), 401)
    assert_error(api.login(u["username"], u["password"], expect=None), 403)


def test_role_change_is_seen_at_once(api, tokens, new_user, role_ids):
    u = new_user("viewer", prefix="promo")
    assert_error(api.post("/api/wizard/create", token=u["token"],
                          json={"group": "PromoGrp", "release_type": "EBOOK"}), 403)
    api.put(f"/api/users/{u['id']}", token=tokens[ADMIN_USER],
            json={"role_ids": [role_ids["operator"]]}, expect=200)
    api.post("/api/wizard/create", token=u["token"],
             json={"group": "PromoGrp", "release_type": "EBOOK"}, expect=201)
    me = api.get("/api/auth/me", token=u["token"], expect=200).body["user"]
    assert "releases:write" in me["permissions"] and me["roles"] == ["operator"]


def test_self_service_note_and_password(api, tokens, new_user):
    u = new_user("viewer", prefix="self")
    tok = u["token"]
    url = f"/api/users/{u['id']}"
    assert api.get(url, token=tok, expect=200).body["username"] == u["username"]
    assert api.put(url, token=tok, json={"note": "my note"}, expect=200).body["note"] == "my note"
    for body in ({"email": "me@example.org"}, {"active": True}, {"role_ids": []},
                 {"username": "renamed-self"}):
        assert_error(api.put(url, token=tok, json=body), 403)
    other = tokens["viewer"]
    assert_error(api.get(url, token=other), 403)
    assert_error(api.put(url, token=other, json={"note": "not yours"}), 403)
    assert_error(api.get("/api/users", token=tok), 403)

    assert_error(api.put(url, token=tok, json={"password": "New-password-0123"}), 400,
                 field="old_password")
    assert_error(api.put(url, token=tok, json={"password": "New-password-0123",
                                                "old_password": "wrong-password"}),
                 400, field="old_password")
    assert_error(api.put(url, token=tok, json={"old_password": u["password"]}), 400,
                 field="password")
    assert_error(api.put(url, token=tok, json={"password": "short", "old_password": u["password"]}),
                 400, field="password")
    api.put(url, token=tok, json={"password": "New-password-0123", "old_password": u["password"]},
            expect=200)
    # A new password logs the user out everywhere.
    assert_error(api.get("/api/auth/me", token=tok), 401)
    assert_error(api.login(u["username"], u["password"], expect=None), 401)
    api.login(u["username"], "New-password-0123")


def test_wrong_old_passwords_are_limited_like_logins(api, new_user):
    u = new_user("viewer", prefix="guess")
    url = f"/api/users/{u['id']}"
    for i in range(5):
        assert_error(api.put(url, token=u["token"], json={"password": "New-password-0123",
                                                          "old_password": f"guess-{i}"}),
                     400, field="old_password")
    r = api.put(url, token=u["token"], json={"password": "New-password-0123",
                                             "old_password": u["password"]})
    assert_error(r, 429)
    assert int(r.headers["Retry-After"]) > 0


def test_admin_resets_another_users_password(api, tokens, new_user):
    u = new_user("operator", prefix="reset")
    api.put(f"/api/users/{u['id']}", token=tokens[ADMIN_USER],
            json={"password": "Reset-by-admin-01"}, expect=200)
    assert_error(api.get("/api/auth/me", token=u["token"]), 401)
    api.login(u["username"], "Reset-by-admin-01")
    assert_error(api.put(f"/api/users/{u['id']}", token=tokens[ADMIN_USER],
                         json={"password": "Reset-by-admin-02", "old_password": "x" * 10}),
                 400, field="old_password")


def test_user_managers_cannot_grant_more_than_they_hold(api, tokens, role_ids):
    admin = tokens[ADMIN_USER]
    perms = api.get("/api/permissions", token=admin, expect=200).body["permissions"]
    pid = {p["name"]: p["id"] for p in perms}
    role = api.post("/api/roles", token=admin,
                    json={"name": "user-managers",
                          "permission_ids": [pid["users:write"], pid["users:delete"],
                                             pid["releases:read"]]}, expect=201).body
    m = api.post("/api/users", token=admin,
                 json={"username": "mgr-user", "password": "Manager-pass-01",
                       "role_ids": [role["id"]]}, expect=201).body
    mt = api.login("mgr-user", "Manager-pass-01").body["access_token"]

    # Roles with permissions the manager lacks: admin, operator (rules:write ...), viewer.
    for name in ("admin", "operator", "viewer"):
        assert_error(api.post("/api/users", token=mt,
                              json={"username": f"esc-{name}", "password": "Escalate-pass-1",
                                    "role_ids": [role_ids[name]]}), 403)
    # ... including the default one (viewer).
    assert_error(api.post("/api/users", token=mt,
                          json={"username": "esc-default", "password": "Escalate-pass-1"}), 403)
    # Own role, or none: fine.
    plain = api.post("/api/users", token=mt,
                     json={"username": "mgr-made", "password": "Made-by-mgr-01",
                           "role_ids": [role["id"]]}, expect=201).body
    api.put(f"/api/users/{plain['id']}", token=mt, json={"role_ids": []}, expect=200)
    assert_error(api.put(f"/api/users/{plain['id']}", token=mt,
                         json={"role_ids": [role_ids["admin"]]}), 403)
    # Cannot promote themselves either, nor touch an administrator's account.
    assert_error(api.put(f"/api/users/{m['id']}", token=mt,
                         json={"role_ids": [role["id"], role_ids["admin"]]}), 403)
    admin_id = api.get("/api/users", token=admin, params={"search": ADMIN_USER},
                       expect=200).body["users"][0]["id"]
    for body in ({"password": "Hijacked-pass-01"}, {"active": False}, {"note": "x"}):
        assert_error(api.put(f"/api/users/{admin_id}", token=mt, json=body), 403)
    assert_error(api.delete(f"/api/users/{admin_id}", token=mt), 403)
    api.delete(f"/api/users/{plain['id']}", token=mt, expect=200)


def test_user_add_enforces_the_password_rule(server):
    p = server.cli("user", "add", "cli-short", "--password-stdin", input="123456789\n",
                   check=False)
    assert p.returncode != 0 and "at least 10" in p.stderr
    server.cli("user", "add", "cli-long", "--password-stdin", input="1234567890\n")


def test_seed_user_may_have_the_load_plans_weak_password(server, api):
    p = server.cli("seed", "--releases", "0", "--user", "testuser:password")
    assert "warning" in p.stderr.lower() and "testuser" in p.stderr
    body = api.login("testuser", "password").body
    assert body["user"]["roles"] == ["operator"]
