"""Wizard steps 4-9 over HTTP: upload (streamed multipart, or a URL downloaded by a job), analyze,
metadata, templates, options, finalize → a packing job → a release checked with independent
tools (unzip -t, cksfv -f, scenepacker check) whose payload is byte for byte the upload."""
import os
import subprocess
import tempfile
import zipfile

import pytest

import books
from flow import (RETAIL, BookServer, other_operator, packed_release, prepared_draft,
                  release_dir, scenepacker_check, upload, wait_job)
from helpers import Api, assert_error, create_release
from spserver import ADMIN_PASSWORD, ADMIN_USER, Server


@pytest.fixture(scope="module")
def bookserver():
    s = BookServer()
    yield s
    s.close()


def verify_release(api, server, token, rid, name, payload):
    """Download every file of release `rid` into a directory named after it and check it the
    way a scene reader would; the payload inside the ZIP must be the uploaded bytes."""
    files = api.get(f"/api/releases/{rid}/files", token=token, expect=200).body
    assert files["name"] == name
    names = [f["name"] for f in files["files"]]
    assert len([n for n in names if n.endswith(".zip")]) == 1
    assert len([n for n in names if n.endswith(".nfo")]) == 1
    assert len([n for n in names if n.endswith(".sfv")]) == 1
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, name)
        os.mkdir(d)
        for f in files["files"]:
            r = api.get(f"/api/releases/{rid}/files/{f['name']}", token=token, expect=200)
            assert len(r.content) == f["size"]
            with open(os.path.join(d, f["name"]), "wb") as out:
                out.write(r.content)
        zips = [n for n in names if n.endswith(".zip")]
        sfv = [n for n in names if n.endswith(".sfv")][0]
        for z in zips:
            p = subprocess.run(["unzip", "-t", z], cwd=d, capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr
        p = subprocess.run(["cksfv", "-f", sfv], cwd=d, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        with zipfile.ZipFile(os.path.join(d, zips[0])) as z:
            members = z.namelist()
            assert "FILE_ID.DIZ" in members
            book = [m for m in members if m != "FILE_ID.DIZ" and not m.endswith(".nfo")]
            assert len(book) == 1
            assert z.read(book[0]) == payload, "the packed book differs from the upload"
    # the release as stored on the server passes the packer's own checker
    p = scenepacker_check(server, release_dir(server, name))
    assert p.returncode == 0, p.stdout + p.stderr
    rel = api.get(f"/api/releases/{rid}", token=token, expect=200).body
    assert rel["status"] == "completed" and rel["name"] == name


def test_epub_through_the_whole_wizard(api, server, tokens):
    tok = tokens["operator"]
    epub = books.make_epub(title="Le Petit Livre", author="Marie Curie", language="fr",
                           filler=20000, seed=3)
    rid = create_release(api, tok, group="WizFlow")

    up = upload(api, tok, rid, epub, "../../My Book (draft).epub", expect=201).body
    assert up["file"]["format"] == "EPUB"
    assert up["file"]["size"] == len(epub)
    assert up["file"]["stored_as"] == "My.Book.draft.epub"  # sanitised, no path
    assert up["wizard_step"] == 4

    an = api.post(f"/api/wizard/{rid}/analyze", token=tok, expect=200).body["analysis"]
    assert an["format"] == "EPUB" and an["size"] == len(epub) and an["drm"] is False
    import hashlib
    assert an["sha256"] == hashlib.sha256(epub).hexdigest()
    assert an["metadata"]["title"] == "Le Petit Livre"
    assert an["metadata"]["author"] == "Marie Curie"
    missing = {p["field"] for p in an["problems"]}
    assert {"source", "release_date"} <= missing
    assert an["suggested_name"].startswith("Marie.Curie.Le.Petit.Livre.2019.FRENCH.RETAiL")

    md = api.post(f"/api/wizard/{rid}/metadata", token=tok,
                  json={"enriched_metadata": dict(RETAIL, genre="Science")}, expect=200).body
    name = md["name"]
    assert name == "Marie.Curie.Le.Petit.Livre.2019.FRENCH.RETAiL.ePUB.eBOOK-WizFlow"
    assert md["metadata"]["language"] == "French" and md["metadata"]["year"] == 2019
    rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    assert rel["name"] == name and rel["status"] == "draft"

    tl = api.get(f"/api/wizard/{rid}/templates", token=tok, expect=200).body
    ids = [t["id"] for t in tl["templates"]]
    assert {"classic", "plain"} <= set(ids)
    for t in tl["templates"]:
        assert t["error"] is None
        assert name in t["preview"]
        assert all(len(line) <= 80 for line in t["preview"].split("\r\n"))
    ch = api.post(f"/api/wizard/{rid}/templates", token=tok, json={"template_id": "plain"},
                  expect=200).body
    assert ch["template_id"] == "plain" and "Le Petit Livre" in ch["preview"]

    op = api.post(f"/api/wizard/{rid}/options", token=tok,
                  json={"options": {"zip_size": "10MB", "create_sfv": True,
                                    "include_extras": False}}, expect=200).body
    assert op["options"]["zip_size"] == 10000000 and op["volumes"] == 1

    fin = api.post(f"/api/wizard/{rid}/finalize", token=tok, expect=202).body
    assert fin["status"] == "queued" and fin["release_id"] == rid and fin["name"] == name
    st = wait_job(api, tok, fin["job_id"])
    assert st["status"] == "completed" and st["progress"] == 100
    verify_release(api, server, tok, rid, name, epub)
    nfo = api.get(f"/api/releases/{rid}/nfo", token=tok, expect=200)
    assert "Le Petit Livre" in nfo.body and name in nfo.body
    # a packed release is no draft: the wizard refuses to touch it
    assert_error(api.post(f"/api/wizard/{rid}/finalize", token=tok), 409, code="conflict")
    assert_error(upload(api, tok, rid, epub, "again.epub"), 409)


def test_pdf_through_the_whole_wizard(api, server, tokens):
    tok = tokens[ADMIN_USER]
    pdf = books.make_pdf(title="Engines and Gears", author="Ada Lovelace", pages=3, filler=5000)
    rid, name = packed_release(api, tok, pdf, "engines.pdf", group="PdfFlow",
                               meta={"language": "en", "book_kind": "technical",
                                     "publisher": "Gear Press"})
    assert name == "Gear.Press.Engines.and.Gears.2015.RETAiL.eBOOK-PdfFlow"
    verify_release(api, server, tok, rid, name, pdf)


def test_upload_by_url_is_a_job(api, server, tokens, bookserver):
    tok = tokens["operator"]
    epub = books.make_epub(title="Fetched Over HTTP", author="Net Writer", seed=9)
    bookserver.put("fetched.epub", epub)
    rid = create_release(api, tok, group="UrlGrp")
    q = api.post(f"/api/wizard/{rid}/upload", token=tok,
                 json={"file_url": bookserver.url("/redirect/fetched.epub")}, expect=202).body
    assert q["status"] == "pending" and q["release_id"] == rid
    job = api.get(f"/api/jobs/{q['job_id']}", token=tok, expect=200).body
    assert job["job_type"] == "download" and job["release_id"] == rid
    st = wait_job(api, tok, q["job_id"])
    assert st["status"] == "completed", api.get(f"/api/jobs/{q['job_id']}/logs", token=tok).body
    rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    assert rel["status"] == "draft" and rel["file_size"] == len(epub)
    assert rel["config"]["upload"]["stored_as"] == "fetched.epub"
    an = api.post(f"/api/wizard/{rid}/analyze", token=tok, expect=200).body["analysis"]
    assert an["metadata"]["title"] == "Fetched Over HTTP"


@pytest.mark.parametrize("path,why", [
    ("/missing", "404"),
    ("/ftp", "ftp"),
    ("/book/not-a-book.epub", "e-book"),
])
def test_bad_downloads_fail_their_job(api, tokens, bookserver, path, why):
    tok = tokens["operator"]
    bookserver.put("not-a-book.epub", b"just some text, not a book\n" * 10)
    rid = create_release(api, tok, group="BadUrl")
    q = api.post(f"/api/wizard/{rid}/upload", token=tok,
                 json={"file_url": bookserver.url(path)}, expect=202).body
    st = wait_job(api, tok, q["job_id"])
    assert st["status"] == "failed"
    job = api.get(f"/api/jobs/{q['job_id']}", token=tok, expect=200).body
    assert job["error"]
    rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    assert rel["file_path"] is None and rel["status"] == "draft"


@pytest.mark.parametrize("body,field", [
    ({}, "file_url"),
    ({"file_url": 5}, "file_url"),
    ({"file_url": "ftp://example.com/x.epub"}, "file_url"),
    ({"file_url": "file:///etc/passwd"}, "file_url"),
    ({"file_url": "http://"}, "file_url"),
    ({"file_url": "http://exa mple.com/x"}, "file_url"),
])
def test_upload_url_validation(api, tokens, body, field):
    rid = create_release(api, tokens["operator"], group="UrlVal")
    assert_error(api.post(f"/api/wizard/{rid}/upload", token=tokens["operator"], json=body),
                 400, field=field)


def test_lying_extension_is_refused(api, tokens):
    tok = tokens["operator"]
    rid = create_release(api, tok, group="LieGrp")
    body = assert_error(upload(api, tok, rid, books.make_pdf(), "really-a-pdf.epub"), 400,
                        field="file")
    assert "extension" in body["message"]
    assert_error(upload(api, tok, rid, books.make_epub(), "book.txt"), 400, field="file")
    assert_error(upload(api, tok, rid, b"plain text " * 100, "notes.pdf"), 400, field="file")
    rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
    assert rel["file_path"] is None
    # without an extension the bytes name the format
    up = upload(api, tok, rid, books.make_pdf(), "noext", expect=201).body
    assert up["file"]["stored_as"] == "noext.pdf" and up["file"]["format"] == "PDF"


@pytest.mark.parametrize("data,name", [
    (books.make_epub(drm="rights"), "locked.epub"),
    (books.make_pdf(encrypted=True), "locked.pdf"),
])
def test_drm_is_refused(api, tokens, data, name):
    tok = tokens["operator"]
    rid = create_release(api, tok, group="DrmGrp")
    body = assert_error(upload(api, tok, rid, data, name), 400, field="file")
    assert "DRM" in body["message"] or "encrypt" in body["message"].lower()


def test_malformed_uploads(api, server, tokens):
    tok = tokens["operator"]
    rid = create_release(api, tok, group="FormGrp")
    # no "file" field
    r = api.post(f"/api/wizard/{rid}/upload", token=tok, files={"other": ("a.epub", b"x")})
    assert_error(r, 400, field="file")
    # an empty file
    assert_error(upload(api, tok, rid, b"", "empty.epub"), 400, field="file")
    # a body cut before its closing boundary
    body = (b"--BND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.epub\"\r\n\r\n" +
            books.make_epub())
    r = api.post(f"/api/wizard/{rid}/upload", token=tok, data=body,
                 headers={"Content-Type": "multipart/form-data; boundary=BND"})
    assert_error(r, 400, field="file")
    # a multipart type without a boundary
    r = api.post(f"/api/wizard/{rid}/upload", token=tok, data=b"x",
                 headers={"Content-Type": "multipart/form-data"})
    assert_error(r, 400)
    # neither multipart nor JSON
    r = api.post(f"/api/wizard/{rid}/upload", token=tok, data=b"x",
                 headers={"Content-Type": "application/octet-stream"})
    assert_error(r, 415)
    # nothing was left behind in the upload area
    left = [n for n in os.listdir(os.path.join(server.data_dir, "uploads"))
            if n.startswith(".upload-")]
    assert left == []


def test_upload_needs_a_caller_before_any_byte(api, tokens):
    rid = create_release(api, tokens["operator"], group="AuthUp")
    r = api.post(f"/api/wizard/{rid}/upload", files={"file": ("a.epub", books.make_epub())})
    assert_error(r, 401)
    r = upload(api, tokens["viewer"], rid, books.make_epub(), "a.epub")
    assert_error(r, 403)
    # another operator may not drive this draft
    r = upload(api, other_operator(api, tokens[ADMIN_USER]), rid, books.make_epub(), "a.epub")
    assert_error(r, 403)
    assert_error(upload(api, tokens["operator"], 99999999, books.make_epub(), "a.epub"), 404)


def test_later_step_before_earlier_lists_what_is_missing(api, tokens):
    tok = tokens["operator"]
    rid = create_release(api, tok, group="OrderGrp")
    body = assert_error(api.post(f"/api/wizard/{rid}/finalize", token=tok), 400,
                        field="wizard_step")
    for step in ("upload", "analyze", "metadata"):
        assert step in body["message"], body
    assert_error(api.post(f"/api/wizard/{rid}/analyze", token=tok), 400, field="wizard_step")
    assert_error(api.post(f"/api/wizard/{rid}/metadata", token=tok,
                          json={"enriched_metadata": RETAIL}), 400, field="wizard_step")
    assert_error(api.get(f"/api/wizard/{rid}/templates", token=tok), 400, field="wizard_step")
    assert_error(api.post(f"/api/wizard/{rid}/templates", token=tok,
                          json={"template_id": "plain"}), 400, field="wizard_step")
    assert_error(api.post(f"/api/wizard/{rid}/options", token=tok,
                          json={"options": {"zip_size": "5MB"}}), 400, field="wizard_step")
    upload(api, tok, rid, books.make_epub(seed=4), "b.epub", expect=201)
    body = assert_error(api.post(f"/api/wizard/{rid}/finalize", token=tok), 400,
                        field="wizard_step")
    assert "upload" not in body["message"] and "analyze" in body["message"]
    api.post(f"/api/wizard/{rid}/analyze", token=tok, expect=200)
    body = assert_error(api.post(f"/api/wizard/{rid}/finalize", token=tok), 400,
                        field="wizard_step")
    assert "metadata" in body["message"] and "analyze" not in body["message"]
    api.post(f"/api/wizard/{rid}/metadata", token=tok,
             json={"enriched_metadata": dict(RETAIL, title="Order Matters")}, expect=200)
    # a new file sends the wizard back to step 4
    upload(api, tok, rid, books.make_pdf(), "other.pdf", expect=201)
    body = assert_error(api.post(f"/api/wizard/{rid}/finalize", token=tok), 400,
                        field="wizard_step")
    assert "analyze" in body["message"]
    assert api.get(f"/api/releases/{rid}", token=tok, expect=200).body["name"] is None


def test_metadata_is_validated_field_by_field(api, tokens):
    tok = tokens["operator"]
    rid = create_release(api, tok, group="MetaVal")
    upload(api, tok, rid, books.make_epub(author="", publisher="", seed=5), "m.epub",
           expect=201)
    api.post(f"/api/wizard/{rid}/analyze", token=tok, expect=200)
    base = dict(RETAIL, author="Solo Author")
    cases = [
        ({"enriched_metadata": "x"}, "enriched_metadata"),
        ({}, "enriched_metadata"),
        ({"enriched_metadata": {"colour": "red"}}, "enriched_metadata.colour"),
        ({"enriched_metadata": {"title": 5}}, "enriched_metadata.title"),
        ({"enriched_metadata": {"year": True}}, "enriched_metadata.year"),
        ({"enriched_metadata": dict(base, source="PIRATE")}, "enriched_metadata.source"),
        ({"enriched_metadata": dict(base, release_date="2024-02-30")},
         "enriched_metadata.release_date"),
        ({"enriched_metadata": dict(base, isbn="9780306406158")}, "enriched_metadata.isbn"),
        ({"enriched_metadata": dict(base, language="Klingon")}, "enriched_metadata.language"),
        ({"enriched_metadata": {"source": "RETAiL", "release_date": "2024-01-01"}}, None),
    ]
    for body, field in cases:
        r = api.post(f"/api/wizard/{rid}/metadata", token=tok, json=body)
        if field is None:
            b = assert_error(r, 400)
            assert b["field"].startswith("enriched_metadata.")
            # every problem is listed: no author/publisher and no URL for RETAiL
            assert "author" in b["message"] and "url" in b["message"]
        else:
            assert_error(r, 400, field=field)
    # the name a second release would get must be free
    md = api.post(f"/api/wizard/{rid}/metadata", token=tok,
                  json={"enriched_metadata": dict(RETAIL, author="Solo Author")},
                  expect=200).body
    rid2 = create_release(api, tok, group="MetaVal")
    upload(api, tok, rid2, books.make_epub(author="", publisher="", seed=5), "m.epub",
           expect=201)
    api.post(f"/api/wizard/{rid2}/analyze", token=tok, expect=200)
    r = api.post(f"/api/wizard/{rid2}/metadata", token=tok,
                 json={"enriched_metadata": dict(RETAIL, author="Solo Author")})
    assert_error(r, 409, field="name")
    assert md["name"] in r.body["message"]


def test_custom_templates(api, tokens):
    tok = tokens["operator"]
    rid, name = prepared_draft(api, tok, books.make_epub(seed=6), "t.epub", group="TmplGrp")
    good = ("{{group}} presents {{release}}\n"
            "{{#if author}}by {{author}}\n{{/if}}"
            "Released {{release_date}} / published {{publish_date}}\n"
            "{{language}} {{source}} {{disks}} {{size}} {{url}}\n")
    r = api.post(f"/api/wizard/{rid}/templates", token=tok, json={"template": good},
                 expect=200).body
    assert r["template_id"] == "custom" and name in r["preview"]
    tl = api.get(f"/api/wizard/{rid}/templates", token=tok, expect=200).body
    assert tl["selected"] == "custom"
    assert any(t["id"] == "custom" and not t["builtin"] for t in tl["templates"])
    bad = [
        ("{{release}}\n{{colour}}\n", "line 2"),
        ("{{release}}\n{{#if author}}\nopen\n", "line 2"),
        ("{{release}}\n\n\n" + "x" * 81 + "\n", "line 4"),
    ]
    for text, where in bad:
        b = assert_error(api.post(f"/api/wizard/{rid}/templates", token=tok,
                                  json={"template": text}), 400, field="template")
        assert where in b["message"], b
    for body, field in [({}, "template_id"), ({"template_id": "plain", "template": "x"},
                                             "template"),
                        ({"template_id": "fancy"}, "template_id"),
                        ({"template_id": 3}, "template_id")]:
        assert_error(api.post(f"/api/wizard/{rid}/templates", token=tok, json=body), 400,
                     field=field)
    # the rejected attempts left the good template in place
    assert api.get(f"/api/wizard/{rid}/templates", token=tok,
                   expect=200).body["selected"] == "custom"


def test_options_are_validated(api, tokens):
    tok = tokens["operator"]
    rid, _ = prepared_draft(api, tok, books.make_epub(filler=6_000_000, seed=7), "big.epub",
                            group="OptGrp")
    for opts, field in [
        ({"zip_size": 12345}, "options.zip_size"),
        ({"zip_size": "7MB"}, "options.zip_size"),
        ({"zip_size": True}, "options.zip_size"),
        ({"zip_size": "5MB"}, "options.zip_size"),  # 6 MB of book does not fit 5 MB volumes
        ({"create_sfv": False}, "options.create_sfv"),
        ({"create_sfv": "yes"}, "options.create_sfv"),
        ({"include_extras": True}, "options.include_extras"),
        ({"colour": 1}, "options"),
    ]:
        b = assert_error(api.post(f"/api/wizard/{rid}/options", token=tok,
                                  json={"options": opts}), 400, field=field)
        if opts == {"zip_size": "5MB"}:
            assert "10000000" in b["message"], b
    assert_error(api.post(f"/api/wizard/{rid}/options", token=tok, json={"options": 5}), 400,
                 field="options")
    ok = api.post(f"/api/wizard/{rid}/options", token=tok, json={"options": {"zip_size": None}},
                  expect=200).body
    assert ok["options"]["zip_size"] is None and ok["volume_size"] == 10000000


def test_steps_answer_404_and_json_errors(api, tokens):
    tok = tokens["operator"]
    for method, step in [("post", "analyze"), ("post", "finalize"), ("get", "templates")]:
        assert_error(getattr(api, method)(f"/api/wizard/99999999/{step}", token=tok), 404)
    assert_error(api.post("/api/wizard/99999999/metadata", token=tok,
                          json={"enriched_metadata": RETAIL}), 404)
    assert_error(api.post("/api/wizard/99999999/options", token=tok,
                          json={"options": {}}), 404)
    assert_error(api.post("/api/wizard/99999999/templates", token=tok,
                          json={"template_id": "plain"}), 404)
    rid = create_release(api, tok, group="JsonGrp")
    r = api.post(f"/api/wizard/{rid}/metadata", token=tok, data=b"{oops",
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, field="body")
    r = api.post(f"/api/wizard/{rid}/analyze", token=tok, data=b"[1]",
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, field="body")
    r = api.post(f"/api/wizard/{rid}/options", token=tok, data=b"x" * (2 * 1024 * 1024),
                 headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    r = api.post(f"/api/wizard/{rid}/templates", token=tok, data=b"<x/>",
                 headers={"Content-Type": "application/xml"})
    assert_error(r, 415)
    assert_error(api.post(f"/api/wizard/{rid}/finalize", token=tokens["viewer"]), 403)


def test_large_upload_streams_in_constant_memory(api, server, tokens):
    """80 MB go through the upload without the server's memory growing with them."""
    tok = tokens[ADMIN_USER]
    pdf = books.make_pdf(title="Huge Atlas", author="Big Maps", pages=8, filler=10_000_000)
    rid = create_release(api, tok, group="BigGrp")

    def hwm_kib():
        with open(f"/proc/{server.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    before = hwm_kib()
    boundary = "streamBoundary7"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"atlas.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():  # chunked: the client never holds one big body either
        yield head
        for i in range(0, len(pdf), 1 << 20):
            yield pdf[i:i + (1 << 20)]
        yield tail

    r = api.post(f"/api/wizard/{rid}/upload", token=tok, data=body(),
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                 expect=201)
    assert r.body["file"]["size"] == len(pdf)
    grown = hwm_kib() - before
    assert grown < 40 * 1024, f"peak memory grew by {grown} KiB for an {len(pdf)} byte upload"
    an = api.post(f"/api/wizard/{rid}/analyze", token=tok, expect=200).body["analysis"]
    import hashlib
    assert an["sha256"] == hashlib.sha256(pdf).hexdigest()


def test_downloads_from_private_addresses_are_refused_by_default(bookserver):
    """Without SP_FETCH_PRIVATE a file_url may not reach the server's own machine or its
    networks (SSRF): the address connected to is checked, so a redirect or a name resolving
    to loopback is refused as well; the job fails naming the address, the release keeps no
    file."""
    epub = books.make_epub(title="Never Fetched", author="Nobody", seed=11)
    bookserver.put("private.epub", epub)
    srv = Server(name="nofetch", env={"SP_RATE_LIMIT_PER_MIN": "0"})
    try:
        srv.start()
        api = Api(srv.base)
        tok = api.login(ADMIN_USER, ADMIN_PASSWORD).body["access_token"]
        port = bookserver.url("/").split(":")[2].split("/")[0]
        for url in (bookserver.url("/book/private.epub"),
                    f"http://localhost:{port}/book/private.epub",
                    f"http://[::ffff:127.0.0.1]:{port}/book/private.epub"):
            rid = create_release(api, tok, group="NoFetch")
            q = api.post(f"/api/wizard/{rid}/upload", token=tok, json={"file_url": url},
                         expect=202).body
            st = wait_job(api, tok, q["job_id"])
            assert st["status"] == "failed", url
            job = api.get(f"/api/jobs/{q['job_id']}", token=tok, expect=200).body
            assert "refused to connect to" in job["error"] and "SP_FETCH_PRIVATE" in job["error"], job
            rel = api.get(f"/api/releases/{rid}", token=tok, expect=200).body
            assert rel["file_path"] is None and rel["status"] == "draft"
        srv.stop()
    finally:
        srv.cleanup()
