"""/api/config: CRUD, key rules, duplicates, permissions, and secrets — encrypted at rest with
libsodium secretbox, never returned, never in the logs nor in the database file's plain text,
surviving a restart and a key rotation (`scenepacker secrets rotate`)."""
import ctypes
import ctypes.util
import os
import sqlite3
import stat
import uuid

import pytest

from helpers import Api, assert_error
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server

MASK = "********"

# --- libsodium through ctypes: the test opens what the server sealed ---------------------------

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert _sodium.sodium_init() >= 0
NONCE, MAC = 24, 16


def open_blob(blob, key):
    """The plaintext of nonce || secretbox(value) under key, or None when it does not open."""
    if blob is None or len(blob) < NONCE + MAC:
        return None
    out = ctypes.create_string_buffer(len(blob) - NONCE - MAC + 1)
    c = blob[NONCE:]
    rc = _sodium.crypto_secretbox_open_easy(out, c, ctypes.c_ulonglong(len(c)), blob[:NONCE], key)
    return out.raw[:len(blob) - NONCE - MAC].decode() if rc == 0 else None


def stored(server, key):
    """(value, secret_blob, secret) of a configuration row, read from the database file."""
    con = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT value, secret_blob, secret FROM configurations WHERE key = ?",
                           (key,)).fetchone()
    finally:
        con.close()


def key_file(server):
    with open(os.path.join(server.data_dir, "secret.key"), "rb") as f:
        return f.read()


def raw_files(server):
    """Every byte of the database (main file, WAL, shared memory)."""
    out = b""
    for suffix in ("", "-wal", "-shm"):
        p = server.db_path + suffix
        if os.path.exists(p):
            with open(p, "rb") as f:
                out += f.read()
    return out


# --- plain entries (the session server) --------------------------------------------------------

def test_crud(api, tokens):
    admin = tokens[ADMIN_USER]
    c = api.post("/api/config", token=admin,
                 json={"key": "CATALOGUE_URL", "value": "https://rules.example/",
                       "category": "rules", "description": "where rules come from"},
                 expect=201).body
    assert c["key"] == "CATALOGUE_URL" and c["value"] == "https://rules.example/"
    assert c["secret"] is False and c["category"] == "rules"
    assert api.get(f"/api/config/{c['id']}", token=admin, expect=200).body == c
    assert api.get("/api/config/key/CATALOGUE_URL", token=admin, expect=200).body == c
    d = api.post("/api/config", token=admin, json={"key": "EMPTY_ONE", "value": ""},
                 expect=201).body
    assert d["category"] == "general" and d["value"] == "" and d["description"] == ""

    listed = api.get("/api/config", token=admin, params={"category": "rules"}, expect=200).body
    assert [x["key"] for x in listed["configs"]] == ["CATALOGUE_URL"]
    assert [x["key"] for x in api.get("/api/config", token=admin, params={"search": "catalo"},
                                      expect=200).body["configs"]] == ["CATALOGUE_URL"]
    everything = api.get("/api/config", token=admin, params={"per_page": 100}, expect=200).body
    assert {"CATALOGUE_URL", "EMPTY_ONE"} <= {x["key"] for x in everything["configs"]}

    u = api.put(f"/api/config/{c['id']}", token=admin,
                json={"value": "https://other.example/", "description": "moved"},
                expect=200).body
    assert u["value"] == "https://other.example/" and u["description"] == "moved"
    assert u["category"] == "rules" and u["key"] == "CATALOGUE_URL"
    r = api.put(f"/api/config/{c['id']}", token=admin, json={"key": "RULES_CATALOGUE_URL"},
                expect=200).body
    assert r["key"] == "RULES_CATALOGUE_URL"
    assert_error(api.get("/api/config/key/CATALOGUE_URL", token=admin), 404)
    api.put(f"/api/config/{c['id']}", token=admin, json=r, expect=200)  # read-back is accepted

    api.delete(f"/api/config/{c['id']}", token=admin, expect=200)
    assert_error(api.get(f"/api/config/{c['id']}", token=admin), 404)
    assert_error(api.put(f"/api/config/{c['id']}", token=admin, json={"value": "x"}), 404)
    assert_error(api.delete(f"/api/config/{c['id']}", token=admin), 404)
    api.delete(f"/api/config/{d['id']}", token=admin, expect=200)


