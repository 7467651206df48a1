-- Generation times of finished jobs (submit to result), per model and the parameters that change them.
-- The runner learns each model's duration distribution from the newest rows of every key
-- (core.timing.durations); older rows are trimmed as new ones arrive.
CREATE TABLE IF NOT EXISTS durations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id    TEXT NOT NULL,
    duration    TEXT NOT NULL,
    resolution  TEXT NOT NULL,
    seconds     REAL NOT NULL,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS durations_key ON durations (model_id, duration, resolution, id);
