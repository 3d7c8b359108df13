"""/api/releases: list (filters, search, sort, pagination), get, put, delete, permissions."""
import math

import pytest

from helpers import assert_error, create_release, list_all
from spserver import ADMIN_USER

SORT_KEYS = ["created_at", "updated_at", "name", "release_type", "status", "file_size"]


@pytest.fixture(scope="module")
def data(api, tokens, logins):
    """Releases of two owners in two groups, some with searchable metadata."""
    adm, op = tokens[ADMIN_USER], tokens["operator"]
    ids = {
        "a1": create_release(api, adm, group="AlphaGrp"),
        "a2": create_release(api, adm, group="AlphaGrp"),
        "a3": create_release(api, adm, group="GammaGrp"),
        "o1": create_release(api, op, group="BetaGrp"),
        "o2": create_release(api, op, group="BetaGrp"),
    }
    api.put(f"/api/releases/{ids['a1']}", token=adm, expect=200, json={"release_metadata": {
        "title": "Les Misérables", "author": "Victor Hugo", "isbn": "9782070409228"}})
    api.put(f"/api/releases/{ids['o1']}", token=op, expect=200, json={"release_metadata": {
        "title": "Der Prozeß", "author": "Franz Kafka", "publisher": "Zephyrion Verlag"}})
    return {"ids": ids, "admin_id": logins[ADMIN_USER]["user"]["id"],
            "operator_id": logins["operator"]["user"]["id"]}


def _ids(body):
    return [r["id"] for r in body["releases"]]


def test_list_defaults_and_pagination(api, tokens, data):
    body = api.get("/api/releases", token=tokens[ADMIN_USER], expect=200).body
    p = body["pagination"]
    assert p["page"] == 1 and p["per_page"] == 20
    assert p["total"] >= 5
    assert p["pages"] == math.ceil(p["total"] / 20)
    assert len(body["releases"]) == min(20, p["total"])
    # Default order: newest first.
    created = [r["created_at"] for r in body["releases"]]
    assert created == sorted(created, reverse=True)


def test_pages_partition_the_list(api, tokens, data):
    total = api.get("/api/releases", token=tokens[ADMIN_USER], expect=200).body["pagination"]["total"]
    seen = []
    pages = math.ceil(total / 2)
    for page in range(1, pages + 1):
        body = api.get("/api/releases", token=tokens[ADMIN_USER],
                       params={"per_page": 2, "page": page}, expect=200).body
        assert body["pagination"] == {"page": page, "per_page": 2, "total": total, "pages": pages}
        seen += _ids(body)
    assert len(seen) == len(set(seen)) == total
    beyond = api.get("/api/releases", token=tokens[ADMIN_USER],
                     params={"per_page": 2, "page": pages + 1}, expect=200).body
    assert beyond["releases"] == [] and beyond["pagination"]["total"] == total


def test_filters(api, tokens, data):
    adm = tokens[ADMIN_USER]
    ids = data["ids"]
    mine_op = list_all(api, "/api/releases", "releases", tokens["operator"], mine=1)
    assert {ids["o1"], ids["o2"]} <= {r["id"] for r in mine_op}
    assert all(r["user_id"] == data["operator_id"] for r in mine_op)
    by_user = list_all(api, "/api/releases", "releases", adm, user_id=data["operator_id"])
    assert {r["id"] for r in by_user} == {r["id"] for r in mine_op}
    a1 = api.get(f"/api/releases/{ids['a1']}", token=adm, expect=200).body
    by_group = list_all(api, "/api/releases", "releases", adm, group_id=a1["group_id"])
    assert {ids["a1"], ids["a2"]} <= {r["id"] for r in by_group}
    assert ids["a3"] not in {r["id"] for r in by_group}
    assert all(r["group"] == "AlphaGrp" for r in by_group)
    drafts = list_all(api, "/api/releases", "releases", adm, status="draft")
    assert set(ids.values()) <= {r["id"] for r in drafts}
    assert all(r["status"] == "draft" for r in drafts)
    completed = list_all(api, "/api/releases", "releases", adm, status="completed")
    # other test files pack releases on the same server: only ours must be absent
    assert all(r["status"] == "completed" for r in completed)
    assert not set(ids.values()) & {r["id"] for r in completed}
    ebooks = list_all(api, "/api/releases", "releases", adm, release_type="EBOOK")
    assert set(ids.values()) <= {r["id"] for r in ebooks}
    both = list_all(api, "/api/releases", "releases", adm, user_id=data["admin_id"],
                    group_id=a1["group_id"], status="draft", release_type="EBOOK")
    assert {ids["a1"], ids["a2"]} <= {r["id"] for r in both}
    assert all(r["user_id"] == data["admin_id"] for r in both)


