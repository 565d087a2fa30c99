-- Schema version 2: the event journal behind `paybridge trace` and `paybridge replay`.

CREATE TABLE journal_entries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    business_key TEXT    NOT NULL,
    entry        TEXT    NOT NULL
);
CREATE INDEX journal_entries_by_key ON journal_entries (business_key, seq);

CREATE TABLE journal_envelopes (
    source   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    envelope TEXT NOT NULL,
    PRIMARY KEY (source, event_id)
);
