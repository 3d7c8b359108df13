-- 0010_jobs_runner.sql — what the job runner and the release files need.
-- release_files.year: the year of the release the file belongs to, so "is this 8.3 base taken
-- within the year?" is one index range over (name, year) instead of a join over every release.
ALTER TABLE release_files ADD COLUMN year INTEGER NOT NULL DEFAULT 0;
CREATE INDEX release_files_name_year ON release_files(name, year);
-- Claiming work: pending jobs oldest first come from jobs_status (status, id); running jobs
-- whose lease expired from this one (a handful of rows: only running jobs are scanned).
CREATE INDEX jobs_status_lease ON jobs(status, lease_until);
-- "My jobs with status X, newest first" (GET /api/jobs?status=...).
CREATE INDEX jobs_user_status ON jobs(user_id, status, id);
