-- v6: the reconciliation sweep's reports, one per run.
CREATE TABLE reconcile_reports (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    report TEXT NOT NULL
);
