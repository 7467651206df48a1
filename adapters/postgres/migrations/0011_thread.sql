-- Thread memory (core.conversation.thread), as SQLite 0011; ``seq`` stands in for SQLite's rowid.
CREATE TABLE IF NOT EXISTS thread_entries (
    job_id   TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    at       DOUBLE PRECISION NOT NULL,
    seq      BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX IF NOT EXISTS thread_entries_chat ON thread_entries (platform, chat_id, user_id, at);
CREATE INDEX IF NOT EXISTS thread_entries_user ON thread_entries (platform, user_id, at);
