-- The one spend ledger (issue #12), as SQLite 0020; every replica admits and starts jobs against it.
CREATE TABLE IF NOT EXISTS spend_ledger (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    space_id TEXT,
    state TEXT NOT NULL,
    at_gate INTEGER NOT NULL DEFAULT 0,
    points INTEGER NOT NULL DEFAULT 0,
    model_id TEXT,
    admitted_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    settled_at DOUBLE PRECISION,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS spend_ledger_user ON spend_ledger (platform, user_id, state);
CREATE INDEX IF NOT EXISTS spend_ledger_chat ON spend_ledger (platform, chat_id, started_at);
CREATE INDEX IF NOT EXISTS spend_ledger_space ON spend_ledger (platform, space_id, started_at);
CREATE INDEX IF NOT EXISTS spend_ledger_admitted ON spend_ledger (admitted_at);
