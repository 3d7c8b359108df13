"""Wizard steps 1-3: POST /api/wizard/create (and its alias /draft), GET /api/wizard/rules."""
import pytest

from helpers import assert_error, create_release, create_rule, list_all
from spserver import ADMIN_USER


def test_create_makes_a_draft(api, tokens, logins):
    r = api.post("/api/wizard/create", token=tokens[ADMIN_USER],
                 json={"group": "WizGroup", "release_type": "EBOOK"}, expect=201)
    rid = r.body["release_id"]
    rel = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body
    assert rel["id"] == rid
    assert rel["status"] == "draft"
    assert rel["release_type"] == "EBOOK"
    assert rel["group"] == "WizGroup"
    assert rel["user_id"] == logins[ADMIN_USER]["user"]["id"]
    assert rel["name"] is None
    assert rel["file_size"] == 0


def test_draft_alias_behaves_the_same(api, tokens, logins):
    rid = create_release(api, tokens["operator"], group="AliasGroup", path="/api/wizard/draft")
    rel = api.get(f"/api/releases/{rid}", token=tokens["operator"], expect=200).body
    assert rel["status"] == "draft" and rel["group"] == "AliasGroup"
    assert rel["user_id"] == logins["operator"]["user"]["id"]


def test_new_group_is_created_and_reused(api, tokens):
    a = create_release(api, tokens[ADMIN_USER], group="FreshGrp")
    b = create_release(api, tokens[ADMIN_USER], group="FreshGrp")
    ra = api.get(f"/api/releases/{a}", token=tokens[ADMIN_USER], expect=200).body
    rb = api.get(f"/api/releases/{b}", token=tokens[ADMIN_USER], expect=200).body
    assert ra["group_id"] == rb["group_id"]
    groups = list_all(api, "/api/groups", "groups", tokens[ADMIN_USER])
    assert [g["name"] for g in groups].count("FreshGrp") == 1


def test_explicit_rule_id(api, tokens):
    rule = create_rule(api, tokens[ADMIN_USER], name="Wizard rule", section="eBOOK", year=2024)
    rid = create_release(api, tokens[ADMIN_USER], group="RuleGrp", rule_id=rule["id"])
    rel = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body
    assert rel["rule_id"] == rule["id"]


def test_default_rule_is_an_ebook_rule(api, tokens):
    create_rule(api, tokens[ADMIN_USER], name="Default candidate", section="eBOOK", year=2025)
    rid = create_release(api, tokens[ADMIN_USER], group="DefRuleGrp")
    rel = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body
    assert rel["rule_id"] is not None
    rule = api.get(f"/api/rules/{rel['rule_id']}", token=tokens[ADMIN_USER], expect=200).body
    assert rule["section"].lower() == "ebook"


@pytest.mark.parametrize("body,field", [
    ({"release_type": "EBOOK"}, "group"),
    ({"group": "ab", "release_type": None}, "release_type"),
    ({"group": "OkGroup"}, "release_type"),
    ({"group": 12, "release_type": "EBOOK"}, "group"),
    ({"group": "a", "release_type": "EBOOK"}, "group"),
    ({"group": "x" * 31, "release_type": "EBOOK"}, "group"),
    ({"group": "-Lead", "release_type": "EBOOK"}, "group"),
    ({"group": "Trail_", "release_type": "EBOOK"}, "group"),
    ({"group": "sp ace", "release_type": "EBOOK"}, "group"),
    ({"group": "Ünicode", "release_type": "EBOOK"}, "group"),
    ({"group": "OkGroup", "release_type": "NOVEL"}, "release_type"),
    ({"group": "OkGroup", "release_type": "ebook "}, "release_type"),
    ({"group": "OkGroup", "release_type": 1}, "release_type"),
    ({"group": "OkGroup", "release_type": "EBOOK", "rule_id": "1"}, "rule_id"),
    ({"group": "OkGroup", "release_type": "EBOOK", "rule_id": -1}, "rule_id"),
    ({"group": "OkGroup", "release_type": "EBOOK", "rule_id": 99999999}, "rule_id"),
    ({"group": "OkGroup", "release_type": "EBOOK", "rule_id": 1.5}, "rule_id"),
])
@pytest.mark.parametrize("path", ["/api/wizard/create", "/api/wizard/draft"])
def test_create_validation(api, tokens, body, field, path):
    assert_error(api.post(path, token=tokens[ADMIN_USER], json=body), 400, field=field)


def test_unsupported_release_type_is_refused_clearly(api, tokens):
    r = api.post("/api/wizard/create", token=tokens[ADMIN_USER],
                 json={"group": "OkGroup", "release_type": "AUDIOBOOK"})
    body = assert_error(r, 400, field="release_type")
    assert "AUDIOBOOK" in body["message"] or "support" in body["message"].lower()


def test_viewer_cannot_create(api, tokens):
    for path in ("/api/wizard/create", "/api/wizard/draft"):
        r = api.post(path, token=tokens["viewer"], json={"group": "ViewGrp", "release_type": "EBOOK"})
        assert_error(r, 403, code="forbidden")


def test_wizard_rules_lists_rules_for_a_type(api, tokens):
    create_rule(api, tokens[ADMIN_USER], name="Listed eBOOK rule", section="eBOOK", year=2023)
    body = api.get("/api/wizard/rules", token=tokens["viewer"], params={"release_type": "EBOOK"},
                   expect=200).body
    assert body["rules"], "the eBOOK rules are listed"
    assert all(r["section"].lower() == "ebook" for r in body["rules"])
    api.get("/api/wizard/rules", token=tokens["viewer"], expect=200)
    for bad in ("BOGUS", "AUDIOBOOK"):
        assert_error(api.get("/api/wizard/rules", token=tokens["viewer"],
                             params={"release_type": bad}), 400, field="release_type")


def test_group_names_are_case_insensitive(api, tokens):
    a = create_release(api, tokens[ADMIN_USER], group="CaseGrp")
    b = create_release(api, tokens[ADMIN_USER], group="casegrp")
    ra = api.get(f"/api/releases/{a}", token=tokens[ADMIN_USER], expect=200).body
    rb = api.get(f"/api/releases/{b}", token=tokens[ADMIN_USER], expect=200).body
    assert ra["group_id"] == rb["group_id"]
    assert rb["group"] == "CaseGrp", "the group keeps the spelling it was created with"
