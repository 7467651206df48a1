-- Keys of platform deliveries already handled (Feishu event_id / message_id ...), kept long enough to
-- outlive every redelivery (Feishu retries for about 7.1 h).
CREATE TABLE IF NOT EXISTS dedupe_keys (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dedupe_keys_expires_at ON dedupe_keys (expires_at);
