-- The whole schema. Constraints here hold even if a function were wrong:
-- a seat cannot have two live claims, a balance cannot go negative, a reservation
-- cannot be paid twice, a user cannot have two live queue tokens for a concert.

CREATE TYPE api.reply AS (
  status      int,   -- HTTP status to send
  body        json,  -- JSON body (NULL for 204)
  retry_after int    -- seconds for a Retry-After header, or NULL
);
COMMENT ON TYPE api.reply IS 'What every api.* function returns: the HTTP status, body and Retry-After.';

CREATE TABLE ticket.users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
  api_key_hash  bytea NOT NULL UNIQUE CHECK (octet_length(api_key_hash) = 32),
  created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ticket.users IS 'People with an API key; only sha256 of the key is kept.';

CREATE TABLE ticket.wallets (
  user_id     bigint PRIMARY KEY REFERENCES ticket.users,
  balance     bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ticket.wallets IS 'Balance in won; changed only by ticket.post_ledger, so it always equals its ledger sum.';

CREATE TABLE ticket.concerts (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title               text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  venue               text NOT NULL CHECK (char_length(venue) BETWEEN 1 AND 200),
  hold_minutes        int NOT NULL DEFAULT 5 CHECK (hold_minutes BETWEEN 1 AND 60),
  max_seats_per_user  int NOT NULL DEFAULT 1 CHECK (max_seats_per_user BETWEEN 1 AND 4),
  max_active          int NOT NULL DEFAULT 100 CHECK (max_active BETWEEN 1 AND 100000),
  active_minutes      int NOT NULL DEFAULT 10 CHECK (active_minutes BETWEEN 1 AND 240),
  idle_seconds        int NOT NULL DEFAULT 120 CHECK (idle_seconds BETWEEN 30 AND 3600),
  created_at          timestamptz NOT NULL DEFAULT now(),
  queue_changed_at    timestamptz NOT NULL DEFAULT now()  -- last change of the queue settings
);
COMMENT ON TABLE ticket.concerts IS 'A concert with its hold and waiting-room settings.';

-- One row per concert. Tokens get gapless arrival numbers (seq) and are admitted in
-- seq order, so a waiting token's position is seq - 1 - admitted - (tokens ahead of it
-- that dropped out while waiting), the last from the Fenwick tree in queue_drops.
CREATE TABLE ticket.queues (
  concert_id    bigint PRIMARY KEY REFERENCES ticket.concerts,
  joined        bigint NOT NULL DEFAULT 0 CHECK (joined >= 0),
  admitted      bigint NOT NULL DEFAULT 0 CHECK (admitted BETWEEN 0 AND joined),
  turn_seconds  real NOT NULL CHECK (turn_seconds > 0),
  sold_out      boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE ticket.queues IS 'Per-concert queue counters; its row lock serialises joins and admissions of that concert.';
COMMENT ON COLUMN ticket.queues.turn_seconds IS 'Moving average of how long an admitted turn lasts, for the ETA.';

CREATE TABLE ticket.queue_drops (
  concert_id  bigint NOT NULL REFERENCES ticket.concerts,
  node        bigint NOT NULL CHECK (node > 0),
  dropped     bigint NOT NULL CHECK (dropped >= 0),
  PRIMARY KEY (concert_id, node)
);
COMMENT ON TABLE ticket.queue_drops IS 'Fenwick tree over seq counting tokens that left the line while waiting (left, idle, sold out): O(log n) positions.';

CREATE TABLE ticket.queue_tokens (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  concert_id    bigint NOT NULL REFERENCES ticket.concerts,
  user_id       bigint NOT NULL REFERENCES ticket.users,
  token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  nonce         bytea NOT NULL CHECK (octet_length(nonce) = 16),
  seq           bigint NOT NULL CHECK (seq > 0),
  status        text NOT NULL CHECK (status IN ('WAITING', 'ACTIVE', 'DONE', 'EXPIRED', 'LEFT', 'SOLD_OUT')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  activated_at  timestamptz,
  expires_at    timestamptz,
  ended_at      timestamptz,
  UNIQUE (concert_id, seq),
  CHECK ((activated_at IS NULL) = (expires_at IS NULL)),
  CHECK (status <> 'ACTIVE' OR activated_at IS NOT NULL),
  CHECK ((status IN ('WAITING', 'ACTIVE')) = (ended_at IS NULL))
) WITH (fillfactor = 80);  -- room for HOT updates of last_seen_at on every poll
COMMENT ON TABLE ticket.queue_tokens IS 'Waiting-room tokens. The token is hmac(api key, nonce): a dump holds neither it nor the key.';
CREATE UNIQUE INDEX queue_tokens_one_live ON ticket.queue_tokens (user_id, concert_id)
  WHERE status IN ('WAITING', 'ACTIVE');
CREATE INDEX queue_tokens_waiting ON ticket.queue_tokens (concert_id, seq) WHERE status = 'WAITING';
CREATE INDEX queue_tokens_active ON ticket.queue_tokens (concert_id, expires_at) WHERE status = 'ACTIVE';

CREATE TABLE ticket.concert_dates (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  concert_id  bigint NOT NULL REFERENCES ticket.concerts,
  on_date     date NOT NULL,
  starts_at   timestamptz NOT NULL,
  UNIQUE (concert_id, on_date)
);
COMMENT ON TABLE ticket.concert_dates IS 'One performance per concert and date.';

CREATE TABLE ticket.reservations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES ticket.users,
  concert_id  bigint NOT NULL REFERENCES ticket.concerts,
  date_id     bigint NOT NULL REFERENCES ticket.concert_dates,
  status      text NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED')),
  amount      bigint NOT NULL CHECK (amount > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  CHECK ((status = 'HELD') = (ended_at IS NULL))
);
COMMENT ON TABLE ticket.reservations IS 'A hold of one or more seats of one date; HELD past expires_at counts as EXPIRED at once.';
CREATE INDEX reservations_user_held ON ticket.reservations (user_id, concert_id) WHERE status = 'HELD';
CREATE INDEX reservations_held_expiry ON ticket.reservations (expires_at) WHERE status = 'HELD';

CREATE TABLE ticket.seats (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  date_id         bigint NOT NULL REFERENCES ticket.concert_dates,
  seat_no         int NOT NULL CHECK (seat_no BETWEEN 1 AND 10000),
  price           bigint NOT NULL CHECK (price > 0),
  reservation_id  bigint REFERENCES ticket.reservations,  -- last holder or the buyer
  held_until      timestamptz,                             -- held while held_until > now()
  sold            boolean NOT NULL DEFAULT false,
  UNIQUE (date_id, seat_no),
  CHECK (NOT (sold AND held_until IS NOT NULL)),
  CHECK (reservation_id IS NOT NULL OR (NOT sold AND held_until IS NULL))
) WITH (fillfactor = 80);
COMMENT ON TABLE ticket.seats IS 'Seats of a date with their current state; reservation_seats.claim is the constraint behind it.';
CREATE INDEX seats_unsold ON ticket.seats (date_id) WHERE NOT sold;

CREATE TABLE ticket.reservation_seats (
  reservation_id  bigint NOT NULL REFERENCES ticket.reservations,
  seat_id         bigint NOT NULL REFERENCES ticket.seats,
  claim           tstzrange NOT NULL,  -- empty once cancelled in the instant it began
  PRIMARY KEY (reservation_id, seat_id),
  -- Double booking is impossible by construction: a hold claims [held, expiry), a sale
  -- [held, infinity), a cancel cuts the claim at the moment of cancelling.
  CONSTRAINT one_claim_per_seat EXCLUDE USING gist (seat_id WITH =, claim WITH &&)
);
COMMENT ON TABLE ticket.reservation_seats IS 'Which seats a reservation claims and for which period; overlapping claims on a seat are rejected.';

CREATE TABLE ticket.ledger (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id         bigint NOT NULL REFERENCES ticket.wallets,
  type            text NOT NULL CHECK (type IN ('CHARGE', 'PAYMENT', 'REFUND')),
  amount          bigint NOT NULL CHECK (amount > 0),
  balance_after   bigint NOT NULL CHECK (balance_after >= 0),
  reservation_id  bigint REFERENCES ticket.reservations,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'CHARGE') = (reservation_id IS NULL))
);
COMMENT ON TABLE ticket.ledger IS 'Every change of a wallet with the balance after it; CHARGE and REFUND add, PAYMENT subtracts.';
CREATE INDEX ledger_user ON ticket.ledger (user_id, id);

