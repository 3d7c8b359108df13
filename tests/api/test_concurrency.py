"""Races a user can cause with two tabs or a script: the server must stay consistent."""
import threading

from helpers import Api, create_release, forge, list_all
from spserver import ADMIN_USER


def _parallel(n, fn):
    """Run fn(i) in n threads started together; returns the results in order."""
    results = [None] * n
    errors = []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(30)
            results[i] = fn(i)
        except Exception as e:  # re-raised below with the thread's index
            errors.append((i, e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def test_concurrent_drafts_in_a_new_group_share_one_group(server, api, tokens):
    def create(i):
        return Api(server.base).post("/api/wizard/create", token=tokens[ADMIN_USER],
                                     json={"group": "RaceGrp", "release_type": "EBOOK"})

    rs = _parallel(8, create)
    ok = [r for r in rs if r.status_code == 201]
    assert all(r.status_code in (201, 503) for r in rs), [r.status_code for r in rs]
    assert ok, "no concurrent create succeeded"
    group_ids = {api.get(f"/api/releases/{r.body['release_id']}", token=tokens[ADMIN_USER],
                         expect=200).body["group_id"] for r in ok}
    assert len(group_ids) == 1
    names = [g["name"] for g in list_all(api, "/api/groups", "groups", tokens["viewer"],
                                         search="RaceGrp")]
    assert names == ["RaceGrp"]


def test_concurrent_metadata_patches_lose_no_field(server, api, tokens):
    rid = create_release(api, tokens[ADMIN_USER], group="MergeGrp")
    fields = ["title", "author", "publisher", "genre"]
    last = {}

    def patch(i):
        c = Api(server.base)
        field = fields[i]
        for k in range(10):
            r = c.put(f"/api/releases/{rid}", token=tokens[ADMIN_USER],
                      json={"release_metadata": {field: f"{field} {k}"}})
            assert r.status_code in (200, 503), r.text[:300]
            if r.status_code == 200:
                last[field] = f"{field} {k}"

    _parallel(len(fields), patch)
    meta = api.get(f"/api/releases/{rid}", token=tokens[ADMIN_USER], expect=200).body[
        "release_metadata"]
    for field, value in last.items():
        assert meta.get(field) == value, f"{field}: lost update ({meta})"


def test_a_refresh_token_is_used_once_even_in_a_race(server, key, logins):
    refresh = forge(key, logins["viewer"]["refresh_token"])

    def use(i):
        return Api(server.base).post("/api/auth/refresh", token=refresh).status_code

    codes = _parallel(6, use)
    assert sorted(codes) == [200] + [401] * 5, codes
