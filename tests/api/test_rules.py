"""/api/rules: list (filters), get, create, update, delete, spec; permissions and validation."""
import pytest

from helpers import assert_error, create_rule, list_all
from spserver import ADMIN_USER

RULE_TEXT = """\
                 THE 2024 eBOOK RULESET v1.0

[ FORMATS ]
  Allowed formats: EPUB, PDF, MOBI, AZW3, CBZ.
  A release contains exactly one book file.

[ PACKAGING ]
  Releases must be packed in ZIP volumes of 5,000,000 or 10,000,000 bytes.
  An NFO file is required. Width of the NFO must not exceed 80 characters.
  A FILE_ID.DIZ is required: at most 10 lines of 44 characters.

[ NAMING ]
  Dirnames may contain only A-Z a-z 0-9 . _ - and must not exceed 255 characters.
  Format: Author-Title-Edition-Year-Format-Language-GROUP
"""


def test_create_get_update_delete(api, tokens, logins):
    adm = tokens[ADMIN_USER]
    rule = create_rule(api, adm, name="CRUD rule", content=RULE_TEXT, scene="English",
                       section="eBOOK", year=2024)
    assert rule["name"] == "CRUD rule"
    assert rule["scene"] == "English" and rule["section"] == "eBOOK" and rule["year"] == 2024
    assert rule["builtin"] is False
    assert rule["user_id"] == logins[ADMIN_USER]["user"]["id"]
    got = api.get(f"/api/rules/{rule['id']}", token=tokens["viewer"], expect=200).body
    assert got["content"] == RULE_TEXT
    up = api.put(f"/api/rules/{rule['id']}", token=adm, json={"name": "CRUD rule v2"},
                 expect=200).body
    assert up["name"] == "CRUD rule v2"
    assert up["content"] == RULE_TEXT and up["year"] == 2024, "fields not given are unchanged"
    up = api.put(f"/api/rules/{rule['id']}", token=adm, json={"year": 2025, "scene": "German"},
                 expect=200).body
    assert up["year"] == 2025 and up["scene"] == "German" and up["name"] == "CRUD rule v2"
    api.delete(f"/api/rules/{rule['id']}", token=adm, expect=200)
    assert_error(api.get(f"/api/rules/{rule['id']}", token=adm), 404)
    assert_error(api.delete(f"/api/rules/{rule['id']}", token=adm), 404)
    assert_error(api.put(f"/api/rules/{rule['id']}", token=adm, json={"name": "x"}), 404)


def test_defaults_for_optional_fields(api, tokens):
    rule = create_rule(api, tokens[ADMIN_USER], name="Minimal rule", content="Some rule text\n")
    assert rule["scene"] == "English"
    assert rule["section"] == "eBOOK"
    assert rule["year"] is None


def test_spec_parses_the_text(api, tokens):
    rule = create_rule(api, tokens[ADMIN_USER], name="Spec rule", content=RULE_TEXT, year=2024)
    body = api.get(f"/api/rules/{rule['id']}/spec", token=tokens["viewer"], expect=200).body
    assert body["rule_id"] == rule["id"]
    spec = body["spec"]
    assert isinstance(spec, dict) and spec, "constraints were found in the rule text"


def test_list_and_filters(api, tokens):
    adm = tokens[ADMIN_USER]
    a = create_rule(api, adm, name="Filter rule Alpha", content="alpha text", scene="French",
                    section="eBOOK", year=2019)
    b = create_rule(api, adm, name="Filter rule Beta", content="beta text", scene="French",
                    section="AUDIOBOOK", year=2021)
    body = api.get("/api/rules", token=tokens["viewer"], expect=200).body
    assert body["pagination"]["page"] == 1 and body["pagination"]["per_page"] == 20
    assert body["pagination"]["total"] >= 2
    french = {r["id"] for r in list_all(api, "/api/rules", "rules", adm, scene="French")}
    assert {a["id"], b["id"]} <= french
    audio = list_all(api, "/api/rules", "rules", adm, section="AUDIOBOOK")
    assert b["id"] in {r["id"] for r in audio} and a["id"] not in {r["id"] for r in audio}
    y2019 = list_all(api, "/api/rules", "rules", adm, year=2019)
    assert a["id"] in {r["id"] for r in y2019} and all(r["year"] == 2019 for r in y2019)
    found = {r["id"] for r in list_all(api, "/api/rules", "rules", adm, search="Beta")}
    assert b["id"] in found and a["id"] not in found
    page = api.get("/api/rules", token=adm, params={"per_page": 1, "page": 2}, expect=200).body
    assert len(page["rules"]) == 1 and page["pagination"]["per_page"] == 1


