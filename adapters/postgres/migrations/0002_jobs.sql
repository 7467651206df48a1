-- Durable generation jobs (core.jobs), as SQLite 0002. Times are epoch seconds like everywhere else.
CREATE TABLE IF NOT EXISTS jobs (
    job_id           TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    platform         TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    conversation     TEXT NOT NULL,  -- JSON
    request          TEXT NOT NULL,  -- JSON
    state            TEXT NOT NULL,
    model_id         TEXT,
    model_name       TEXT,
    credits          INTEGER,
    eta_min_s        INTEGER,
    eta_max_s        INTEGER,
    task_id          TEXT,
    created_at       DOUBLE PRECISION NOT NULL,
    updated_at       DOUBLE PRECISION NOT NULL,
    submitted_at     DOUBLE PRECISION,
    finished_at      DOUBLE PRECISION,
    message_refs     TEXT NOT NULL DEFAULT '{}',
    result           TEXT,
    error_kind       TEXT,
    error_params     TEXT NOT NULL DEFAULT '{}',
    notes            TEXT NOT NULL DEFAULT '[]',
    hints            TEXT NOT NULL DEFAULT '[]',
    from_preference  BOOLEAN NOT NULL DEFAULT FALSE,
    notice_only      BOOLEAN NOT NULL DEFAULT FALSE,
    parent_job_id    TEXT,
    polls            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (platform, user_id);
