-- The sale opening: a set time, a pre-queue placed in a committed random order, and
-- joins that take their place from a per-concert sequence instead of a locked counter.

-- The seed of the pre-queue's order is drawn when the sale is scheduled; only its
-- SHA-256 is shown until the opening, when it is copied to concerts.shuffle_seed.
ALTER TABLE ticket.concerts
  ADD COLUMN sale_opens_at timestamptz,
  ADD COLUMN pre_queue_minutes int NOT NULL DEFAULT 60 CHECK (pre_queue_minutes BETWEEN 0 AND 10080),
  ADD COLUMN shuffle_commitment bytea CHECK (octet_length(shuffle_commitment) = 32),
  ADD COLUMN shuffle_seed bytea CHECK (octet_length(shuffle_seed) = 32),
  ADD COLUMN opened_at timestamptz,
  ADD COLUMN shuffle_entries int CHECK (shuffle_entries >= 0),
  ADD COLUMN shuffle_ms real,
  ADD CHECK ((sale_opens_at IS NULL) = (shuffle_commitment IS NULL)),
  ADD CHECK ((opened_at IS NULL) = (shuffle_seed IS NULL)),
  ADD CHECK ((opened_at IS NULL) = (shuffle_entries IS NULL));
COMMENT ON COLUMN ticket.concerts.sale_opens_at IS 'When the sale opens and the pre-queue is placed; NULL: on sale from creation.';
COMMENT ON COLUMN ticket.concerts.pre_queue_minutes IS 'How long before sale_opens_at people may join the pre-queue.';
COMMENT ON COLUMN ticket.concerts.shuffle_commitment IS 'sha256(seed), published from the scheduling on.';
COMMENT ON COLUMN ticket.concerts.shuffle_seed IS 'The seed of the pre-queue order, published at the opening (NULL before).';
COMMENT ON COLUMN ticket.concerts.opened_at IS 'When the pre-queue was placed (the first call after sale_opens_at).';
COMMENT ON COLUMN ticket.concerts.shuffle_ms IS 'How long placing the pre-queue took, in milliseconds.';

CREATE TABLE ticket.sale_seeds (
  concert_id  bigint PRIMARY KEY REFERENCES ticket.concerts,
  seed        bytea NOT NULL CHECK (octet_length(seed) = 32)
);
COMMENT ON TABLE ticket.sale_seeds IS
  'The secret seed of each scheduled sale; no admin.* or api.* function shows it before the opening.';
GRANT SELECT, INSERT ON ticket.sale_seeds TO ticket_app;

ALTER TABLE ticket.concert_dates ADD COLUMN booking_opens_at timestamptz;
COMMENT ON COLUMN ticket.concert_dates.booking_opens_at IS 'Seats of this date cannot be held before it (NULL: with the sale).';