@pytest.mark.parametrize("query,key", [
    ("miserables", "a1"),      # accent-insensitive
    ("MISÉRABLES", "a1"),
    ("hugo", "a1"),            # author
    ("9782070409228", "a1"),   # ISBN
    ("prozess", None),         # ß is not "ss" for unicode61: no match expected either way
    ("kafka", "o1"),
    ("zephyrion", "o1"),       # publisher
    ("GammaGrp", "a3"),        # group
])
def test_search(api, tokens, data, query, key):
    found = {r["id"] for r in list_all(api, "/api/releases", "releases", tokens[ADMIN_USER],
                                       search=query)}
    if key is not None:
        assert data["ids"][key] in found, f"search {query!r} misses release {key}"
    others = {data["ids"][k] for k in ("a2", "o2")}
    assert not (found & others), f"search {query!r} matched unrelated releases"


def test_search_with_query_syntax_characters_never_fails(api, tokens, data):
    for q in ['"', '""', "'", "*", "a OR", "AND", "NEAR(", "(", ")", "-x", "^", ":", "title:x",
              "'; DROP TABLE releases; --", "%", "_", "\\", "🙂", "x" * 200, "a\u0301"]:
        r = api.get("/api/releases", token=tokens[ADMIN_USER], params={"search": q})
        assert r.status_code in (200, 400), f"search {q!r}: {r.status_code} {r.text[:200]}"
    api.get("/api/releases", token=tokens[ADMIN_USER], params={"search": "nothing-matches-this"},
            expect=200)


def _sort_value(r, key):
    v = r[key]
    return (v is not None, v)  # NULL names sort first ascending (SQLite), last descending


@pytest.mark.parametrize("sort_by", SORT_KEYS)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort(api, tokens, data, sort_by, order):
    rows = list_all(api, "/api/releases", "releases", tokens[ADMIN_USER], sort_by=sort_by,
                    sort_order=order)
    keys = [(_sort_value(r, sort_by), r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=(order == "desc")), \
        f"sort_by={sort_by} {order}: not ordered by ({sort_by}, id)"


@pytest.mark.parametrize("params,field", [
    ({"page": "0"}, "page"), ({"page": "-1"}, "page"), ({"page": "abc"}, "page"),
    ({"page": "1.5"}, "page"), ({"page": "99999999999999999999"}, "page"),
    ({"per_page": "0"}, "per_page"), ({"per_page": "101"}, "per_page"),
    ({"per_page": "x"}, "per_page"), ({"per_page": "-5"}, "per_page"),
    ({"status": "done"}, "status"), ({"release_type": "VHS"}, "release_type"),
    ({"sort_by": "password_hash"}, "sort_by"), ({"sort_by": "id;drop"}, "sort_by"),
    ({"sort_order": "up"}, "sort_order"),
    ({"user_id": "abc"}, "user_id"), ({"user_id": "0"}, "user_id"),
    ({"group_id": "1e3"}, "group_id"), ({"mine": "maybe"}, "mine"),
    ({"search": "x" * 1000}, "search"),
])
def test_list_validation(api, tokens, params, field):
    assert_error(api.get("/api/releases", token=tokens[ADMIN_USER], params=params), 400,
                 field=field)


def test_get(api, tokens, data):
    rid = data["ids"]["a1"]
    rel = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body
    assert rel["release_metadata"]["title"] == "Les Misérables"
    # Readers see releases (viewer has releases:read).
    api.get(f"/api/releases/{rid}", token=tokens["viewer"], expect=200)


def test_put_merges_metadata_field_by_field(api, tokens, data):
    rid = data["ids"]["a2"]
    adm = tokens[ADMIN_USER]
    before = api.get(f"/api/releases/{rid}", token=adm, expect=200).body
    api.put(f"/api/releases/{rid}", token=adm, json={"release_metadata": {"title": "Merged"}},
            expect=200)
    r = api.put(f"/api/releases/{rid}", token=adm,
                json={"release_metadata": {"author": "Someone", "year": 2020}}, expect=200).body
    assert r["release_metadata"]["title"] == "Merged"
    assert r["release_metadata"]["author"] == "Someone"
    assert r["release_metadata"]["year"] == 2020
    assert r["updated_at"] >= before["updated_at"]
    got = api.get(f"/api/releases/{rid}", token=adm, expect=200).body
    assert got["release_metadata"] == r["release_metadata"]
    # The change is searchable at once.
    found = {x["id"] for x in list_all(api, "/api/releases", "releases", adm, search="merged")}
    assert rid in found


def test_put_config(api, tokens, data):
    rid = data["ids"]["a2"]
    r = api.put(f"/api/releases/{rid}", token=tokens[ADMIN_USER],
                json={"config": {"zip_size": 5000000}}, expect=200).body
    assert r["config"]["zip_size"] == 5000000


@pytest.mark.parametrize("body,field_prefix", [
    ({"release_metadata": "title"}, "release_metadata"),
    ({"release_metadata": None}, "release_metadata"),
    ({"release_metadata": {"title": 5}}, "release_metadata"),
    ({"release_metadata": {"year": "MMXX"}}, "release_metadata"),
    ({"release_metadata": {"year": 99999}}, "release_metadata"),
    ({"release_metadata": {"isbn": "not-an-isbn!"}}, "release_metadata"),
    ({"release_metadata": {"title": "x" * 5000}}, "release_metadata"),
    ({"config": [1, 2]}, "config"),
    ({"config": {"zip_size": "big"}}, "config"),
    ({"status": "finished"}, "status"),
    ({"status": 3}, "status"),
])
def test_put_validation(api, tokens, data, body, field_prefix):
    r = api.put(f"/api/releases/{data['ids']['a2']}", token=tokens[ADMIN_USER], json=body)
    err = assert_error(r, 400)
    assert err.get("field", "").startswith(field_prefix), err


@pytest.mark.parametrize("status", ["completed", "processing", "failed"])
def test_put_illegal_status_transition_is_409(api, tokens, data, status):
    rid = data["ids"]["a3"]
    r = api.put(f"/api/releases/{rid}", token=tokens[ADMIN_USER], json={"status": status})
    assert_error(r, 409, code="conflict")
    assert api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER],
                   expect=200).body["status"] == "draft"


