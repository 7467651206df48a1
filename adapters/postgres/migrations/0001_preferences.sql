-- Per-user model preferences, one row per (platform, user, task type) (as SQLite 0001).
CREATE TABLE IF NOT EXISTS preferences (
    platform   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    task_type  TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    model_name TEXT NOT NULL,
    credit     INTEGER,
    last_used  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, user_id, task_type)
);
