-- Keys of platform deliveries already handled, as SQLite 0003.
CREATE TABLE IF NOT EXISTS dedupe_keys (
    key TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS dedupe_keys_expires_at ON dedupe_keys (expires_at);
