-- Per-user model preferences, one row per (platform, user, task type). Written only when a user
-- explicitly names a model they want ("以后都用可灵", "use Kling"); cleared when they hand the choice back.
CREATE TABLE IF NOT EXISTS preferences (
    platform   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    task_type  TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    model_name TEXT NOT NULL,
    credit     INTEGER,
    last_used  REAL NOT NULL,
    PRIMARY KEY (platform, user_id, task_type)
);
