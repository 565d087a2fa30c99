-- v7: OAuth2 refresh tokens of accounting systems (they rotate), with the hash of the configured
-- token they descend from.
CREATE TABLE oauth_refresh_tokens (
    name TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    seed_hash TEXT NOT NULL
);
