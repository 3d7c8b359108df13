-- 0011_search_prefix_status_sort_indexes.sql — searches and filtered lists that stay fast at
-- 1,000,000 releases.
--
-- 1. Prefix indexes for the search table. The last search term is matched as a prefix
--    ("ebook"*). Without a prefix index FTS5 answers a prefix query by merging the whole
--    document list of every term that starts with it, before returning the first row: 55-120 ms
--    for "ebook"* (in every release name) and 570 ms for "978"* (every ISBN) at 1,000,000 rows,
--    even for a page of 20. With an index for prefixes of 3 to 8 characters, such a prefix is one
--    stored list read lazily, like a plain term (under 1 ms for the first rows). Longer prefixes
--    are selective enough to be merged. Costs: the search table grows by about 300 MB at
--    1,000,000 releases (about 30 MB at 100,000), rebuilding it takes about a minute at
--    1,000,000 rows (once, here), and each insert writes a little more.
--    The triggers of 0001 keep filling the table by name; its content is rebuilt from releases
--    with the same expressions, then merged into one segment ('optimize') for the fastest reads.
DROP TABLE releases_fts;
CREATE VIRTUAL TABLE releases_fts USING fts5(
    name, title, author, publisher, grp, isbn,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3 4 5 6 7 8'
);
INSERT INTO releases_fts(rowid, name, title, author, publisher, grp, isbn)
    SELECT r.id, r.name,
           json_extract(r.release_metadata, '$.title'),
           json_extract(r.release_metadata, '$.author'),
           json_extract(r.release_metadata, '$.publisher'),
           (SELECT name FROM groups WHERE id = r.group_id),
           json_extract(r.release_metadata, '$.isbn')
    FROM releases r ORDER BY r.id;
INSERT INTO releases_fts(releases_fts) VALUES ('optimize');

-- 2. A status filter with another sort (status=failed&sort_by=name&page=1000): SQLite took the
--    status's rows from (status, created_at, id) and sorted all of them (150,000 rows at
--    1,000,000 releases: 0.2-0.4 s for any page). These indexes give the order directly (each
--    ends with the rowid, the id tie-break), so a page costs its offset in index entries.
--    Filters on release_type or user_id that keep every row of their scope are dropped before
--    the query is planned (store/releases.c), so they need no index of their own.
CREATE INDEX releases_status_name ON releases(status, name);
CREATE INDEX releases_status_updated ON releases(status, updated_at);
CREATE INDEX releases_status_size ON releases(status, file_size);
PRAGMA analysis_limit = 1000;
ANALYZE releases;
