-- Platform deliveries recorded before they are acknowledged (scale-out): the raw event, who may process
-- it until when, and whether it was handled. An unfinished row whose hold ran out is taken over.
CREATE TABLE IF NOT EXISTS inbox (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    expires_at REAL NOT NULL,
    held_until REAL NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbox_unfinished ON inbox (held_until) WHERE finished = 0;
