-- Job leases (scale-out), as SQLite 0050: the replica holding a job and until when. Claims scan only
-- unfinished jobs, through a partial index.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS lease_until DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS jobs_lease_owner ON jobs (lease_owner);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (created_at, job_id)
    WHERE state NOT IN ('cancelled', 'done', 'failed', 'timed_out');
