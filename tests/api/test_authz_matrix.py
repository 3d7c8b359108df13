"""The authorisation matrix: every documented operation × {anonymous, viewer, operator, owner,
admin, disabled user}, with the status each must get, from ONE table (MATRIX below).

A documented operation without a row fails test_every_documented_operation_has_a_row: add the
row when you add an endpoint. Each call builds its own objects when the request changes or
destroys one, so the cells are independent of each other and of the order they run in.

Who is who:
  anonymous  no Authorization header;
  viewer     role viewer;            operator  role operator (not the owner of anything used);
  owner      role operator, owns the release / draft / job / is the user the row is about;
  admin      role admin;             disabled  role operator, disabled (for the release and
                                     user rows it is the owner of the object).
Every call uses a freshly signed token (new jti) of its principal, so a logout in one cell
never affects another.
"""
import itertools
import uuid

import pytest

import books
import oas
from flow import BookServer, packed_release, prepared_draft, upload
from helpers import Api, forge, jwt_parts
from spserver import ADMIN_USER

WHO = ("anonymous", "viewer", "operator", "owner", "admin", "disabled")


def E(anonymous, viewer, operator, owner, admin, disabled):
    return dict(zip(WHO, (anonymous, viewer, operator, owner, admin, disabled)))


def signed_in(viewer, operator, owner, admin):
    """Anonymous and disabled users get 401; the others what is given."""
    return E(401, viewer, operator, owner, admin, 401)


def everyone(status):
    return E(*(status,) * 6)


ADMIN_ONLY_200 = signed_in(403, 403, 403, 200)
ADMIN_ONLY_201 = signed_in(403, 403, 403, 201)
ANY_USER_200 = signed_in(200, 200, 200, 200)
WRITERS_201 = signed_in(403, 201, 201, 201)

_n = itertools.count(1)


def uniq(prefix):
    return f"{prefix}{next(_n)}{uuid.uuid4().hex[:6]}"


# --- objects a row needs (made as admin or as the owner) ---------------------------------------

def owners_release(ctx, who):
    """A fresh draft owned by the row's owner (the disabled user's own for that column)."""
    tok = ctx.template("disabled_owner" if who == "disabled" else "owner", fresh=True)
    if who == "disabled":
        return ctx.disabled_release
    return ctx.api.post("/api/wizard/create", token=tok,
                        json={"group": "MatrixGrp", "release_type": "EBOOK"},
                        expect=201).body["release_id"]


def fresh_rule(ctx):
    return ctx.api.post("/api/rules", token=ctx.admin,
                        json={"name": uniq("Matrix rule "), "content": "rules\n"},
                        expect=201).body["id"]


def fresh_user(ctx):
    return ctx.api.post("/api/users", token=ctx.admin,
                        json={"username": uniq("mxdel"), "password": "Matrix-pass-0123"},
                        expect=201).body["id"]


def fresh_role(ctx):
    return ctx.api.post("/api/roles", token=ctx.admin, json={"name": uniq("mxrole")},
                        expect=201).body["id"]


def fresh_config(ctx):
    return ctx.api.post("/api/config", token=ctx.admin,
                        json={"key": uniq("MX_").upper(), "value": "v"}, expect=201).body["id"]


def book(title_prefix="Matrix Book"):
    return books.make_epub(title=uniq(title_prefix + " "), author="Mat Rix")


def draft_at(ctx, stage):
    """A fresh draft of the owner, taken through the wizard up to `stage`: "created",
    "uploaded", "analyzed" or "described" (metadata given)."""
    tok = ctx.template("owner")
    if stage in ("created", "uploaded", "analyzed"):
        rid = ctx.api.post("/api/wizard/create", token=tok,
                           json={"group": "MatrixGrp", "release_type": "EBOOK"},
                           expect=201).body["release_id"]
        if stage != "created":
            upload(ctx.api, tok, rid, book(), "matrix.epub", expect=201)
        if stage == "analyzed":
            ctx.api.post(f"/api/wizard/{rid}/analyze", token=tok, expect=200)
        return rid
    rid, _name = prepared_draft(ctx.api, tok, book(), "matrix.epub", group="MatrixGrp")
    return rid


def step(stage, suffix, **kw):
    """A wizard step row builder: a fresh draft at `stage`, then METHOD /api/wizard/{id}/suffix."""
    return lambda c, w: (f"/api/wizard/{draft_at(c, stage)}/{suffix}", dict(kw))


def upload_kw(ctx, who):
    return {"files": {"file": ("matrix.epub", book(), "application/octet-stream")}}


