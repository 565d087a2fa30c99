-- v4: idempotency records keep their acquisition token, as the DynamoDB adapter does, so every
-- adapter of the idempotency port answers the same (one contract suite for all of them).
ALTER TABLE idempotency_records ADD COLUMN owner TEXT;
