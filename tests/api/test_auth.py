"""/api/auth: login, refresh (rotation), logout (revocation), me; every way a token is refused."""
import time

import pytest

from conftest import PASSWORDS
from helpers import assert_error, b64url, forge, jwt_parts, jwt_sign, jwt_unsigned, now
from spserver import ADMIN_USER

ALL_PERMS = {f"{r}:{a}" for r in ("releases", "rules", "users", "roles", "config", "jobs", "audit")
             for a in ("read", "write", "mod", "delete")}


def test_login_answers_token_pair_and_user(logins):
    body = logins[ADMIN_USER]
    assert body["token_type"] == "Bearer"
    assert body["user"]["username"] == ADMIN_USER
    assert body["user"]["active"] is True
    head, claims, _ = jwt_parts(body["access_token"])
    assert head["alg"] == "HS256"
    assert claims["type"] == "access"
    assert claims["sub"] == str(body["user"]["id"])
    assert {"jti", "iat", "nbf", "exp"} <= set(claims)
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 15 * 60
    _h, rclaims, _ = jwt_parts(body["refresh_token"])
    assert rclaims["type"] == "refresh"
    assert rclaims["sub"] == claims["sub"]
    assert rclaims["exp"] - rclaims["iat"] == 7 * 24 * 3600
    assert rclaims["jti"] != claims["jti"]


@pytest.mark.parametrize("body,field", [
    ({"password": "x" * 12}, "username"),
    ({"username": "admin"}, "password"),
    ({"username": 12, "password": "x" * 12}, "username"),
    ({"username": "admin", "password": ["x"]}, "password"),
    ({"username": None, "password": "x" * 12}, "username"),
])
def test_login_validation(api, body, field):
    assert_error(api.post("/api/auth/login", json=body), 400, field=field)


def test_login_refuses_null_and_non_object_bodies(api):
    for raw in (b"null", b"[]", b"\"admin\"", b"{\"username\": \"admin\",", b""):
        r = api.post("/api/auth/login", data=raw, headers={"Content-Type": "application/json"})
        assert_error(r, 400)
        assert r.body.get("field"), r.body


def test_login_same_401_for_unknown_user_and_bad_password(api):
    unknown = api.login("no-such-user", "Whatever-pass-123", expect=401).body
    bad = api.login("viewer", "Wrong-pass-0123", expect=401).body
    assert unknown == bad
    assert unknown["code"] == "unauthorized"
    assert "field" not in unknown


def test_login_inactive_account_is_403(api):
    r = api.login("inactive", PASSWORDS["inactive"], expect=403)
    assert r.body["code"] == "forbidden"


def test_failed_logins_are_rate_limited_per_username(api):
    user = "rate-limit-probe"
    for _ in range(5):
        api.login(user, "Wrong-pass-0123", expect=401)
    r = api.login(user, "Wrong-pass-0123", expect=429)
    assert int(r.headers["Retry-After"]) > 0
    # Other usernames from the same address still log in (successes are never limited).
    api.login("operator", PASSWORDS["operator"], expect=200)


def test_me_lists_effective_permissions(api, tokens, logins):
    me = api.get("/api/auth/me", token=tokens[ADMIN_USER], expect=200).body["user"]
    assert me["id"] == logins[ADMIN_USER]["user"]["id"]
    assert set(me["permissions"]) == ALL_PERMS
    op = api.get("/api/auth/me", token=tokens["operator"], expect=200).body["user"]
    assert op["username"] == "operator"
    assert set(op["permissions"]) == {"releases:read", "releases:write", "rules:read",
                                      "rules:write", "jobs:read"}
    v = api.get("/api/auth/me", token=tokens["viewer"], expect=200).body["user"]
    assert set(v["permissions"]) == {"releases:read", "rules:read"}


def test_refresh_rotates_and_old_refresh_is_rejected(api, logins):
    old = logins["operator"]["refresh_token"]
    r1 = api.post("/api/auth/refresh", token=old, expect=200).body
    assert r1["access_token"] != logins["operator"]["access_token"]
    assert jwt_parts(r1["refresh_token"])[1]["type"] == "refresh"
    # The used refresh token is revoked.
    assert_error(api.post("/api/auth/refresh", token=old), 401)
    # The new pair works.
    me = api.get("/api/auth/me", token=r1["access_token"], expect=200).body["user"]
    assert me["username"] == "operator"
    r2 = api.post("/api/auth/refresh", token=r1["refresh_token"], expect=200).body
    api.get("/api/auth/me", token=r2["access_token"], expect=200)


def test_refresh_refuses_access_tokens_and_garbage(api, tokens):
    assert_error(api.post("/api/auth/refresh", token=tokens["viewer"]), 401)
    assert_error(api.post("/api/auth/refresh"), 401)
    assert_error(api.post("/api/auth/refresh", token="not.a.token"), 401)


def test_logout_revokes_access_and_refresh(api, logins, tokens):
    pair = api.post("/api/auth/refresh", token=logins[ADMIN_USER]["refresh_token"],
                    expect=200).body
    api.get("/api/auth/me", token=pair["access_token"], expect=200)
    api.post("/api/auth/logout", token=pair["access_token"],
             json={"refresh_token": pair["refresh_token"]}, expect=200)
    assert_error(api.get("/api/auth/me", token=pair["access_token"]), 401)
    assert_error(api.post("/api/auth/refresh", token=pair["refresh_token"]), 401)
    # Logging out one session leaves the others alone.
    api.get("/api/auth/me", token=tokens[ADMIN_USER], expect=200)


