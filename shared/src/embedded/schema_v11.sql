-- v11: the mapping document (issue 15) as versioned data: every version published, which one
-- is active (none: the environment's, version 0), and the audit trail of every change.
CREATE TABLE mapping_versions (
    version INTEGER PRIMARY KEY CHECK (version > 0),
    document TEXT NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE mapping_active (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    active INTEGER NOT NULL CHECK (active >= 0)
);
CREATE TABLE mapping_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    author TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('published', 'activated')),
    version INTEGER NOT NULL,
    previous INTEGER NOT NULL,
    comment TEXT NOT NULL
);
