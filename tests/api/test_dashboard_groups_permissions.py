"""/api/dashboard/stats, /api/groups, /api/permissions."""
import pytest

from helpers import assert_error, create_release, list_all
from spserver import ADMIN_USER


def _stats(api, token):
    return api.get("/api/dashboard/stats", token=token, expect=200).body


def test_stats_add_up(api, tokens):
    create_release(api, tokens[ADMIN_USER], group="DashGrp")
    s = _stats(api, tokens[ADMIN_USER])
    total = api.get("/api/releases", token=tokens[ADMIN_USER], expect=200).body["pagination"]["total"]
    assert s["total_releases"] == total
    assert sum(s["releases_by_status"].values()) == total
    assert sum(s["releases_by_type"].values()) == total
    mine = api.get("/api/releases", token=tokens[ADMIN_USER], params={"mine": 1},
                   expect=200).body["pagination"]["total"]
    assert s["user_releases"] == mine
    assert s["user"]["username"] == ADMIN_USER
    assert {"EBOOK", "AUDIOBOOK", "COMIC", "MAGAZINE"} <= set(s["releases_by_type"])
    recent = s["recent_releases"]
    assert 1 <= len(recent) <= 5
    newest = api.get("/api/releases", token=tokens[ADMIN_USER], params={"per_page": 5},
                     expect=200).body["releases"]
    assert [r["id"] for r in recent] == [r["id"] for r in newest]


def test_writes_show_at_once(api, tokens):
    before = _stats(api, tokens["operator"])
    rid = create_release(api, tokens["operator"], group="DashGrp")
    after = _stats(api, tokens["operator"])
    assert after["total_releases"] == before["total_releases"] + 1
    assert after["user_releases"] == before["user_releases"] + 1
    assert after["releases_by_status"]["draft"] == before["releases_by_status"]["draft"] + 1
    assert after["recent_releases"][0]["id"] == rid
    api.delete(f"/api/releases/{rid}", token=tokens["operator"], expect=200)
    gone = _stats(api, tokens["operator"])
    assert gone["total_releases"] == before["total_releases"]
    assert gone["user_releases"] == before["user_releases"]


def test_per_user_fields_are_the_callers(api, tokens):
    create_release(api, tokens[ADMIN_USER], group="DashGrp")
    admin = _stats(api, tokens[ADMIN_USER])
    viewer = _stats(api, tokens["viewer"])
    assert viewer["user"]["username"] == "viewer"
    assert viewer["user_releases"] == 0 and viewer["user_jobs"] == 0
    assert viewer["total_releases"] == admin["total_releases"]
    assert admin["user_releases"] >= 1


def test_groups(api, tokens):
    create_release(api, tokens[ADMIN_USER], group="ListedGrp")
    body = api.get("/api/groups", token=tokens["viewer"], expect=200).body
    assert body["pagination"]["page"] == 1
    names = [g["name"] for g in list_all(api, "/api/groups", "groups", tokens["viewer"])]
    assert "ListedGrp" in names
    assert len(names) == len(set(n.lower() for n in names)), "group names are unique"
    one = api.get("/api/groups", token=tokens["viewer"], params={"per_page": 1}, expect=200).body
    assert len(one["groups"]) == 1
    found = api.get("/api/groups", token=tokens["viewer"], params={"search": "listedgr"},
                    expect=200).body["groups"]
    assert [g["name"] for g in found] == ["ListedGrp"]
    assert found[0]["release_count"] >= 1


@pytest.mark.parametrize("params,field", [({"page": "0"}, "page"), ({"per_page": "101"}, "per_page"),
                                          ({"page": "two"}, "page")])
def test_groups_validation(api, tokens, params, field):
    assert_error(api.get("/api/groups", token=tokens["viewer"], params=params), 400, field=field)


def test_permissions_list(api, tokens):
    body = api.get("/api/permissions", token=tokens[ADMIN_USER], params={"per_page": 100},
                   expect=200).body
    names = {p["name"] for p in body["permissions"]}
    expected = {f"{r}:{a}" for r in ("releases", "rules", "users", "roles", "config", "jobs", "audit")
                for a in ("read", "write", "mod", "delete")}
    assert names == expected
    assert body["pagination"]["total"] == len(expected)
    for p in body["permissions"]:
        assert p["name"] == f"{p['resource']}:{p['action']}"
