-- Exactly-once delivery (core/pipeline/delivery.py): one row per result part of a job. 'intent' is
-- written BEFORE the platform call, 'sent' (with the platform's message id) after it; a part left at
-- 'intent' by a crash is re-sent with the same idempotency token, which the platform deduplicates.
CREATE TABLE IF NOT EXISTS deliveries (
    job_id TEXT NOT NULL,
    part TEXT NOT NULL,
    token TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('intent', 'sent')),
    ref TEXT,
    intended_at REAL NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (job_id, part)
);
