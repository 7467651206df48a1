-- Pending and answered spend confirmations (durable across restarts).
CREATE TABLE IF NOT EXISTS spend_confirmations (
    job_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    space_id TEXT,
    points INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    asked_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS spend_confirmations_owner ON spend_confirmations (platform, user_id, chat_id, state);
CREATE INDEX IF NOT EXISTS spend_confirmations_expiry ON spend_confirmations (state, expires_at);
