-- v8: customer links (Kentico customer <-> Stripe Customer), what paybridge last wrote on each side,
-- and each Stripe Customer's subscriptions and invoices (JSON, written on a version).
CREATE TABLE customer_links (
    kentico_customer_id INTEGER PRIMARY KEY,
    customer_guid TEXT,
    site TEXT,
    stripe_customer_id TEXT,
    kentico_version TEXT,
    written_to_stripe TEXT,
    written_to_kentico TEXT,
    unlinked INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX customer_links_by_stripe ON customer_links (stripe_customer_id)
    WHERE unlinked = 0 AND stripe_customer_id IS NOT NULL;
CREATE TABLE customer_billing (
    stripe_customer_id TEXT PRIMARY KEY,
    records TEXT NOT NULL,
    version INTEGER NOT NULL
);