def running_job(ctx, who):
    """A download job of the owner that runs until cancelled (a slow file_url); cancelled
    again by the admin after the cell, whatever the cell did."""
    tok = ctx.template("owner")
    rid = ctx.api.post("/api/wizard/create", token=tok,
                       json={"group": "MatrixGrp", "release_type": "EBOOK"},
                       expect=201).body["release_id"]
    job = ctx.api.post(f"/api/wizard/{rid}/upload", token=tok,
                       json={"file_url": ctx.books.url(f"/slow/{uniq('m')}.epub")},
                       expect=202).body["job_id"]

    def cleanup():
        r = ctx.api.put(f"/api/jobs/{job}/cancel", token=ctx.admin)
        assert r.status_code in (200, 409), r.text[:300]

    ctx.after.append(cleanup)
    return job


# actions produce a release named after their source: each column uses its own action
ACTION_OF = {"operator": "nfofix", "owner": "readnfo", "admin": "repack"}


def the_users_id(ctx, who):
    """The user a /api/users/{id} row is about: the owner themself (the disabled user for
    that column)."""
    return ctx.ids["disabled_owner" if who == "disabled" else "owner"]


# --- the table ---------------------------------------------------------------------------------
# (METHOD, documented path, build(ctx, who) -> (path, request kwargs), expected statuses)

