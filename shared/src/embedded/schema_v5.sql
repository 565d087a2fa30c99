-- v5: posted ledger entries (accounting for the ERP), each id once, by the day they occurred.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX ledger_entries_by_day ON ledger_entries (day, occurred_at, id);
