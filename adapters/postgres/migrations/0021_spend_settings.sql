-- Small named values per subject: user budget overrides and "don't ask me", chat pauses, once-notices.
CREATE TABLE IF NOT EXISTS spend_settings (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, subject, name)
);