@pytest.mark.parametrize("params,field", [
    ({"year": "abc"}, "year"), ({"year": "20.5"}, "year"), ({"page": "0"}, "page"),
    ({"per_page": "1000"}, "per_page"), ({"page": "x"}, "page"),
])
def test_list_validation(api, tokens, params, field):
    assert_error(api.get("/api/rules", token=tokens["viewer"], params=params), 400, field=field)


@pytest.mark.parametrize("body,field", [
    ({"content": "text"}, "name"),
    ({"name": "No content"}, "content"),
    ({"name": "", "content": "text"}, "name"),
    ({"name": 7, "content": "text"}, "name"),
    ({"name": "n", "content": ["text"]}, "content"),
    ({"name": "n", "content": ""}, "content"),
    ({"name": "n", "content": "t", "year": "2024"}, "year"),
    ({"name": "n", "content": "t", "year": 1800}, "year"),
    ({"name": "n", "content": "t", "year": 2.5}, "year"),
    ({"name": "n", "content": "t", "scene": 1}, "scene"),
    ({"name": "n", "content": "t", "section": {}}, "section"),
    ({"name": "x" * 1000, "content": "t"}, "name"),
])
def test_create_validation(api, tokens, body, field):
    assert_error(api.post("/api/rules", token=tokens[ADMIN_USER], json=body), 400, field=field)


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"), ({"name": None}, "name"), ({"content": 5}, "content"),
    ({"year": "x"}, "year"), ({"scene": []}, "scene"),
])
def test_update_validation(api, tokens, body, field):
    rule = create_rule(api, tokens[ADMIN_USER], name="Update target", content="t")
    r = api.put(f"/api/rules/{rule['id']}", token=tokens[ADMIN_USER], json=body)
    assert_error(r, 400, field=field)
    after = api.get(f"/api/rules/{rule['id']}", token=tokens[ADMIN_USER], expect=200).body
    assert after["name"] == "Update target" and after["content"] == "t"


def test_permissions(api, tokens):
    # operator: rules read/write, no delete
    rule = create_rule(api, tokens["operator"], name="Operator rule", content="op text")
    api.put(f"/api/rules/{rule['id']}", token=tokens["operator"], json={"name": "Operator rule 2"},
            expect=200)
    assert_error(api.delete(f"/api/rules/{rule['id']}", token=tokens["operator"]), 403)
    # viewer: read only
    api.get(f"/api/rules/{rule['id']}", token=tokens["viewer"], expect=200)
    api.get("/api/rules", token=tokens["viewer"], expect=200)
    assert_error(api.post("/api/rules", token=tokens["viewer"],
                          json={"name": "v", "content": "v"}), 403, code="forbidden")
    assert_error(api.put(f"/api/rules/{rule['id']}", token=tokens["viewer"],
                         json={"name": "v"}), 403)
    assert_error(api.delete(f"/api/rules/{rule['id']}", token=tokens["viewer"]), 403)
    api.get(f"/api/rules/{rule['id']}", token=tokens[ADMIN_USER], expect=200)
    api.delete(f"/api/rules/{rule['id']}", token=tokens[ADMIN_USER], expect=200)


def test_builtin_rule_is_listed_parsed_and_protected(api, tokens):
    builtin = [r for r in list_all(api, "/api/rules", "rules", tokens["viewer"]) if r["builtin"]]
    assert builtin, "the built-in eBOOK rule is seeded"
    rule = builtin[0]
    assert rule["section"] == "eBOOK"
    spec = api.get(f"/api/rules/{rule['id']}/spec", token=tokens["viewer"], expect=200).body
    assert spec["spec"]["nfo_max_width"] == 80
    assert "EPUB" in spec["spec"]["formats"]
    r = api.delete(f"/api/rules/{rule['id']}", token=tokens[ADMIN_USER])
    assert_error(r, 409, code="conflict")
    api.get(f"/api/rules/{rule['id']}", token=tokens["viewer"], expect=200)