-- PRE_QUEUE tokens have no seq until the opening; entry_id is their public name.
ALTER TABLE ticket.queue_tokens
  ADD COLUMN entry_id text CHECK (entry_id ~ '^[A-Za-z0-9_-]{16}$'),
  ALTER COLUMN seq DROP NOT NULL,
  DROP CONSTRAINT queue_tokens_status_check,
  DROP CONSTRAINT queue_tokens_check2,
  ADD CONSTRAINT queue_tokens_status_check
    CHECK (status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE', 'DONE', 'EXPIRED', 'LEFT', 'SOLD_OUT')),
  ADD CONSTRAINT queue_tokens_live_not_ended
    CHECK ((status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE')) = (ended_at IS NULL)),
  ADD CONSTRAINT queue_tokens_seq_placed
    CHECK (seq IS NOT NULL OR (status IN ('PRE_QUEUE', 'LEFT') AND activated_at IS NULL));
ALTER TABLE ticket.queue_tokens
  ALTER COLUMN entry_id SET DEFAULT rtrim(translate(encode(gen_random_bytes(12), 'base64'), '+/', '-_'), '=');
UPDATE ticket.queue_tokens SET entry_id = DEFAULT;
ALTER TABLE ticket.queue_tokens ALTER COLUMN entry_id SET NOT NULL;
COMMENT ON COLUMN ticket.queue_tokens.entry_id IS
  'The token''s public name (96 random bits): shown in the shuffle proof, useless as a credential.';

-- The opening writes each entry's rank here, one row per entry: placing 100,000
-- tokens in one statement rewrote each row and its five indexes (seconds). A ranked
-- PRE_QUEUE token waits by its rank; admission turns the ranks at the front into
-- WAITING tokens with seq = rank (ticket.place), a leave or an idle drop turns it
-- into an ended one. No foreign keys: a check per row would double the opening.
CREATE TABLE ticket.pre_queue_ranks (
  concert_id  bigint NOT NULL,
  rank        bigint NOT NULL CHECK (rank > 0),
  token_id    bigint NOT NULL UNIQUE,
  PRIMARY KEY (concert_id, rank)
);
COMMENT ON TABLE ticket.pre_queue_ranks IS
  'The pre-queue''s order drawn at the opening: rank = place in ascending sha256(seed || entry_id).';
GRANT SELECT, INSERT ON ticket.pre_queue_ranks TO ticket_app;

DROP INDEX ticket.queue_tokens_one_live;
CREATE UNIQUE INDEX queue_tokens_one_live ON ticket.queue_tokens (user_id, concert_id)
  WHERE status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE');
CREATE INDEX queue_tokens_pre_queue ON ticket.queue_tokens (concert_id) WHERE status = 'PRE_QUEUE';

-- A join's foreign-key checks share-locked the concert's row (a MultiXact among all
-- the joins in flight, and a WAL record) and the user's row (another record): a third
-- of a join's WAL (make bench: join/D from 0.17 to 0.26). Concerts and users are never
-- deleted (ticket_app may not), a join checks both itself, and admin.check_invariants()
-- reports a token whose concert or user is missing.
ALTER TABLE ticket.queue_tokens
  DROP CONSTRAINT queue_tokens_concert_id_fkey,
  DROP CONSTRAINT queue_tokens_user_id_fkey;
REVOKE DELETE, TRUNCATE ON ticket.concerts, ticket.users FROM ticket_app;

-- Joins take seq from a sequence per concert (ticket.queue_seq_<id>, made by
-- admin.create_concert), so none waits for another's commit. A join that rolls back
-- leaves a hole; `settled` is how far every seq is known to be a committed token or a
-- hole recorded as a drop, and admission never passes it (ticket.settle).
ALTER TABLE ticket.queues
  DROP CONSTRAINT queues_check,
  ADD COLUMN settled bigint NOT NULL DEFAULT 0,
  ADD COLUMN placed bigint NOT NULL DEFAULT 0,
  ADD COLUMN pending_upto bigint,
  ADD COLUMN pending_joins text[],
  ADD CHECK (admitted <= settled),
  ADD CHECK ((pending_upto IS NULL) = (pending_joins IS NULL));
COMMENT ON COLUMN ticket.queues.settled IS
  'Every seq up to here is a committed token or a recorded hole: admission stays at or below it.';
COMMENT ON COLUMN ticket.queues.placed IS
  'Every pre-queue rank up to here is a token with seq = rank (WAITING, or what became of it).';
COMMENT ON COLUMN ticket.queues.pending_upto IS
  'The sequence''s value when the joins pending_joins were running: once they all ended, missing seqs up to here are holes.';
COMMENT ON COLUMN ticket.queues.pending_joins IS
  'Virtual transaction ids of the joins (holders of ticket.sale_lock) running when pending_upto was read.';
COMMENT ON TABLE ticket.queues IS
  'Per-concert queue counters; its row lock serialises admissions (joins take seq from ticket.queue_seq_<id>).';

GRANT CREATE ON SCHEMA ticket TO ticket_app;  -- admin.create_concert makes the sequence
DO $$
DECLARE
  v_q record;
BEGIN
  FOR v_q IN SELECT concert_id, joined FROM ticket.queues LOOP
    EXECUTE format('CREATE SEQUENCE ticket.queue_seq_%s CACHE 1', v_q.concert_id);
    EXECUTE format('ALTER SEQUENCE ticket.queue_seq_%s OWNER TO ticket_app', v_q.concert_id);
    IF v_q.joined > 0 THEN
      PERFORM setval(format('ticket.queue_seq_%s', v_q.concert_id)::regclass, v_q.joined);
    END IF;
  END LOOP;
END
$$;
UPDATE ticket.queues SET settled = joined;
ALTER TABLE ticket.queues DROP COLUMN joined;

-- Old signatures of functions whose arguments or results changed.
DROP FUNCTION IF EXISTS admin.create_concert(text, text, timestamptz[], int, bigint[], int, int, int, int, int);
DROP FUNCTION IF EXISTS admin.add_date(bigint, timestamptz, int, bigint[]);
DROP FUNCTION IF EXISTS admin.queue_report(bigint);
DROP FUNCTION IF EXISTS ticket.token_body(text, bigint, text, bigint, bigint, timestamptz);