MATRIX = [
    ("POST", "/api/auth/login",
     lambda c, w: ("/api/auth/login", {"json": {"username": c.names["login"],
                                                 "password": c.passwords["login"]}}),
     everyone(200)),
    ("POST", "/api/auth/refresh",  # an access token is never a refresh token
     lambda c, w: ("/api/auth/refresh", {}), everyone(401)),
    ("POST", "/api/auth/logout", lambda c, w: ("/api/auth/logout", {}), ANY_USER_200),
    ("GET", "/api/auth/me", lambda c, w: ("/api/auth/me", {}), ANY_USER_200),
    ("GET", "/api/health", lambda c, w: ("/api/health", {}), everyone(200)),
    ("GET", "/api/health/ready", lambda c, w: ("/api/health/ready", {}), everyone(200)),
    ("GET", "/metrics", lambda c, w: ("/metrics", {}), everyone(200)),  # open on loopback
    ("GET", "/", lambda c, w: ("/", {}), everyone(200)),
    ("GET", "/api/openapi.yaml", lambda c, w: ("/api/openapi.yaml", {}), everyone(200)),
    ("GET", "/api/dashboard/stats", lambda c, w: ("/api/dashboard/stats", {}), ANY_USER_200),
    ("GET", "/api/permissions", lambda c, w: ("/api/permissions", {}), ANY_USER_200),
    ("GET", "/api/groups", lambda c, w: ("/api/groups", {}), ANY_USER_200),

    ("GET", "/api/releases", lambda c, w: ("/api/releases", {}), ANY_USER_200),
    ("GET", "/api/releases/{id}",
     lambda c, w: (f"/api/releases/{c.release}", {}), ANY_USER_200),
    ("PUT", "/api/releases/{id}",
     lambda c, w: (f"/api/releases/{c.release}",
                   {"json": {"release_metadata": {"title": "Matrix"}}}),
     signed_in(403, 403, 200, 200)),
    ("DELETE", "/api/releases/{id}",
     lambda c, w: (f"/api/releases/{owners_release(c, w)}", {}),
     signed_in(403, 403, 200, 200)),
    ("POST", "/api/wizard/create",
     lambda c, w: ("/api/wizard/create", {"json": {"group": "MatrixGrp", "release_type": "EBOOK"}}),
     WRITERS_201),
    ("POST", "/api/wizard/draft",
     lambda c, w: ("/api/wizard/draft", {"json": {"group": "MatrixGrp", "release_type": "EBOOK"}}),
     WRITERS_201),
    ("GET", "/api/wizard/rules", lambda c, w: ("/api/wizard/rules", {}), ANY_USER_200),

    ("POST", "/api/wizard/{id}/upload",
     lambda c, w: (f"/api/wizard/{draft_at(c, 'created')}/upload", upload_kw(c, w)),
     signed_in(403, 403, 201, 201)),
    ("POST", "/api/wizard/{id}/analyze", step("uploaded", "analyze"),
     signed_in(403, 403, 200, 200)),
    ("POST", "/api/wizard/{id}/metadata",
     step("analyzed", "metadata", json={"enriched_metadata": {
         "source": "RETAiL", "release_date": "2024-03-01", "url": "https://shop.example.com/b"}}),
     signed_in(403, 403, 200, 200)),
    ("GET", "/api/wizard/{id}/templates", step("described", "templates"),
     signed_in(403, 403, 200, 200)),
    ("POST", "/api/wizard/{id}/templates",
     lambda c, w: (f"/api/wizard/{draft_at(c, 'described')}/templates",
                   {"json": {"template_id": c.template_id}}),
     signed_in(403, 403, 200, 200)),
    ("POST", "/api/wizard/{id}/options",
     step("described", "options", json={"options": {"zip_size": "10MB", "create_sfv": True}}),
     signed_in(403, 403, 200, 200)),
    ("POST", "/api/wizard/{id}/finalize", step("described", "finalize"),
     signed_in(403, 403, 202, 202)),

    ("GET", "/api/releases/{id}/files", lambda c, w: (f"/api/releases/{c.packed}/files", {}),
     ANY_USER_200),
    ("GET", "/api/releases/{id}/files/{name}",
     lambda c, w: (f"/api/releases/{c.packed}/files/{c.packed_file}", {}), ANY_USER_200),
    ("GET", "/api/releases/{id}/nfo", lambda c, w: (f"/api/releases/{c.packed}/nfo", {}),
     ANY_USER_200),
    ("POST", "/api/releases/{id}/actions/{action}",
     lambda c, w: (f"/api/releases/{c.packed}/actions/{ACTION_OF.get(w, 'nfofix')}", {}),
     signed_in(403, 202, 202, 202)),

    ("GET", "/api/jobs", lambda c, w: ("/api/jobs", {}), ANY_USER_200),
    ("GET", "/api/jobs/{id}", lambda c, w: (f"/api/jobs/{c.job}", {}),
     signed_in(403, 200, 200, 200)),
    ("GET", "/api/jobs/{id}/status", lambda c, w: (f"/api/jobs/{c.job}/status", {}),
     signed_in(403, 200, 200, 200)),
    ("GET", "/api/jobs/{id}/logs", lambda c, w: (f"/api/jobs/{c.job}/logs", {}),
     signed_in(403, 200, 200, 200)),
    ("PUT", "/api/jobs/{id}/cancel", lambda c, w: (f"/api/jobs/{running_job(c, w)}/cancel", {}),
     signed_in(403, 403, 200, 200)),

    ("GET", "/api/rules", lambda c, w: ("/api/rules", {}), ANY_USER_200),
    ("POST", "/api/rules",
     lambda c, w: ("/api/rules", {"json": {"name": uniq("Matrix "), "content": "rules\n"}}),
     WRITERS_201),
    ("GET", "/api/rules/{id}", lambda c, w: (f"/api/rules/{c.rule}", {}), ANY_USER_200),
    ("PUT", "/api/rules/{id}",
     lambda c, w: (f"/api/rules/{c.rule}", {"json": {"name": "Matrix rule"}}),
     signed_in(403, 200, 200, 200)),
    ("DELETE", "/api/rules/{id}", lambda c, w: (f"/api/rules/{fresh_rule(c)}", {}),
     signed_in(403, 403, 403, 200)),
    ("GET", "/api/rules/{id}/spec", lambda c, w: (f"/api/rules/{c.rule}/spec", {}),
     ANY_USER_200),

    ("GET", "/api/users", lambda c, w: ("/api/users", {}), ADMIN_ONLY_200),
    ("POST", "/api/users",
     lambda c, w: ("/api/users", {"json": {"username": uniq("mxnew"),
                                          "password": "Matrix-pass-0123"}}),
     ADMIN_ONLY_201),
    ("GET", "/api/users/{id}", lambda c, w: (f"/api/users/{the_users_id(c, w)}", {}),
     signed_in(403, 403, 200, 200)),
    ("PUT", "/api/users/{id}",
     lambda c, w: (f"/api/users/{the_users_id(c, w)}", {"json": {"note": "matrix"}}),
     signed_in(403, 403, 200, 200)),
    ("DELETE", "/api/users/{id}", lambda c, w: (f"/api/users/{fresh_user(c)}", {}),
     ADMIN_ONLY_200),

    ("GET", "/api/roles", lambda c, w: ("/api/roles", {}), ADMIN_ONLY_200),
    ("POST", "/api/roles", lambda c, w: ("/api/roles", {"json": {"name": uniq("mxr")}}),
     ADMIN_ONLY_201),
    ("GET", "/api/roles/{id}", lambda c, w: (f"/api/roles/{c.role}", {}), ADMIN_ONLY_200),
    ("PUT", "/api/roles/{id}",
     lambda c, w: (f"/api/roles/{c.role}", {"json": {"description": "matrix"}}), ADMIN_ONLY_200),
    ("DELETE", "/api/roles/{id}", lambda c, w: (f"/api/roles/{fresh_role(c)}", {}),
     ADMIN_ONLY_200),

    ("GET", "/api/config", lambda c, w: ("/api/config", {}), ADMIN_ONLY_200),
    ("POST", "/api/config",
     lambda c, w: ("/api/config", {"json": {"key": uniq("MXK_").upper(), "value": "v"}}),
     ADMIN_ONLY_201),
    ("GET", "/api/config/{id}", lambda c, w: (f"/api/config/{c.config}", {}), ADMIN_ONLY_200),
    ("PUT", "/api/config/{id}",
     lambda c, w: (f"/api/config/{c.config}", {"json": {"description": "matrix"}}),
     ADMIN_ONLY_200),
    ("DELETE", "/api/config/{id}", lambda c, w: (f"/api/config/{fresh_config(c)}", {}),
     ADMIN_ONLY_200),
    ("GET", "/api/config/key/{key}", lambda c, w: ("/api/config/key/MATRIX_KEY", {}),
     ADMIN_ONLY_200),

    ("GET", "/api/audit", lambda c, w: ("/api/audit", {}), ADMIN_ONLY_200),
]