@pytest.mark.parametrize("body,field", [
    ({"value": "v"}, "key"),
    ({"key": "lower_case", "value": "v"}, "key"),
    ({"key": "1STARTS_WITH_DIGIT", "value": "v"}, "key"),
    ({"key": "_UNDERSCORE", "value": "v"}, "key"),
    ({"key": "HAS-DASH", "value": "v"}, "key"),
    ({"key": "K" * 65, "value": "v"}, "key"),
    ({"key": "", "value": "v"}, "key"),
    ({"key": "NO_VALUE"}, "value"),
    ({"key": "NUM_VALUE", "value": 5}, "value"),
    ({"key": "BIG_VALUE", "value": "v" * 16385}, "value"),
    ({"key": "BAD_SECRET", "value": "v", "secret": "yes"}, "secret"),
    ({"key": "BAD_CAT", "value": "v", "category": "has space"}, "category"),
    ({"key": "BAD_CAT2", "value": "v", "category": ""}, "category"),
    ({"key": "BAD_DESC", "value": "v", "description": "d" * 501}, "description"),
    ({"key": "UNKNOWN", "value": "v", "colour": "red"}, "colour"),
])
def test_validation(api, tokens, body, field):
    assert_error(api.post("/api/config", token=tokens[ADMIN_USER], json=body), 400, field=field)


def test_key_lookup_of_malformed_keys_is_404(api, tokens):
    for k in ("lower", "1X", "A-B", "X" * 65):
        assert_error(api.get(f"/api/config/key/{k}", token=tokens[ADMIN_USER]), 404)


def test_duplicate_key_is_409(api, tokens):
    admin = tokens[ADMIN_USER]
    a = api.post("/api/config", token=admin, json={"key": "DUP_A", "value": "1"}, expect=201).body
    api.post("/api/config", token=admin, json={"key": "DUP_B", "value": "2"}, expect=201)
    assert_error(api.post("/api/config", token=admin, json={"key": "DUP_B", "value": "3"}), 409,
                 field="key")
    assert_error(api.put(f"/api/config/{a['id']}", token=admin, json={"key": "DUP_B"}), 409,
                 field="key")
    assert api.get(f"/api/config/{a['id']}", token=admin, expect=200).body["key"] == "DUP_A"


def test_permissions(api, tokens, new_user):
    admin = tokens[ADMIN_USER]
    c = api.post("/api/config", token=admin, json={"key": "PERM_TEST", "value": "1"},
                 expect=201).body
    for who in ("operator", "viewer"):
        t = tokens[who]
        assert_error(api.get("/api/config", token=t), 403)
        assert_error(api.get(f"/api/config/{c['id']}", token=t), 403)
        assert_error(api.get("/api/config/key/PERM_TEST", token=t), 403)
        assert_error(api.post("/api/config", token=t, json={"key": "NOPE", "value": "1"}), 403)
        assert_error(api.put(f"/api/config/{c['id']}", token=t, json={"value": "2"}), 403)
        assert_error(api.delete(f"/api/config/{c['id']}", token=t), 403)
    perms = {p["name"]: p["id"] for p in
             api.get("/api/permissions", token=admin, expect=200).body["permissions"]}
    role = api.post("/api/roles", token=admin,
                    json={"name": "config-readers", "permission_ids": [perms["config:read"]]},
                    expect=201).body
    reader = new_user(prefix="cfgr", role_ids=[role["id"]])
    api.get("/api/config/key/PERM_TEST", token=reader["token"], expect=200)
    assert_error(api.put(f"/api/config/{c['id']}", token=reader["token"], json={"value": "2"}),
                 403)


