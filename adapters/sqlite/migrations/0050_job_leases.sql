-- Job leases (scale-out): the replica that holds a job and until when. A job nobody holds (no owner or an
-- expired lease) may be claimed by any replica; only the holder may write the job.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS jobs_lease_owner ON jobs (lease_owner);
