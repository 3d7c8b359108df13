"""Request bodies every JSON endpoint must refuse cleanly: malformed, null, wrong type, not UTF-8,
wrong media type, too large. Never a crash, never HTML."""
import pytest

import oas
from helpers import assert_error, create_release, create_rule, raw_connect, read_response
from spserver import ADMIN_USER

BAD_BODIES = [
    ("malformed", b'{"name": "x",'),
    ("trailing garbage", b'{"name": "x"} xyz'),
    ("null", b"null"),
    ("array", b"[]"),
    ("string", b'"text"'),
    ("number", b"42"),
    ("not UTF-8", b'{"name": "\xff\xfe", "content": "\xc3\x28"}'),
    ("NUL inside a string", b'{"name": "a\\u0000b", "content": "t", "group": "a\\u0000b"}'),
    ("deep nesting", b"[" * 100000 + b"]" * 100000),
    ("lone surrogate", b'{"name": "\\ud800", "content": "t", "group": "\\ud800"}'),
    ("huge number", b'{"name": 1e999999, "year": 1e999999, "group": 1e99999}'),
]


@pytest.fixture(scope="module")
def targets(api, tokens):
    rel = create_release(api, tokens[ADMIN_USER], group="BodyGrp")
    rule = create_rule(api, tokens[ADMIN_USER], name="Body rule", content="t")
    return [
        ("POST", "/api/auth/login", None),
        ("POST", "/api/auth/logout", ADMIN_USER),
        ("POST", "/api/rules", ADMIN_USER),
        ("PUT", f"/api/rules/{rule['id']}", ADMIN_USER),
        ("PUT", f"/api/releases/{rel}", ADMIN_USER),
        ("POST", "/api/wizard/create", ADMIN_USER),
        ("POST", "/api/wizard/draft", ADMIN_USER),
    ]


def _send(api, tokens, method, path, who, data, ctype="application/json"):
    return api.request(method, path, token=tokens[who] if who else None, data=data,
                       headers={"Content-Type": ctype} if ctype else {})


@pytest.mark.parametrize("what,raw", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_are_400_with_field(api, tokens, targets, what, raw):
    for method, path, who in targets:
        if path == "/api/auth/logout" and what in ("NUL inside a string", "lone surrogate",
                                                   "huge number"):
            continue  # valid objects for logout (no such field): its own test covers them
        r = _send(api, tokens, method, path, who, raw)
        body = assert_error(r, 400, code="validation_error")
        assert body.get("field"), f"{method} {path} ({what}): no field in {body}"


@pytest.mark.parametrize("ctype", ["multipart/form-data; boundary=x", "application/xml",
                                   "image/png", "application/octet-stream"])
def test_wrong_media_type_is_415(api, tokens, targets, ctype):
    for method, path, who in targets:
        r = _send(api, tokens, method, path, who, b'{"name": "x"}', ctype=ctype)
        assert_error(r, 415, code="unsupported_media_type")


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "application/problem+json",
                                   "text/plain", "application/x-www-form-urlencoded", None])
def test_json_sent_as_other_common_types_is_read(api, tokens, ctype):
    """Documented lenience: `curl -d` (form-urlencoded), text/plain, +json and a missing type."""
    r = _send(api, tokens, "POST", "/api/rules", ADMIN_USER,
              b'{"name": "Lenient", "content": "t"}', ctype=ctype)
    assert r.status_code == 201, r.text


def _oversized(port, token, method, path, size, expect_100):
    """Send a JSON body of `size` bytes; return (status, headers, body) of the answer."""
    s = raw_connect(port)
    try:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {size}\r\n")
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if expect_100:
            head += "Expect: 100-continue\r\n"
        s.sendall((head + "\r\n").encode())
        if not expect_100:
            chunk = b'{"name": "' + b"x" * 65536
            sent = 0
            try:
                while sent < size:
                    s.sendall(chunk[: min(len(chunk), size - sent)])
                    sent += len(chunk)
                    chunk = b"x" * 65536
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed early: read its answer below
        status, headers, body = read_response(s)
        return status, headers, body
    finally:
        s.close()


@pytest.mark.parametrize("expect_100", [False, True], ids=["streamed", "expect-100"])
def test_two_megabyte_body_is_413(api, server, tokens, expect_100):
    for method, path in (("POST", "/api/rules"), ("POST", "/api/auth/login")):
        status, headers, body = _oversized(server.port, tokens[ADMIN_USER], method, path,
                                           2 * 1024 * 1024, expect_100)
        assert status == 413, f"{method} {path}: {status} {body[:200]!r}"
        data = oas.validate_parts(method, path, status, headers, body)
        assert data["code"] == "payload_too_large"
    api.get("/api/health", expect=200)


def test_body_just_under_the_limit_is_read(api, tokens):
    content = "r" * (500 * 1024)
    raw = b'{"name": "Big rule", "content": "' + content.encode() + b'"'
    raw += b" " * (1024 * 1024 - 1 - len(raw)) + b"}"
    assert len(raw) == 1024 * 1024
    r = _send(api, tokens, "POST", "/api/rules", ADMIN_USER, raw)
    assert r.status_code == 201, r.text[:300]
    got = api.get(f"/api/rules/{r.body['id']}", token=tokens[ADMIN_USER], expect=200).body
    assert got["content"] == content
