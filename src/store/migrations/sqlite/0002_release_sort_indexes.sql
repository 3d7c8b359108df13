-- 0002_release_sort_indexes.sql — GET /api/releases sorted by status or release_type.
-- The 0001 indexes (status, created_at, id) and (release_type, created_at, id) cannot give the
-- order "status, id" / "release_type, id" (ties broken by id): SQLite sorted a whole status
-- group in a temporary B-tree (0.3-1.8 s at 1,000,000 rows for deep pages). An index on the
-- column alone ends with the rowid, which is exactly that order, and covers the id query.
CREATE INDEX releases_status ON releases(status);
CREATE INDEX releases_type ON releases(release_type);
