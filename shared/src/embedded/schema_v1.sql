-- Schema version 1 of the embedded store: queues, dead letters, envelopes, idempotency, links.

-- One row per message on a queue; `seq` orders them oldest first.
CREATE TABLE messages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    queue          TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    attributes     TEXT    NOT NULL,
    sent_at_ms     INTEGER NOT NULL,
    visible_at_ms  INTEGER NOT NULL,
    receive_count  INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT    UNIQUE
);
CREATE INDEX messages_by_visibility ON messages (queue, visible_at_ms);

-- The dead-letter queue of each queue: attributes include the failure_* ones.
CREATE TABLE dead_letters (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT    NOT NULL UNIQUE,
    queue               TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    attributes          TEXT    NOT NULL,
    original_message_id TEXT    NOT NULL,
    receive_count       INTEGER NOT NULL,
    sent_at_ms          INTEGER NOT NULL,
    failed_at           TEXT    NOT NULL
);
CREATE INDEX dead_letters_by_queue ON dead_letters (queue, seq);

-- Every published envelope, first copy kept, for `paybridge replay`.
CREATE TABLE envelopes (
    source       TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    event_type   TEXT,
    queue        TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    stored_at_ms INTEGER NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX envelopes_by_event ON envelopes (event_id);

-- Powertools-style idempotency records (expiration in unix seconds, the rest in ms).
CREATE TABLE idempotency_records (
    key                    TEXT    PRIMARY KEY,
    status                 TEXT    NOT NULL,
    expiration             INTEGER NOT NULL,
    in_progress_expiration INTEGER,
    payload_hash           TEXT,
    result                 TEXT
);

-- Business-key side effects: permanent, first value wins.
CREATE TABLE effects (
    key            TEXT    PRIMARY KEY,
    value          TEXT    NOT NULL,
    recorded_at_ms INTEGER NOT NULL
);

-- Order links and the PaymentIntent index pointing back at them.
CREATE TABLE order_links (
    order_id            INTEGER PRIMARY KEY,
    order_guid          TEXT,
    site                TEXT,
    payment_intent_id   TEXT,
    checkout_session_id TEXT,
    amount              INTEGER,
    currency            TEXT,
    status_rank         INTEGER NOT NULL DEFAULT 0,
    status_name         TEXT
);
CREATE TABLE payment_intent_links (
    payment_intent_id TEXT    PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES order_links (order_id) ON DELETE CASCADE
);
