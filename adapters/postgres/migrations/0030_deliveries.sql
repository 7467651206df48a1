-- Exactly-once delivery records, as SQLite 0030 (core/pipeline/delivery.py): 'intent' written before the
-- platform call, 'sent' (with the platform's message id) after it.
CREATE TABLE IF NOT EXISTS deliveries (
    job_id      TEXT NOT NULL,
    part        TEXT NOT NULL,
    token       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('intent', 'sent')),
    ref         TEXT,
    intended_at DOUBLE PRECISION NOT NULL,
    sent_at     DOUBLE PRECISION,
    attempts    INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (job_id, part)
);
