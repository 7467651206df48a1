-- Users' own IMA keys, Fernet-encrypted (the plaintext is never stored).
CREATE TABLE IF NOT EXISTS user_keys (
    platform TEXT NOT NULL,
    user_id TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    last4 TEXT NOT NULL,
    linked_at DOUBLE PRECISION NOT NULL,
    invalid INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, user_id)
);
