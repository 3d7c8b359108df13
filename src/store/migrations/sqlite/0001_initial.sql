-- 0001_initial.sql — the whole schema of ARCHITECTURE.md (SQLite dialect).
-- Timestamps are INTEGER seconds since the epoch (UTC); the API renders RFC 3339.
-- Every list filter and sort has an index; ties are broken by id.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL COLLATE NOCASE UNIQUE,
    email         TEXT COLLATE NOCASE UNIQUE,
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    note          TEXT NOT NULL DEFAULT '',
    token_epoch   INTEGER NOT NULL DEFAULT 0,   -- tokens issued before this are revoked
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER
);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE permissions (
    id          INTEGER PRIMARY KEY,
    resource    TEXT NOT NULL,
    action      TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    UNIQUE (resource, action)
);

CREATE TABLE role_permissions (
    role_id       INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles(role_id);

CREATE TABLE groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE rules (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    scene       TEXT NOT NULL DEFAULT 'English',
    section     TEXT NOT NULL DEFAULT 'eBOOK',
    year        INTEGER,
    content     TEXT NOT NULL,
    spec        TEXT,                       -- parsed constraints (JSON)
    builtin     INTEGER NOT NULL DEFAULT 0,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX rules_section_year ON rules(section, year DESC, id DESC);
CREATE INDEX rules_scene ON rules(scene, id);
CREATE INDEX rules_year ON rules(year, id);

CREATE TABLE releases (
    id               INTEGER PRIMARY KEY,
    name             TEXT UNIQUE,                 -- dirname; NULL until known
    user_id          INTEGER NOT NULL REFERENCES users(id),
    group_id         INTEGER NOT NULL REFERENCES groups(id),
    release_type     TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'draft',
    release_metadata TEXT NOT NULL DEFAULT '{}',  -- JSON object
    config           TEXT NOT NULL DEFAULT '{}',  -- JSON object
    file_path        TEXT,
    file_size        INTEGER NOT NULL DEFAULT 0,
    rule_id          INTEGER REFERENCES rules(id) ON DELETE SET NULL,
    parent_id        INTEGER REFERENCES releases(id) ON DELETE SET NULL,
    wizard_step      INTEGER NOT NULL DEFAULT 3,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX releases_created ON releases(created_at, id);
CREATE INDEX releases_updated ON releases(updated_at, id);
CREATE INDEX releases_name ON releases(name, id);
CREATE INDEX releases_size ON releases(file_size, id);
CREATE INDEX releases_type_created ON releases(release_type, created_at, id);
CREATE INDEX releases_status_created ON releases(status, created_at, id);
CREATE INDEX releases_user_created ON releases(user_id, created_at, id);
CREATE INDEX releases_group_created ON releases(group_id, created_at, id);
CREATE INDEX releases_user_status ON releases(user_id, status);
CREATE INDEX releases_rule ON releases(rule_id);
CREATE INDEX releases_parent ON releases(parent_id);

-- Full-text search over name, title, author, publisher, group, ISBN; accent-insensitive.
CREATE VIRTUAL TABLE releases_fts USING fts5(
    name, title, author, publisher, grp, isbn,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE release_files (
    id         INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    crc32      TEXT NOT NULL,
    UNIQUE (release_id, name)
);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    release_id   INTEGER REFERENCES releases(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    job_type     TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    progress     INTEGER NOT NULL DEFAULT 0,
    step         TEXT NOT NULL DEFAULT '',
    params       TEXT NOT NULL DEFAULT '{}',
    error        TEXT,
    lease_owner  TEXT,
    lease_until  INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX jobs_status ON jobs(status, id);
CREATE INDEX jobs_user ON jobs(user_id, id);
CREATE INDEX jobs_release ON jobs(release_id, id);
CREATE INDEX jobs_type ON jobs(job_type, id);

CREATE TABLE job_logs (
    id         INTEGER PRIMARY KEY,
    job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    level      TEXT NOT NULL DEFAULT 'info',
    message    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (job_id, line)
);

CREATE TABLE configurations (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    value       TEXT,                -- plain value, or NULL when secret
    secret_blob BLOB,                -- nonce || secretbox(value) when secret
    secret      INTEGER NOT NULL DEFAULT 0,
    category    TEXT NOT NULL DEFAULT 'general',
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX configurations_category ON configurations(category, key);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER,
    username    TEXT,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    resource_id INTEGER,
    ip          TEXT,
    request_id  TEXT,
    summary     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_created ON audit_log(created_at, id);
CREATE INDEX audit_user ON audit_log(user_id, created_at);
CREATE INDEX audit_action ON audit_log(action, created_at);
CREATE INDEX audit_resource ON audit_log(resource, created_at);

CREATE TABLE token_blocklist (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX token_blocklist_exp ON token_blocklist(expires_at);

-- Counters kept by triggers so dashboard figures never scan a million rows.
CREATE TABLE release_counts (
    user_id      INTEGER NOT NULL,     -- 0 = everyone
    status       TEXT NOT NULL,
    release_type TEXT NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, status, release_type)
) WITHOUT ROWID;

CREATE TRIGGER releases_ai AFTER INSERT ON releases BEGIN
    INSERT INTO release_counts(user_id, status, release_type, n) VALUES (0, NEW.status, NEW.release_type, 1)
        ON CONFLICT(user_id, status, release_type) DO UPDATE SET n = n + 1;
    INSERT INTO release_counts(user_id, status, release_type, n) VALUES (NEW.user_id, NEW.status, NEW.release_type, 1)
        ON CONFLICT(user_id, status, release_type) DO UPDATE SET n = n + 1;
    INSERT INTO releases_fts(rowid, name, title, author, publisher, grp, isbn)
        VALUES (NEW.id, NEW.name,
                json_extract(NEW.release_metadata, '$.title'),
                json_extract(NEW.release_metadata, '$.author'),
                json_extract(NEW.release_metadata, '$.publisher'),
                (SELECT name FROM groups WHERE id = NEW.group_id),
                json_extract(NEW.release_metadata, '$.isbn'));
END;

CREATE TRIGGER releases_ad AFTER DELETE ON releases BEGIN
    UPDATE release_counts SET n = n - 1
        WHERE user_id IN (0, OLD.user_id) AND status = OLD.status AND release_type = OLD.release_type;
    DELETE FROM releases_fts WHERE rowid = OLD.id;
END;

CREATE TRIGGER releases_au_counts AFTER UPDATE OF status, release_type, user_id ON releases
WHEN OLD.status IS NOT NEW.status OR OLD.release_type IS NOT NEW.release_type OR OLD.user_id IS NOT NEW.user_id
BEGIN
    UPDATE release_counts SET n = n - 1
        WHERE user_id IN (0, OLD.user_id) AND status = OLD.status AND release_type = OLD.release_type;
    INSERT INTO release_counts(user_id, status, release_type, n) VALUES (0, NEW.status, NEW.release_type, 1)
        ON CONFLICT(user_id, status, release_type) DO UPDATE SET n = n + 1;
    INSERT INTO release_counts(user_id, status, release_type, n) VALUES (NEW.user_id, NEW.status, NEW.release_type, 1)
        ON CONFLICT(user_id, status, release_type) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER releases_au_fts AFTER UPDATE OF name, release_metadata, group_id ON releases BEGIN
    DELETE FROM releases_fts WHERE rowid = OLD.id;
    INSERT INTO releases_fts(rowid, name, title, author, publisher, grp, isbn)
        VALUES (NEW.id, NEW.name,
                json_extract(NEW.release_metadata, '$.title'),
                json_extract(NEW.release_metadata, '$.author'),
                json_extract(NEW.release_metadata, '$.publisher'),
                (SELECT name FROM groups WHERE id = NEW.group_id),
                json_extract(NEW.release_metadata, '$.isbn'));
END;

CREATE TABLE job_counts (
    user_id INTEGER NOT NULL,   -- 0 = everyone
    status  TEXT NOT NULL,
    n       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, status)
) WITHOUT ROWID;

CREATE TRIGGER jobs_ai AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts(user_id, status, n) VALUES (0, NEW.status, 1)
        ON CONFLICT(user_id, status) DO UPDATE SET n = n + 1;
    INSERT INTO job_counts(user_id, status, n) VALUES (NEW.user_id, NEW.status, 1)
        ON CONFLICT(user_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_ad AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE user_id IN (0, OLD.user_id) AND status = OLD.status;
END;
CREATE TRIGGER jobs_au AFTER UPDATE OF status ON jobs WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE job_counts SET n = n - 1 WHERE user_id IN (0, OLD.user_id) AND status = OLD.status;
    INSERT INTO job_counts(user_id, status, n) VALUES (0, NEW.status, 1)
        ON CONFLICT(user_id, status) DO UPDATE SET n = n + 1;
    INSERT INTO job_counts(user_id, status, n) VALUES (NEW.user_id, NEW.status, 1)
        ON CONFLICT(user_id, status) DO UPDATE SET n = n + 1;
END;
