-- A queue token names its row: qt_<concert_id>.<token_id>.<secret>. A poll finds the
-- row by its key and compares the hash, and the unique index over token hashes goes:
-- its random keys cost every join an index insert on a random page (after a checkpoint
-- a full page image in the WAL). The concert id lets a proxy route a poll without a
-- lookup.
ALTER TABLE ticket.queue_tokens DROP CONSTRAINT queue_tokens_token_hash_key;

-- Tokens issued before keep working until they end: they are found by their hash, in
-- an index that only they are in.
ALTER TABLE ticket.queue_tokens ADD COLUMN legacy_token boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN ticket.queue_tokens.legacy_token IS
  'Issued as qt_<secret> before tokens named their row: found by token_hash (queue_tokens_legacy_hash).';
UPDATE ticket.queue_tokens SET legacy_token = true WHERE status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE');
CREATE UNIQUE INDEX queue_tokens_legacy_hash ON ticket.queue_tokens (token_hash) WHERE legacy_token;

DROP FUNCTION IF EXISTS ticket.queue_token(text, bytea);
