-- A cancel that reached a replica not holding the job, as SQLite 0052: when it was asked for; the holder
-- acts on it (``save`` never writes this column).
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS cancel_requested_at DOUBLE PRECISION;
