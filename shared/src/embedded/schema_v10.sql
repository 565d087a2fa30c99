-- v10: no second copy of every published event. The journal keeps what replay needs, sealed;
-- a settled message leaves nothing behind (secure_delete overwrites the dropped pages).
DROP TABLE envelopes;