def test_put_permissions(api, tokens, data):
    ids = data["ids"]
    body = {"release_metadata": {"title": "Nope"}}
    assert_error(api.put(f"/api/releases/{ids['o2']}", token=tokens["viewer"], json=body), 403)
    # operator (releases:write, no mod) may change their own release, not another's
    assert_error(api.put(f"/api/releases/{ids['a2']}", token=tokens["operator"], json=body), 403)
    api.put(f"/api/releases/{ids['o2']}", token=tokens["operator"],
            json={"release_metadata": {"title": "Operator owns this"}}, expect=200)
    # admin may change anyone's
    api.put(f"/api/releases/{ids['o2']}", token=tokens[ADMIN_USER],
            json={"release_metadata": {"author": "Admin edit"}}, expect=200)
    assert_error(api.put("/api/releases/99999999", token=tokens[ADMIN_USER], json=body), 404)


def test_delete(api, tokens, logins):
    adm, op = tokens[ADMIN_USER], tokens["operator"]
    own = create_release(api, op, group="DelGrp")
    other = create_release(api, adm, group="DelGrp")
    by_admin = create_release(api, op, group="DelGrp")
    assert_error(api.delete(f"/api/releases/{own}", token=tokens["viewer"]), 403)
    assert_error(api.delete(f"/api/releases/{other}", token=op), 403)
    api.delete(f"/api/releases/{own}", token=op, expect=200)
    assert_error(api.get(f"/api/releases/{own}", token=op), 404)
    assert_error(api.delete(f"/api/releases/{own}", token=op), 404)
    api.delete(f"/api/releases/{by_admin}", token=adm, expect=200)
    api.delete(f"/api/releases/{other}", token=adm, expect=200)
    ids = {r["id"] for r in list_all(api, "/api/releases", "releases", adm)}
    assert not ({own, other, by_admin} & ids)


