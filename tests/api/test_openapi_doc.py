"""docs/openapi.yaml is a sound OpenAPI 3.0.3 document, and the server serves it."""
import jsonschema
import yaml

import oas


def _walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


def test_document_header():
    assert oas.DOC["openapi"] == "3.0.3"
    assert oas.DOC["info"]["title"] and oas.DOC["info"]["version"]
    assert oas.DOC["paths"]


def test_every_ref_resolves():
    for where, node in _walk(oas.DOC):
        if "$ref" in node:
            try:
                oas.resolve(node)
            except (KeyError, AssertionError) as e:
                raise AssertionError(f"{where}: $ref {node['$ref']} does not resolve ({e})")


def test_every_schema_is_valid_json_schema():
    for name, schema in oas.DOC["components"]["schemas"].items():
        jsonschema.Draft4Validator.check_schema(oas.to_json_schema(schema))
        assert "type" in schema or "allOf" in schema or "anyOf" in schema, name


def test_fixed_shapes_refuse_unknown_keys():
    """Objects whose shape is fixed say additionalProperties: false, so drift is caught."""
    open_ok = {"RuleSpec"}  # parsed constraints grow with the rule parser
    for name, schema in oas.DOC["components"]["schemas"].items():
        if schema.get("type") == "object" and name not in open_ok:
            assert "additionalProperties" in schema, f"{name} lacks additionalProperties"


def test_every_operation_documents_its_errors():
    for tmpl, method in oas.operations():
        op = oas.DOC["paths"][tmpl][method.lower()]
        codes = set(op["responses"])
        assert any(c.startswith("2") for c in codes), f"{method} {tmpl}: no success response"
        assert {"500", "503"} <= codes, f"{method} {tmpl}: 500/503 not documented"
        secured = op.get("security", oas.DOC.get("security")) != []
        if secured:
            assert {"401", "429"} <= codes, f"{method} {tmpl}: 401/429 not documented"
        if "requestBody" in op:
            assert {"400", "413", "415"} <= codes, f"{method} {tmpl}: body errors not documented"
        if "{id}" in tmpl:
            assert "404" in codes, f"{method} {tmpl}: 404 not documented"
        for code, resp in op["responses"].items():
            resp = oas.resolve(resp)
            assert resp.get("description"), f"{method} {tmpl} {code}: no description"
            if code.startswith(("4", "5")):
                schema = oas.resolve(resp["content"]["application/json"]["schema"])
                assert schema, f"{method} {tmpl} {code}: no error schema"


def test_error_codes_match_api_contract():
    enum = oas.DOC["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert sorted(enum) == sorted(oas.STATUS_CODE.values())


def test_served_document_is_this_file(api):
    r = api.get("/api/openapi.yaml", expect=200)
    assert yaml.safe_load(r.content) == oas.DOC


# Debian's libjson-validator-perl ships the official OpenAPI 3.0 JSON Schema (2019-04-02) in its
# cache directory, under a hashed file name: find it by its id.
OAS30_SCHEMA_ID = "https://spec.openapis.org/oas/3.0/schema/2019-04-02"
SCHEMA_DIRS = ["/usr/share/perl5/JSON/Validator/cache"]


def _official_schema():
    import glob
    import json
    for d in SCHEMA_DIRS:
        for f in sorted(glob.glob(d + "/*")):
            try:
                with open(f, encoding="utf-8") as fh:
                    s = json.load(fh)
            except (ValueError, OSError):
                continue
            if s.get("id") == OAS30_SCHEMA_ID:
                return s
    raise AssertionError("the OpenAPI 3.0 schema was not found: install libjson-validator-perl "
                         "(scripts/install-deps test)")


def test_document_is_valid_openapi_3_0():
    schema = _official_schema()
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(oas.DOC))
    msgs = []
    for e in errors[:5]:
        deepest = e
        while deepest.context:
            deepest = sorted(deepest.context, key=lambda c: len(c.absolute_path))[-1]
        msgs.append("/".join(map(str, deepest.absolute_path)) + ": " + deepest.message[:200])
    assert not errors, "docs/openapi.yaml is not valid OpenAPI 3.0:\n" + "\n".join(msgs)


def test_no_flow_mapping_swallowed_a_comma():
    """`{description: a, b}` in YAML makes a key `b` with a null value: catch such typos."""
    for where, node in _walk(oas.DOC):
        for k, v in node.items():
            assert v is not None or k in ("default", "example"), f"{where}/{k} is null"
