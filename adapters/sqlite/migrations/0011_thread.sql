-- Thread memory (core.conversation.thread): which jobs each user started in each chat, newest kept.
CREATE TABLE IF NOT EXISTS thread_entries (
    job_id   TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS thread_entries_chat ON thread_entries (platform, chat_id, user_id, at);
CREATE INDEX IF NOT EXISTS thread_entries_user ON thread_entries (platform, user_id, at);