CREATE TABLE ticket.payments (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reservation_id  bigint NOT NULL UNIQUE REFERENCES ticket.reservations,
  user_id         bigint NOT NULL REFERENCES ticket.users,
  amount          bigint NOT NULL CHECK (amount > 0),
  ledger_id       bigint NOT NULL UNIQUE REFERENCES ticket.ledger,
  created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ticket.payments IS 'One payment per reservation at most (unique), tied to its ledger row.';

CREATE TABLE ticket.idempotency_keys (
  user_id     bigint NOT NULL REFERENCES ticket.users,
  key         text NOT NULL CHECK (key ~ '^[ -~]{1,255}$'),
  request     text NOT NULL,  -- what was asked; the same key with another request is refused
  status      int,
  body        json,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
COMMENT ON TABLE ticket.idempotency_keys IS 'First answers of charges and payments by Idempotency-Key, kept at least 24 hours.';
CREATE INDEX idempotency_keys_age ON ticket.idempotency_keys (created_at);

CREATE TABLE ticket.request_errors (
  code  text NOT NULL,
  at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ticket.request_errors IS 'Error answers as they happen (insert-only, no hot row); folded into error_counts by admin.tick().';

CREATE TABLE ticket.error_counts (
  code  text PRIMARY KEY,
  n     bigint NOT NULL CHECK (n >= 0)
);
COMMENT ON TABLE ticket.error_counts IS 'Error answers counted per code since the start, for /api/metrics.';

CREATE TABLE ticket.invariant_violations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  checked_at  timestamptz NOT NULL DEFAULT now(),
  invariant   text NOT NULL,
  detail      text NOT NULL
);
COMMENT ON TABLE ticket.invariant_violations IS 'What admin.record_invariants() (pg_cron, every minute) found wrong; empty when healthy.';
