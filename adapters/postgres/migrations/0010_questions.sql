-- Question memory (core.conversation.questions), as SQLite 0010; ``seq`` orders questions asked in the
-- same instant (SQLite uses its rowid).
CREATE TABLE IF NOT EXISTS questions (
    question_id TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    language    TEXT NOT NULL,
    asked_at    DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL,
    subject_id  TEXT NOT NULL DEFAULT '',
    options     TEXT NOT NULL DEFAULT '[]',
    payload     TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL DEFAULT 'open',
    answer      TEXT,
    seq         BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX IF NOT EXISTS questions_asker ON questions (platform, chat_id, user_id, state, asked_at);
