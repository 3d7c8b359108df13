"""GET /api/rules/{id}/spec for rules users write: the constraints their text states are parsed
when the rule is created and again when its content changes."""
from helpers import create_rule
from spserver import ADMIN_USER

TEXT = ("[2023] eBOOK rules of the Test scene\n\n"
        "1. Formats: EPUB and PDF only; DRM must be removed.\n"
        "2. Volume sizes: 5, 10 or 50 million bytes, at most 99 files per ZIP.\n"
        "3. Directory name: at most 200 characters.\n"
        "4. NFO: at most 76 columns, CP437.\n")


def test_spec_follows_the_rule_text(api, tokens):
    tok = tokens[ADMIN_USER]
    rule = create_rule(api, tok, name="Parsed rule", content=TEXT)
    spec = api.get(f"/api/rules/{rule['id']}/spec", token=tok, expect=200).body["spec"]
    assert spec["year"] == 2023 and spec["section"] == "eBOOK"
    assert spec["formats"] == ["PDF", "EPUB"]
    assert spec["drm_allowed"] is False
    assert spec["zip_sizes"] == [5000000, 10000000, 50000000]
    assert spec["max_files_per_zip"] == 99
    assert spec["name_max_length"] == 200
    assert spec["nfo_max_width"] == 76 and spec["nfo_encoding"] == "CP437"
    api.put(f"/api/rules/{rule['id']}", token=tok,
            json={"content": "NFO files: at most 70 columns.\n"}, expect=200)
    spec = api.get(f"/api/rules/{rule['id']}/spec", token=tokens["viewer"], expect=200).body
    assert spec == {"rule_id": rule["id"], "spec": {"nfo_max_width": 70}}
    # a change that keeps the text keeps its spec
    api.put(f"/api/rules/{rule['id']}", token=tok, json={"name": "Renamed"}, expect=200)
    assert api.get(f"/api/rules/{rule['id']}/spec", token=tok,
                   expect=200).body["spec"] == {"nfo_max_width": 70}
