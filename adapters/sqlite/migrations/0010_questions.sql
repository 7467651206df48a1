-- Question memory (core.conversation.questions): what the bot asked a user in a chat and is waiting
-- for (retry offer, spend confirmation, cancel pick). Rows are kept after they are settled so a late
-- answer can be told the truth ("already answered" / "expired").
CREATE TABLE IF NOT EXISTS questions (
    question_id TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    language    TEXT NOT NULL,
    asked_at    REAL NOT NULL,
    expires_at  REAL NOT NULL,
    subject_id  TEXT NOT NULL DEFAULT '',
    options     TEXT NOT NULL DEFAULT '[]',  -- JSON list of strings
    payload     TEXT NOT NULL DEFAULT '{}',  -- JSON object
    state       TEXT NOT NULL DEFAULT 'open',
    answer      TEXT
);
CREATE INDEX IF NOT EXISTS questions_asker ON questions (platform, chat_id, user_id, state, asked_at);