def test_logout_without_body_and_errors(api, key, tokens):
    t = forge(key, tokens["viewer"])
    api.get("/api/auth/me", token=t, expect=200)
    api.post("/api/auth/logout", token=t, expect=200)
    assert_error(api.get("/api/auth/me", token=t), 401)
    assert_error(api.post("/api/auth/logout"), 401)
    t2 = forge(key, tokens["viewer"])
    assert_error(api.post("/api/auth/logout", token=t2, json={"refresh_token": 42}), 400,
                 field="refresh_token")


def _bad_tokens(key, template, refresh):
    t = now()
    h, c, _ = jwt_parts(template)
    yield "garbage", "garbage"
    yield "three garbage parts", "a.b.c"
    yield "two parts", ".".join(template.split(".")[:2])
    yield "expired", forge(key, template, iat=t - 7200, nbf=t - 7200, exp=t - 3600)
    yield "not yet valid", forge(key, template, nbf=t + 3600, exp=t + 7200)
    yield "wrong signature", jwt_sign(h, dict(c, jti="x1"), b"not-the-server-key-0123456789abc")
    yield "alg none", jwt_unsigned(dict(h, alg="none"), dict(c, jti="x2"))
    yield "alg none with signature", jwt_unsigned(dict(h, alg="none"), dict(c, jti="x3"), b"x" * 32)
    yield "alg HS512 header", jwt_sign(dict(h, alg="HS512"), dict(c, jti="x4"), key)
    yield "tampered payload", ".".join([template.split(".")[0],
                                        b64url(b'{"sub":"1","type":"access","exp":9999999999}'),
                                        template.split(".")[2]])
    yield "refresh token as access", refresh
    yield "type missing", forge(key, template, type=None)
    yield "exp missing", forge(key, template, exp=None)
    yield "jti missing", forge(key, template, jti=None)
    yield "unknown type", forge(key, template, type="admin")
    yield "deleted user", forge(key, template, sub="999999")
    yield "non-numeric sub", forge(key, template, sub="admin")
    yield "integer sub", forge(key, template, sub=1)
    yield "payload not JSON", ".".join([template.split(".")[0], b64url(b"\xff\xfe{"), "AAAA"])
    yield "huge token", "a" * 6000 + "." + "b" * 6000 + ".c"


def test_every_bad_token_is_401(api, key, logins):
    template = logins["viewer"]["access_token"]
    refresh = logins["viewer"]["refresh_token"]
    for what, tok in _bad_tokens(key, template, refresh):
        r = api.get("/api/auth/me", token=tok)
        assert r.status_code == 401, f"{what}: {r.status_code} {r.text[:300]}"
        # A protected resource refuses it too, before any permission check.
        r = api.get("/api/releases", token=tok)
        assert r.status_code == 401, f"{what} on /api/releases: {r.status_code}"


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=",
                                    "bearer", "Token abc"])
def test_malformed_authorization_headers_are_401(api, header):
    r = api.get("/api/auth/me", headers={"Authorization": header})
    assert_error(r, 401)


def test_non_utf8_authorization_header_is_401(api):
    r = api.get("/api/auth/me", headers={"Authorization": b"Bearer \xff\xfe\x80".decode("latin-1")})
    assert_error(r, 401)


def test_forged_token_with_the_right_key_is_accepted(api, key, tokens):
    """Control for the matrix above: the crafted tokens fail for their defect, not the key."""
    api.get("/api/auth/me", token=forge(key, tokens["viewer"]), expect=200)


def test_disabled_user_tokens_stop_working(api, server, logins):
    access = logins["victim"]["access_token"]
    refresh = logins["victim"]["refresh_token"]
    api.get("/api/auth/me", token=access, expect=200)
    server.cli("user", "disable", "victim")
    # /me reads the account itself: it must refuse at once.
    assert_error(api.get("/api/auth/me", token=access), 401)
    # Elsewhere the server may trust its cached copy of the account for a few seconds after
    # another process changed it (tokens.c PCACHE_TTL), never longer than 15 s.
    deadline = time.monotonic() + 15
    while True:
        r = api.get("/api/releases", token=access, params={"per_page": 1})
        if r.status_code == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert_error(r, 401)
    assert_error(api.post("/api/auth/refresh", token=refresh), 401)
    api.login("victim", PASSWORDS["victim"], expect=403)


def test_repeated_logins_stay_correct_when_the_password_changes_elsewhere(api, server, new_user):
    """Logins of credentials verified moments ago skip argon2id (password.c, "recently verified
    credentials"); that shortcut must never outlive the password it verified, even when another
    process (the CLI) changes it, and every login still issues its own tokens."""
    u = new_user("viewer", prefix="again")
    first = api.login(u["username"], u["password"]).body
    second = api.login(u["username"], u["password"]).body
    assert first["access_token"] != second["access_token"]
    assert jwt_parts(first["access_token"])[1]["jti"] != jwt_parts(second["access_token"])[1]["jti"]
    api.get("/api/auth/me", token=second["access_token"], expect=200)

    server.cli("user", "passwd", u["username"], "--password", "Changed-elsewhere-0123")
    assert_error(api.login(u["username"], u["password"], expect=None), 401)
    api.login(u["username"], "Changed-elsewhere-0123")
    api.login(u["username"], "Changed-elsewhere-0123")
    # a wrong password close to the right one is still refused after the right one was cached
    assert_error(api.login(u["username"], "Changed-elsewhere-012", expect=None), 401)
    server.cli("user", "disable", u["username"])
    api.login(u["username"], "Changed-elsewhere-0123", expect=403)
