-- 0003_release_user_status_index.sql — "my releases with status X, newest first" (the UI's
-- mine=1&status=… lists) straight from one index: (user_id, status) could only find the rows,
-- which were then sorted or looked up one by one (0.2 s for a user owning 1,000,000 releases).
-- The new index starts with the same two columns, so it also serves everything the old one did.
DROP INDEX releases_user_status;
CREATE INDEX releases_user_status_created ON releases(user_id, status, created_at);
-- Planner statistics must cover the new index too: on a database analysed before this
-- migration (sqlite_stat1 rows for the old indexes only), the unmeasured index looked like a
-- 10-row match and was chosen for mine=1 lists, sorting a user's whole history (0.4-1 s).
-- On a new, empty database this records nothing and costs nothing.
ANALYZE releases;
