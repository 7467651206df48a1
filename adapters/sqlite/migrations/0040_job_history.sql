-- Every state a job entered, with its time (imabot job ID). Written by triggers in the same statement as
-- the job row, so no code path can forget it. Jobs that existed before this migration get two rows:
-- received at creation and their current state at their last update.
CREATE TABLE job_history (
    job_id  TEXT NOT NULL,
    state   TEXT NOT NULL,
    at      REAL NOT NULL
);
CREATE INDEX job_history_job ON job_history (job_id, at);
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX jobs_task ON jobs (task_id);

INSERT INTO job_history (job_id, state, at) SELECT job_id, 'received', created_at FROM jobs;
INSERT INTO job_history (job_id, state, at) SELECT job_id, state, updated_at FROM jobs WHERE state <> 'received';

CREATE TRIGGER job_history_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO job_history (job_id, state, at) VALUES (NEW.job_id, NEW.state, NEW.updated_at);
END;

CREATE TRIGGER job_history_on_state AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state
BEGIN
    INSERT INTO job_history (job_id, state, at) VALUES (NEW.job_id, NEW.state, NEW.updated_at);
END;