# --- secrets (a server of their own, logging at debug level) -----------------------------------

@pytest.fixture(scope="module")
def secret_server():
    srv = Server(name="secrets", env={"SP_LOG_LEVEL": "debug", "SP_RATE_LIMIT_PER_MIN": "0"})
    try:
        srv.start()
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


@pytest.fixture
def sapi(secret_server):
    return Api(secret_server.base)


def admin_token(api):
    return api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]


def test_secret_values_never_leave_the_server(secret_server, sapi):
    tok = admin_token(sapi)
    first, second = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"
    seen = []

    def call(method, path, **kw):
        r = sapi.request(method, path, token=tok, **kw)
        seen.append(r.text)
        return r

    c = call("POST", "/api/config", json={"key": "SMTP_PASSWORD", "value": first, "secret": True,
                                          "category": "mail"}, expect=201).body
    assert c["secret"] is True and c["value"] == MASK
    assert call("GET", f"/api/config/{c['id']}", expect=200).body["value"] == MASK
    assert call("GET", "/api/config/key/SMTP_PASSWORD", expect=200).body["value"] == MASK
    listed = call("GET", "/api/config", params={"category": "mail"}, expect=200).body["configs"]
    assert [x["value"] for x in listed] == [MASK]

    value, blob, secret = stored(secret_server, "SMTP_PASSWORD")
    assert value is None and secret == 1
    assert open_blob(blob, key_file(secret_server)) == first
    # The mask sent back (a client saving the form it read) changes nothing.
    call("PUT", f"/api/config/{c['id']}", json={"value": MASK, "description": "mail relay"},
         expect=200)
    assert open_blob(stored(secret_server, "SMTP_PASSWORD")[1], key_file(secret_server)) == first
    # A new value is sealed again (with a fresh nonce).
    call("PUT", f"/api/config/{c['id']}", json={"value": second}, expect=200)
    blob2 = stored(secret_server, "SMTP_PASSWORD")[1]
    assert open_blob(blob2, key_file(secret_server)) == second
    assert blob2[:NONCE] != blob[:NONCE]

    audit = call("GET", "/api/audit", params={"resource": "config"}, expect=200).body["entries"]
    assert any("SMTP_PASSWORD" in e["summary"] for e in audit)
    for text in seen:
        assert first not in text and second not in text
    everything = raw_files(secret_server)
    assert first.encode() not in everything and second.encode() not in everything
    log = secret_server.stderr()
    assert "SMTP_PASSWORD" in log or "/api/config" in log, "the debug log saw the requests"
    assert first not in log and second not in log


def test_secret_flag_conversions(secret_server, sapi):
    tok = admin_token(sapi)
    c = sapi.post("/api/config", token=tok, json={"key": "WAS_PLAIN", "value": "plain-to-seal"},
                  expect=201).body
    s = sapi.put(f"/api/config/{c['id']}", token=tok, json={"secret": True}, expect=200).body
    assert s["secret"] is True and s["value"] == MASK
    value, blob, _ = stored(secret_server, "WAS_PLAIN")
    assert value is None and open_blob(blob, key_file(secret_server)) == "plain-to-seal"
    # Making it plain again needs a new value: the secret is never revealed.
    assert_error(sapi.put(f"/api/config/{c['id']}", token=tok, json={"secret": False}), 400,
                 field="value")
    assert_error(sapi.put(f"/api/config/{c['id']}", token=tok,
                          json={"secret": False, "value": MASK}), 400, field="value")
    p = sapi.put(f"/api/config/{c['id']}", token=tok, json={"secret": False, "value": "now-plain"},
                 expect=200).body
    assert p["secret"] is False and p["value"] == "now-plain"
    assert stored(secret_server, "WAS_PLAIN")[1] is None
    sapi.delete(f"/api/config/{c['id']}", token=tok, expect=200)


