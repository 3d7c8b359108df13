"""A packed release's files: the listing with sizes and CRC32, each file streamed (Range → 206,
unsatisfiable → 416), the NFO as UTF-8 text; the release actions (NFOFiX, READNFO, REPACK,
DiRFiX) producing new linked releases; deleting a release removes its files."""
import os
import re
import subprocess
import zlib

import pytest

import books
from flow import packed_release, release_dir, scenepacker_check, wait_job
from helpers import assert_error, create_release
from spserver import ADMIN_USER


@pytest.fixture(scope="module")
def packed(api, tokens):
    """(release_id, name, epub bytes) of a release packed by the operator."""
    epub = books.make_epub(title="Files And Ranges", author="Ray Range", seed=31, filler=50000)
    rid, name = packed_release(api, tokens["operator"], epub, "ranges.epub", group="FileGrp")
    return rid, name, epub


def test_files_listing_matches_the_disk(api, server, tokens, packed):
    rid, name, _ = packed
    body = api.get(f"/api/releases/{rid}/files", token=tokens["operator"], expect=200).body
    assert body["release_id"] == rid and body["name"] == name
    d = release_dir(server, name)
    assert sorted(f["name"] for f in body["files"]) == sorted(os.listdir(d))
    for f in body["files"]:
        with open(os.path.join(d, f["name"]), "rb") as fh:
            data = fh.read()
        assert f["size"] == len(data)
        assert f["crc32"] == "%08X" % (zlib.crc32(data) & 0xFFFFFFFF)
    # anyone with releases:read may look; strangers to the API may not
    api.get(f"/api/releases/{rid}/files", token=tokens["viewer"], expect=200)
    assert_error(api.get(f"/api/releases/{rid}/files"), 401)
    assert_error(api.get("/api/releases/99999999/files", token=tokens["viewer"]), 404)
    # a draft has no files yet
    draft = create_release(api, tokens["operator"], group="FileGrp")
    assert api.get(f"/api/releases/{draft}/files", token=tokens["operator"],
                   expect=200).body["files"] == []
    assert_error(api.get(f"/api/releases/{draft}/nfo", token=tokens["operator"]), 404)