def test_put_never_moves_the_status(api, tokens):
    """The lifecycle belongs to the packaging job: finalize queues a release and creates its
    job in one step, the job moves it on. A PUT that queued a draft would leave it waiting for
    a job nobody created, so every status change is refused, pointing to finalize."""
    adm = tokens[ADMIN_USER]
    rid = create_release(api, adm, group="FlowGrp")
    for status in ("queued", "processing", "completed", "failed"):
        err = assert_error(api.put(f"/api/releases/{rid}", token=adm, json={"status": status}),
                           409, field="status", code="conflict")
        assert f"/api/wizard/{rid}/finalize" in err["message"], err
    r = api.get(f"/api/releases/{rid}", token=adm, expect=200).body
    assert r["status"] == "draft"
    assert r["parent_id"] is None  # made by the wizard, not by an action
    assert api.get("/api/jobs", token=adm, params={"release_id": rid},
                   expect=200).body["pagination"]["total"] == 0
    # the current status may be sent back along with other changes
    r = api.put(f"/api/releases/{rid}", token=adm, expect=200,
                json={"status": "draft", "release_metadata": {"title": "Still A Draft"}}).body
    assert r["status"] == "draft" and r["release_metadata"]["title"] == "Still A Draft"
    drafts = list_all(api, "/api/releases", "releases", adm, status="draft")
    assert rid in {d["id"] for d in drafts}


@pytest.mark.parametrize("meta,field", [
    ({"year": 0}, "release_metadata.year"),
    ({"year": "2020"}, "release_metadata.year"),
    ({"source": "WEB"}, "release_metadata.source"),
    ({"release_date": "2024-13-45"}, "release_metadata.release_date"),
    ({"release_date": "yesterday"}, "release_metadata.release_date"),
    ({"publish_date": "20-01"}, "release_metadata.publish_date"),
    ({"isbn": "123"}, "release_metadata.isbn"),
    ({"url": "javascript:alert(1)"}, "release_metadata.url"),
    ({"book_kind": "novel"}, "release_metadata.book_kind"),
    ({"volume": -1}, "release_metadata.volume"),
    ({"no_such_field": "x"}, "release_metadata.no_such_field"),
])
def test_put_metadata_validation_names_the_field(api, tokens, data, meta, field):
    rid = data["ids"]["a3"]
    before = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body
    r = api.put(f"/api/releases/{rid}", token=tokens[ADMIN_USER], json={"release_metadata": meta})
    assert_error(r, 400, field=field)
    after = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body
    assert after["release_metadata"] == before["release_metadata"], "a refused PUT changed data"


def test_put_metadata_accepts_valid_values_and_null_removes(api, tokens, data):
    rid = data["ids"]["a3"]
    adm = tokens[ADMIN_USER]
    meta = {"title": "Valid", "author": "A. Author", "source": "RETAiL", "release_date": "2024-02-29",
            "publish_date": "2023-11", "isbn": "978-0-306-40615-7", "url": "https://example.org/b",
            "book_kind": "technical", "volume": 2, "issue": "7", "language": "English"}
    got = api.put(f"/api/releases/{rid}", token=adm, json={"release_metadata": meta},
                  expect=200).body["release_metadata"]
    for k, v in meta.items():
        assert got[k] == v, (k, got)
    got = api.put(f"/api/releases/{rid}", token=adm,
                  json={"release_metadata": {"url": None, "volume": None}},
                  expect=200).body["release_metadata"]
    assert "url" not in got and "volume" not in got and got["title"] == "Valid"


def test_put_rule_id(api, tokens, data):
    rid = data["ids"]["a3"]
    adm = tokens[ADMIN_USER]
    rule = api.post("/api/rules", token=adm, json={"name": "Release rule", "content": "t"},
                    expect=201).body
    assert api.put(f"/api/releases/{rid}", token=adm, json={"rule_id": rule["id"]},
                   expect=200).body["rule_id"] == rule["id"]
    assert_error(api.put(f"/api/releases/{rid}", token=adm, json={"rule_id": 99999999}), 400,
                 field="rule_id")
    assert_error(api.put(f"/api/releases/{rid}", token=adm, json={"rule_id": "1"}), 400,
                 field="rule_id")
    # Deleting the rule leaves the release without one.
    api.delete(f"/api/rules/{rule['id']}", token=adm, expect=200)
    assert api.get(f"/api/releases/{rid}", token=adm, expect=200).body["rule_id"] is None
    assert api.put(f"/api/releases/{rid}", token=adm, json={"rule_id": None},
                   expect=200).body["rule_id"] is None
