-- Platform deliveries recorded before they are acknowledged, as SQLite 0051.
CREATE TABLE IF NOT EXISTS inbox (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    held_until DOUBLE PRECISION NOT NULL,
    finished BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS inbox_unfinished ON inbox (held_until) WHERE NOT finished;