def test_download_with_ranges(api, server, tokens, packed):
    rid, name, _ = packed
    tok = tokens["viewer"]
    files = api.get(f"/api/releases/{rid}/files", token=tok, expect=200).body["files"]
    z = [f for f in files if f["name"].endswith(".zip")][0]
    with open(os.path.join(release_dir(server, name), z["name"]), "rb") as fh:
        data = fh.read()
    url = f"/api/releases/{rid}/files/{z['name']}"
    full = api.get(url, token=tok, expect=200)
    assert full.content == data
    assert full.headers["Content-Type"] == "application/zip"
    assert full.headers["Accept-Ranges"] == "bytes"
    assert z["name"] in full.headers["Content-Disposition"]
    size = len(data)
    for rng, lo, hi in [("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1),
                        ("bytes=-50", size - 50, size - 1), (f"bytes=10-{size + 500}", 10,
                                                             size - 1)]:
        r = api.get(url, token=tok, headers={"Range": rng}, expect=206)
        assert r.content == data[lo:hi + 1]
        assert r.headers["Content-Range"] == f"bytes {lo}-{hi}/{size}"
    r = api.get(url, token=tok, headers={"Range": f"bytes={size}-"})
    assert_error(r, 416, field="Range")
    assert r.headers["Content-Range"] == f"bytes */{size}"
    # several ranges, or nonsense: the whole file
    for rng in ("bytes=0-1,5-6", "pages=1-2", "bytes=5-2"):
        assert api.get(url, token=tok, headers={"Range": rng}, expect=200).content == data
    h = api.request("HEAD", url, token=tok, expect=200)
    assert int(h.headers["Content-Length"]) == size
    # only the files the release lists are served
    for bad in ("nope.zip", "..%2F..%2Fscenepacker.db", ".sp-pack-x", "%2Fetc%2Fpasswd"):
        assert_error(api.get(f"/api/releases/{rid}/files/{bad}", token=tok), 404)
    nfo = [f for f in files if f["name"].endswith(".nfo")][0]
    r = api.get(f"/api/releases/{rid}/files/{nfo['name']}", token=tok, expect=200)
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert len(r.content) == nfo["size"]


def test_nfo_is_utf8_text(api, server, tokens, packed):
    rid, name, _ = packed
    r = api.get(f"/api/releases/{rid}/nfo", token=tokens["viewer"], expect=200)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "charset=utf-8" in r.headers["Content-Type"].lower()
    text = r.content.decode("utf-8")
    assert name in text and "Files And Ranges" in text
    nfo = [n for n in os.listdir(release_dir(server, name)) if n.endswith(".nfo")][0]
    with open(os.path.join(release_dir(server, name), nfo), "rb") as fh:
        assert fh.read().decode("cp437") == text


ACTIONS = [
    ("nfofix", "NFOFiX", {"reason": "the proof URL was wrong"}),
    ("readnfo", "READNFO", {}),
    ("repack", "REPACK", {"zip_size": "10MB", "template_id": "plain"}),
    ("dirfix", "DiRFiX", {"release_metadata": {"title": "Files And Ranges Fixed"}}),
]


@pytest.mark.parametrize("action,tag,body", ACTIONS)
def test_actions_make_linked_releases(api, server, tokens, packed, action, tag, body):
    rid, name, epub = packed
    tok = tokens["operator"]
    q = api.post(f"/api/releases/{rid}/actions/{action}", token=tok, json=body,
                 expect=202).body
    assert q["release_id"] != rid and tag in q["message"]
    st = wait_job(api, tok, q["job_id"])
    assert st["status"] == "completed", api.get(f"/api/jobs/{q['job_id']}/logs", token=tok).body
    job = api.get(f"/api/jobs/{q['job_id']}", token=tok, expect=200).body
    assert job["job_type"] == action
    new = api.get(f"/api/releases/{q['release_id']}", token=tok, expect=200).body
    assert new["status"] == "completed"
    assert f".{tag}." in new["name"] and new["name"] != name
    assert new["config"]["parent"] == name
    assert new["parent_id"] == rid  # the link to the original, in the Release object
    if action == "dirfix":
        assert "Fixed" in new["name"]
    files = api.get(f"/api/releases/{q['release_id']}/files", token=tok, expect=200).body["files"]
    nfo = api.get(f"/api/releases/{q['release_id']}/nfo", token=tok, expect=200).body
    if action == "nfofix":
        assert [f["name"][-4:] for f in files] == [".nfo"]  # the corrected NFO alone
        assert "the proof URL was wrong" in nfo
    else:
        assert len(files) == 3
        p = scenepacker_check(server, release_dir(server, new["name"]))
        assert p.returncode == 0, p.stdout + p.stderr
        z = [f["name"] for f in files if f["name"].endswith(".zip")][0]
        out = subprocess.run(["unzip", "-p", os.path.join(release_dir(server, new["name"]), z),
                              "*.epub"], capture_output=True)
        assert out.stdout == epub
    if action != "readnfo":  # the NFO names the release it fixes (long values wrap)
        assert name in re.sub(r"\s+", "", nfo)
    # the original is untouched
    orig = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    assert orig["name"] == name and orig["parent_id"] is None


def test_action_errors(api, tokens, packed):
    rid, name, _ = packed
    tok = tokens["operator"]
    assert_error(api.post(f"/api/releases/{rid}/actions/explode", token=tok), 404)
    assert_error(api.post("/api/releases/99999999/actions/repack", token=tok), 404)
    assert_error(api.post(f"/api/releases/{rid}/actions/repack", token=tokens["viewer"]), 403)
    draft = create_release(api, tok, group="FileGrp")
    assert_error(api.post(f"/api/releases/{draft}/actions/repack", token=tok), 409)
    for body, field in [({"zip_size": "3MB"}, "zip_size"), ({"template_id": "nope"},
                                                           "template_id"),
                        ({"release_metadata": {"isbn": "12"}}, "release_metadata.isbn"),
                        ({"colour": 1}, "body"), ({"reason": ""}, "reason")]:
        assert_error(api.post(f"/api/releases/{rid}/actions/readnfo", token=tok, json=body),
                     400, field=field)
    r = api.post(f"/api/releases/{rid}/actions/readnfo", token=tok, data=b"[]",
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, field="body")
    r = api.post(f"/api/releases/{rid}/actions/readnfo", token=tok, data=b"<a/>",
                 headers={"Content-Type": "application/xml"})
    assert_error(r, 415)
    r = api.post(f"/api/releases/{rid}/actions/readnfo", token=tok,
                 data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                 headers={"Content-Type": "application/json"})
    assert_error(r, 413)


def test_same_fix_twice_is_a_conflict(api, tokens):
    tok = tokens[ADMIN_USER]
    rid, _ = packed_release(api, tok, books.make_epub(title="Twice Fixed", seed=32), "t.epub",
                            group="TwiceGrp")
    q = api.post(f"/api/releases/{rid}/actions/repack", token=tok, expect=202).body
    wait_job(api, tok, q["job_id"])
    assert_error(api.post(f"/api/releases/{rid}/actions/repack", token=tok), 409, field="name")


def test_delete_removes_the_files(api, server, tokens):
    tok = tokens["operator"]
    rid, name = packed_release(api, tok, books.make_epub(title="Soon Gone", seed=33),
                               "gone.epub", group="GoneGrp")
    rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    upload_path = os.path.join(server.data_dir, rel["file_path"])
    assert os.path.isdir(release_dir(server, name)) and os.path.isfile(upload_path)
    api.delete(f"/api/releases/{rid}", token=tok, expect=200)
    assert not os.path.exists(release_dir(server, name))
    assert not os.path.exists(upload_path)
    assert_error(api.get(f"/api/releases/{rid}/files", token=tok), 404)
