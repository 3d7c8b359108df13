"""Check real responses against docs/openapi.yaml.

validate(response) finds the documented operation for the request's path and method, requires
the status to be documented, the Content-Type to match, the documented required headers to be
present, and a JSON body to satisfy the schema ($ref resolved, OpenAPI `nullable` honoured,
`date-time` = RFC 3339 UTC with `Z`). Undocumented routes must answer a JSON 404, undocumented
methods a JSON 405 with `Allow`. Every (path, method, status) seen is recorded in COVERED.
"""
import copy
import json
import os
import re

import jsonschema
import yaml

DOC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
STATUS_CODE = {400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited", 500: "internal",
               503: "unavailable"}

COVERED = set()  # (path template, METHOD, status)


def load_doc(path=DOC_PATH):
    with open(path, "r", encoding="utf-8") as f:
        return yaml.safe_load(f)


def to_json_schema(node):
    """OpenAPI 3.0 schema objects → JSON Schema draft 4 (nullable → type/enum with null)."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        if "type" in out:
            t = out["type"]
            out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    return out


def _format_checker():
    fc = jsonschema.FormatChecker(formats=())

    @fc.checks("date-time", raises=())
    def _dt(value):
        return not isinstance(value, str) or bool(DATE_TIME.match(value))

    return fc


DOC = load_doc()
JDOC = to_json_schema(copy.deepcopy(DOC))
RESOLVER = jsonschema.RefResolver(base_uri="", referrer=JDOC)
FORMATS = _format_checker()


def resolve(node):
    """Follow a local $ref (to any depth)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"non-local $ref {ref}"
        cur = DOC
        for part in ref[2:].split("/"):
            cur = cur[part.replace("~1", "/").replace("~0", "~")]
        node = cur
    return node


def _template_regex(tmpl):
    parts = []
    for seg in tmpl.strip("/").split("/"):
        parts.append("[^/]+" if seg.startswith("{") and seg.endswith("}") else re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "$") if tmpl != "/" else re.compile("^/$")


_TEMPLATES = sorted(
    ((t, _template_regex(t), sum(1 for s in t.split("/") if s and not s.startswith("{")))
     for t in DOC["paths"]),
    key=lambda x: -x[2])


def find_path(path):
    """The documented path template matching a concrete path (most literal wins), or None."""
    for tmpl, rx, _n in _TEMPLATES:
        if rx.match(path):
            return tmpl
    return None


def operations():
    """Every documented (template, METHOD)."""
    return [(t, m.upper()) for t, item in DOC["paths"].items() for m in item if m in METHODS]


def schema_validator(schema):
    return jsonschema.Draft4Validator(to_json_schema(schema), resolver=RESOLVER,
                                      format_checker=FORMATS)


def check_schema(instance, schema, what):
    errors = sorted(schema_validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = [f"{what}: response body does not match docs/openapi.yaml:"]
        for e in errors[:8]:
            loc = "/".join(str(p) for p in e.absolute_path) or "(root)"
            lines.append(f"  at {loc}: {e.message[:300]}")
        lines.append("  body: " + json.dumps(instance)[:1500])
        raise AssertionError("\n".join(lines))


def _media(ctype):
    return (ctype or "").split(";")[0].strip().lower()


def validate_parts(method, path, status, headers, body_bytes):
    """Validate one response given as parts. Returns the parsed JSON body (or text)."""
    method = method.upper()
    what = f"{method} {path} -> {status}"
    tmpl = find_path(path)
    hdr = {k.lower(): v for k, v in headers.items()}
    if tmpl is None:
        assert status == 404, f"{what}: undocumented path must answer 404 (got {status})"
        response = DOC["components"]["responses"]["NotFound"]
        COVERED.add(("(unknown route)", method, status))
    else:
        item = DOC["paths"][tmpl]
        op = item.get(method.lower())
        if op is None and method == "HEAD" and "get" in item:
            op = item["get"]
        if op is None:
            assert status == 405, f"{what}: method not documented for {tmpl}, expected 405"
            response = DOC["components"]["responses"]["MethodNotAllowed"]
            allow = {m.strip().upper() for m in hdr.get("allow", "").split(",") if m.strip()}
            documented = {m.upper() for m in item if m in METHODS}
            assert documented <= allow, (f"{what}: Allow '{hdr.get('allow')}' lacks documented "
                                         f"methods {sorted(documented - allow)}")
            assert method not in allow, f"{what}: Allow '{hdr.get('allow')}' lists {method}"
            COVERED.add((tmpl, method, status))
        else:
            responses = op["responses"]
            assert str(status) in responses, (
                f"{what}: status {status} is not documented for {method} {tmpl} "
                f"(documented: {sorted(responses)}); body: {body_bytes[:500]!r}")
            response = resolve(responses[str(status)])
            COVERED.add((tmpl, method, status))

    for name, h in (response.get("headers") or {}).items():
        h = resolve(h)
        val = hdr.get(name.lower())
        if h.get("required"):
            assert val is not None, f"{what}: required header {name} missing (headers: {headers})"
        if val is not None and "schema" in h:
            sch = h["schema"]
            if sch.get("type") == "integer":
                assert re.fullmatch(r"\d+", val.strip()), f"{what}: header {name}={val!r} not an integer"
            if "enum" in sch:
                assert val.strip() in sch["enum"], f"{what}: header {name}={val!r} not in {sch['enum']}"

    content = response.get("content")
    if not content:
        assert not body_bytes, f"{what}: documented without a body, got {body_bytes[:200]!r}"
        return None
    media = _media(hdr.get("content-type"))
    assert media in content, (f"{what}: Content-Type {hdr.get('content-type')!r} is not one of "
                              f"{sorted(content)}; body: {body_bytes[:300]!r}")
    if method == "HEAD":
        return None
    if media == "application/json":
        try:
            body = json.loads(body_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(f"{what}: body is not JSON ({e}): {body_bytes[:300]!r}")
        check_schema(body, content[media]["schema"], what)
        if status >= 400 and isinstance(body, dict) and "code" in body:
            assert body.get("code") == STATUS_CODE.get(status, body.get("code")), (
                f"{what}: error code {body.get('code')!r} does not match status {status}")
        return body
    return body_bytes.decode("utf-8", errors="replace")


def validate(resp):
    """Validate a `requests` response (the request's method and path are taken from it)."""
    from urllib.parse import urlsplit
    path = urlsplit(resp.request.url).path
    return validate_parts(resp.request.method, path, resp.status_code, resp.headers,
                          resp.content)


def validate_request_body(method, path, body):
    """A JSON body the server accepted must match the documented requestBody schema: a server
    that takes what the document forbids (or a document stricter than the server) is drift."""
    tmpl = find_path(path)
    if tmpl is None:
        return
    op = DOC["paths"][tmpl].get(method.lower())
    if not op or "requestBody" not in op:
        return
    schema = resolve(op["requestBody"])["content"]["application/json"]["schema"]
    errors = list(schema_validator(schema).iter_errors(body))
    if errors:
        raise AssertionError(f"{method} {path}: the server accepted a body the document refuses: "
                             f"{errors[0].message[:300]}; body: {json.dumps(body)[:500]}")
