-- Durable generation jobs (core.jobs). One row per accepted request, rewritten at every transition.
CREATE TABLE jobs (
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
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL,
    submitted_at     REAL,
    finished_at      REAL,
    message_refs     TEXT NOT NULL DEFAULT '{}',  -- JSON: part -> platform message ref
    result           TEXT,                        -- JSON list of media
    error_kind       TEXT,
    error_params     TEXT NOT NULL DEFAULT '{}',
    notes            TEXT NOT NULL DEFAULT '[]',
    hints            TEXT NOT NULL DEFAULT '[]',
    from_preference  INTEGER NOT NULL DEFAULT 0,
    notice_only      INTEGER NOT NULL DEFAULT 0,
    parent_job_id    TEXT,
    polls            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_user ON jobs (platform, user_id);
