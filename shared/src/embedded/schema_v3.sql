-- Schema version 3: what an order owes per Kentico version, every payable object created for it,
-- who paid it, who may change it now, whether it was canceled in Kentico, and the PaymentIntent its status belongs to.

ALTER TABLE order_links ADD COLUMN order_version TEXT;
ALTER TABLE order_links ADD COLUMN published TEXT;
ALTER TABLE order_links ADD COLUMN paid_by TEXT;
ALTER TABLE order_links ADD COLUMN canceled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_links ADD COLUMN status_payment_intent TEXT;
ALTER TABLE order_links ADD COLUMN lease_holder TEXT;
ALTER TABLE order_links ADD COLUMN lease_until INTEGER;

CREATE INDEX payment_intent_links_by_order ON payment_intent_links (order_id);

CREATE TABLE checkout_session_links (
    checkout_session_id TEXT    PRIMARY KEY,
    order_id            INTEGER NOT NULL REFERENCES order_links (order_id) ON DELETE CASCADE
);
CREATE INDEX checkout_session_links_by_order ON checkout_session_links (order_id);
