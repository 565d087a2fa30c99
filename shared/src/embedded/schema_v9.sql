-- v9: when each journal row was last written, so the daily purge can keep the journal only
-- JOURNAL_RETENTION_DAYS. Rows from before v9 count as written now: they get a full period.
ALTER TABLE journal_entries ADD COLUMN recorded_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE journal_envelopes ADD COLUMN recorded_at_ms INTEGER NOT NULL DEFAULT 0;
UPDATE journal_entries SET recorded_at_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
UPDATE journal_envelopes SET recorded_at_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
CREATE INDEX journal_entries_by_time ON journal_entries (recorded_at_ms);
CREATE INDEX journal_envelopes_by_time ON journal_envelopes (recorded_at_ms);
CREATE INDEX envelopes_by_time ON envelopes (stored_at_ms);
CREATE INDEX idempotency_records_by_expiration ON idempotency_records (expiration);
