-- queue_tokens' nine CHECKs as one function of the row. PostgreSQL reads each CHECK's
-- stored expression back from text and plans it again for every INSERT and UPDATE
-- statement, each admission, heartbeat and end of a turn as much as a join. A
-- PL/pgSQL function's expression is planned once a session: a join took 247 µs with
-- the nine and 214 µs with this (a loop of joins in one session, each its own
-- transaction, the two alternated). The rules are the same, clause for clause
-- (tests/sql/01_schema.sql compares them with the nine on every combination of the
-- values they look at). Being part of a constraint, the function is defined here,
-- not in plpgsql/: changing a rule is a migration that checks the rows again.
CREATE FUNCTION ticket.queue_token_valid(p_status text, p_seq bigint, p_activated_at timestamptz,
                                         p_expires_at timestamptz, p_ended_at timestamptz,
                                         p_entry_id text, p_nonce bytea, p_token_hash bytea)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  -- NULL passes a CHECK, as each of the nine let it.
  RETURN p_status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE', 'DONE', 'EXPIRED', 'LEFT', 'SOLD_OUT')
     -- live tokens have not ended, ended ones have
     AND (p_status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE')) = (p_ended_at IS NULL)
     -- a turn has a start and an end, or neither; an ACTIVE token has both
     AND (p_activated_at IS NULL) = (p_expires_at IS NULL)
     AND (p_status <> 'ACTIVE' OR p_activated_at IS NOT NULL)
     -- a place in line from 1, and only a pre-queue entry (or one that left it) has none
     AND p_seq > 0
     AND (p_seq IS NOT NULL OR (p_status IN ('PRE_QUEUE', 'LEFT') AND p_activated_at IS NULL))
     -- the public entry id: 16 base64url characters
     AND (p_entry_id ~ '^[A-Za-z0-9_-]+$' AND length(p_entry_id) = 16)
     -- a 16-byte nonce and a sha256
     AND octet_length(p_nonce) = 16
     AND octet_length(p_token_hash) = 32;
END
$$;
COMMENT ON FUNCTION ticket.queue_token_valid(text, bigint, timestamptz, timestamptz, timestamptz, text, bytea, bytea) IS
  'The rules of a queue_tokens row (its CHECK queue_tokens_rules): status, turn times, seq, entry id, nonce and hash.';

ALTER TABLE ticket.queue_tokens
  DROP CONSTRAINT queue_tokens_status_check,
  DROP CONSTRAINT queue_tokens_live_not_ended,
  DROP CONSTRAINT queue_tokens_check,
  DROP CONSTRAINT queue_tokens_check1,
  DROP CONSTRAINT queue_tokens_seq_check,
  DROP CONSTRAINT queue_tokens_seq_placed,
  DROP CONSTRAINT queue_tokens_entry_id_check,
  DROP CONSTRAINT queue_tokens_nonce_check,
  DROP CONSTRAINT queue_tokens_token_hash_check,
  ADD CONSTRAINT queue_tokens_rules
    CHECK (ticket.queue_token_valid(status, seq, activated_at, expires_at, ended_at, entry_id, nonce, token_hash));
