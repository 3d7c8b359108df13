"""Client, raw-socket and JWT helpers for the API suite. Every response is validated."""
import base64
import hashlib
import hmac
import json
import os
import socket
import time
import uuid

import requests

import oas

DEFAULT_TIMEOUT = 60


class Api:
    """A requests.Session bound to one server; every response goes through oas.validate()."""

    def __init__(self, base):
        self.base = base
        self.s = requests.Session()

    def request(self, method, path, token=None, expect=None, headers=None, **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        kw.setdefault("timeout", DEFAULT_TIMEOUT)
        r = self.s.request(method, self.base + path, headers=h, **kw)
        r.body = oas.validate(r)
        if 200 <= r.status_code < 300 and "json" in kw:
            oas.validate_request_body(method, path.split("?")[0], kw["json"])
        if expect is not None:
            assert r.status_code == expect, (f"{method} {path}: expected {expect}, got "
                                             f"{r.status_code}: {r.text[:800]}")
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password, expect=200):
        return self.post("/api/auth/login", json={"username": username, "password": password},
                         expect=expect)


def assert_error(r, status, field=None, code=None):
    """r is an error response with this status (and field, when given)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:800]}"
    body = r.body
    assert isinstance(body, dict), f"error body is not a JSON object: {r.text[:300]}"
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field, f"expected field {field!r}, got {body}"
    return body


# --- JWT --------------------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), b64url_decode(s)


def jwt_sign(header, claims, key):
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def jwt_unsigned(header, claims, sig=b""):
    return (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
            b64url(json.dumps(claims, separators=(",", ":")).encode()) + "." + b64url(sig))


def jwt_key(data_dir, sample_token):
    """The server's HS256 key: the 32 raw bytes of DATA_DIR/jwt.key, checked against a token
    the server issued."""
    with open(os.path.join(data_dir, "jwt.key"), "rb") as f:
        key = f.read()
    h, p, s = sample_token.split(".")
    good = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(good, b64url_decode(s)), \
        "DATA_DIR/jwt.key does not verify the tokens the server issues"
    return key


def forge(key, template_token, **changes):
    """A token signed with `key`, claims copied from template_token and updated by `changes`
    (a value of None removes the claim). A fresh jti unless one is given."""
    header, claims, _ = jwt_parts(template_token)
    claims["jti"] = uuid.uuid4().hex
    for k, v in changes.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return jwt_sign(header, claims, key)


def now():
    return int(time.time())


# --- raw HTTP ---------------------------------------------------------------------------------

def raw_connect(port, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, timeout=30):
    """Read one HTTP/1.1 response (Content-Length or close-delimited).
    Returns (status, headers dict, body bytes); status None if the peer closed first."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            if not buf:
                return None, {}, b""
            raise AssertionError(f"connection closed inside the response head: {buf[:300]!r}")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip()] = v.strip()
    lower = {k.lower(): v for k, v in headers.items()}
    if "content-length" in lower:
        n = int(lower["content-length"])
        while len(body) < n:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"body cut at {len(body)}/{n} bytes")
            body += chunk
        body = body[:n]
    elif lower.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(sock, body)
    return status, headers, body


def _dechunk(sock, data):
    out = b""
    while True:
        while b"\r\n" not in data:
            data += sock.recv(65536)
        line, data = data.split(b"\r\n", 1)
        n = int(line.split(b";")[0], 16)
        while len(data) < n + 2:
            data += sock.recv(65536)
        out += data[:n]
        data = data[n + 2:]
        if n == 0:
            return out


def peer_closed(sock, timeout=30):
    """True when the server closes the connection (EOF or reset) within `timeout`."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


# --- data -------------------------------------------------------------------------------------

def create_release(api, token, group="TestGroup", release_type="EBOOK", path="/api/wizard/create",
                   **extra):
    """Create a draft through the wizard; returns its id."""
    body = {"group": group, "release_type": release_type, **extra}
    r = api.post(path, token=token, json=body, expect=201)
    return r.body["release_id"]


def create_rule(api, token, name="Test rule", content="eBOOK rules\n", **extra):
    """Create a rule; returns the Rule body."""
    return api.post("/api/rules", token=token, json={"name": name, "content": content, **extra},
                    expect=201).body


def list_all(api, path, key, token, **params):
    """Every item of a paginated list (100 per page)."""
    out, page = [], 1
    while True:
        q = dict(params, page=page, per_page=100)
        body = api.get(path, token=token, params=q, expect=200).body
        out += body[key]
        if page >= body["pagination"]["pages"]:
            return out
        page += 1
