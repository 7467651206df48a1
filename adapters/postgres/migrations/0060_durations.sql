-- Generation times of finished jobs, as SQLite 0060 (core.timing.durations.DurationStore). The
-- PostgreSQL store is still to come; until then a PostgreSQL deployment learns durations in memory.
CREATE TABLE IF NOT EXISTS durations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id    TEXT NOT NULL,
    duration    TEXT NOT NULL,
    resolution  TEXT NOT NULL,
    seconds     DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS durations_key ON durations (model_id, duration, resolution, id);