ROWS = {(m, p): (build, expected) for m, p, build, expected in MATRIX}


def test_every_documented_operation_has_a_row():
    assert len(ROWS) == len(MATRIX), "two rows for one operation"
    documented = {(m, t) for t, m in oas.operations()}
    missing = sorted(documented - set(ROWS))
    extra = sorted(set(ROWS) - documented)
    assert not missing, ("documented operations without a row in MATRIX "
                         f"(tests/api/test_authz_matrix.py): {missing}")
    assert not extra, f"rows for operations docs/openapi.yaml does not document: {extra}"
    for (m, p), (_b, expected) in ROWS.items():
        assert set(expected) == set(WHO), f"{m} {p}: a status for each of {WHO}"


# --- the principals ----------------------------------------------------------------------------

class Ctx:
    def __init__(self, api, key, tokens, new_user, bookserver):
        self.api = api
        self.key = key
        self.books = bookserver
        self.after = []
        self.admin = tokens[ADMIN_USER]
        self.templates = {"admin": tokens[ADMIN_USER]}
        self.ids, self.names, self.passwords = {}, {}, {}
        for name, role in (("viewer", "viewer"), ("operator", "operator"), ("owner", "operator"),
                           ("disabled_owner", "operator"), ("login", "viewer")):
            u = new_user(role, prefix="mx" + name.replace("_", ""), login=name != "login")
            self.ids[name], self.names[name] = u["id"], u["username"]
            self.passwords[name] = u["password"]
            if u["token"]:
                self.templates[name] = u["token"]
        self.ids["admin"] = int(jwt_parts(self.admin)[1]["sub"])
        owner = self.templates["owner"]
        self.release = api.post("/api/wizard/create", token=owner,
                                json={"group": "MatrixGrp", "release_type": "EBOOK"},
                                expect=201).body["release_id"]
        self.disabled_release = api.post("/api/wizard/create", token=self.templates["disabled_owner"],
                                         json={"group": "MatrixGrp", "release_type": "EBOOK"},
                                         expect=201).body["release_id"]
        # a packed release of the owner: its files, NFO, job; a template id for step 7
        self.packed, _name = packed_release(api, owner, book("Matrix Packed"), "packed.epub",
                                            group="MatrixGrp")
        files = api.get(f"/api/releases/{self.packed}/files", token=owner, expect=200).body
        self.packed_file = files["files"][0]["name"]
        self.job = api.get("/api/jobs", token=owner, params={"release_id": self.packed},
                           expect=200).body["jobs"][0]["id"]
        probe = draft_at(self, "described")
        templates = api.get(f"/api/wizard/{probe}/templates", token=owner, expect=200).body
        self.template_id = templates["templates"][0]["id"]
        self.rule = fresh_rule(self)
        self.role = fresh_role(self)
        self.config = fresh_config(self)
        api.post("/api/config", token=self.admin, json={"key": "MATRIX_KEY", "value": "m"},
                 expect=201)
        # Disabled last: everything it owns exists; every token of it is dead from now on.
        api.put(f"/api/users/{self.ids['disabled_owner']}", token=self.admin,
                json={"active": False}, expect=200)

    def template(self, who, fresh=True):
        t = self.templates[who]
        return forge(self.key, t) if fresh else t

    def token_of(self, who):
        if who == "anonymous":
            return None
        return self.template("disabled_owner" if who == "disabled" else who)


@pytest.fixture(scope="module")
def ctx(api, key, tokens, new_user):
    bookserver = BookServer()
    try:
        yield Ctx(Api(api.base), key, tokens, new_user, bookserver)
    finally:
        bookserver.close()


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method,template", list(ROWS), ids=[f"{m} {p}" for m, p in ROWS])
def test_matrix(ctx, method, template, who):
    build, expected = ROWS[(method, template)]
    path, kw = build(ctx, who)
    token = ctx.token_of(who)
    try:
        r = ctx.api.request(method, path, token=token, **kw)
    finally:
        while ctx.after:
            ctx.after.pop()()
    assert r.status_code == expected[who], (
        f"{method} {template} as {who}: expected {expected[who]}, got {r.status_code}: "
        f"{r.text[:300]}")