def test_secrets_survive_restart_and_key_rotation(secret_server, sapi):
    tok = admin_token(sapi)
    value = f"rotate-me-{uuid.uuid4().hex}"
    sapi.post("/api/config", token=tok, json={"key": "ROTATED", "value": value, "secret": True},
              expect=201)
    path = os.path.join(secret_server.data_dir, "secret.key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the key file is private"
    old_key = key_file(secret_server)

    secret_server.stop()
    p = secret_server.cli("secrets", "check")
    assert "do NOT" not in p.stdout and "open" in p.stdout
    p = secret_server.cli("secrets", "rotate")
    assert "re-encrypted" in p.stdout
    new_key = key_file(secret_server)
    assert new_key != old_key and len(new_key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(path + ".new")
    blob = stored(secret_server, "ROTATED")[1]
    assert open_blob(blob, new_key) == value and open_blob(blob, old_key) is None
    secret_server.cli("secrets", "check")

    secret_server.start()
    api = Api(secret_server.base)  # a restart picks a new port
    tok = admin_token(api)
    got = api.get("/api/config/key/ROTATED", token=tok, expect=200).body
    assert got["value"] == MASK and got["secret"] is True
    # The restarted server seals with the new key.
    api.put(f"/api/config/{got['id']}", token=tok, json={"value": value + "-2"}, expect=200)
    assert open_blob(stored(secret_server, "ROTATED")[1], new_key) == value + "-2"


def test_a_wrong_key_is_detected(secret_server):
    # The check command names entries the current key cannot open.
    con = sqlite3.connect(secret_server.db_path)
    try:
        con.execute("INSERT INTO configurations(key, value, secret_blob, secret, category,"
                    " description, created_at, updated_at) VALUES ('FOREIGN', NULL, ?, 1,"
                    " 'general', '', 0, 0)", (os.urandom(60),))
        con.commit()
        p = secret_server.cli("secrets", "check", check=False)
        assert p.returncode == 1 and "FOREIGN" in p.stderr
        p = secret_server.cli("secrets", "rotate", check=False)
        assert p.returncode != 0 and "nothing changed" in p.stderr
        assert not os.path.exists(os.path.join(secret_server.data_dir, "secret.key.new"))
    finally:
        con.execute("DELETE FROM configurations WHERE key = 'FOREIGN'")
        con.commit()
        con.close()


def test_key_from_the_environment():
    env_key = os.urandom(32)
    srv = Server(name="envkey", env={"SP_SECRET_KEY": env_key.hex()})
    try:
        srv.start()
        api = Api(srv.base)
        tok = admin_token(api)
        api.post("/api/config", token=tok, json={"key": "ENV_SEALED", "value": "env-secret-v",
                                                 "secret": True}, expect=201)
        assert not os.path.exists(os.path.join(srv.data_dir, "secret.key"))
        assert open_blob(stored(srv, "ENV_SEALED")[1], env_key) == "env-secret-v"
        srv.stop()
        p = srv.cli("secrets", "rotate", check=False)
        assert p.returncode == 2 and "--new-key" in p.stderr
        new_key = os.urandom(32)
        srv.cli("secrets", "rotate", "--new-key", new_key.hex())
        assert open_blob(stored(srv, "ENV_SEALED")[1], new_key) == "env-secret-v"
        srv.extra_env["SP_SECRET_KEY"] = new_key.hex()
        srv.cli("secrets", "check")
        srv.start()
        api = Api(srv.base)
        assert api.get("/api/config/key/ENV_SEALED", token=admin_token(api),
                       expect=200).body["value"] == MASK
        srv.stop()
    finally:
        srv.cleanup()


def test_malformed_environment_key_refuses_to_start():
    srv = Server(name="badkey", env={"SP_SECRET_KEY": "not-hex"})
    try:
        with pytest.raises(AssertionError, match="SP_SECRET_KEY"):
            srv.start(timeout=30)
    finally:
        srv.cleanup()
