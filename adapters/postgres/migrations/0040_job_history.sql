-- Every state a job entered, with its time, as SQLite 0040: written by a trigger in the same statement as
-- the job row. ``seq`` orders changes recorded in the same instant (SQLite uses its rowid).
CREATE TABLE IF NOT EXISTS job_history (
    job_id  TEXT NOT NULL,
    state   TEXT NOT NULL,
    at      DOUBLE PRECISION NOT NULL,
    seq     BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX IF NOT EXISTS job_history_job ON job_history (job_id, at);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_task ON jobs (task_id);

INSERT INTO job_history (job_id, state, at) SELECT job_id, 'received', created_at FROM jobs;
INSERT INTO job_history (job_id, state, at) SELECT job_id, state, updated_at FROM jobs WHERE state <> 'received';

CREATE OR REPLACE FUNCTION job_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_history (job_id, state, at) VALUES (NEW.job_id, NEW.state, NEW.updated_at);
    RETURN NULL;
END;
$$;

CREATE TRIGGER job_history_on_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_history_record();
CREATE TRIGGER job_history_on_state AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION job_history_record();
