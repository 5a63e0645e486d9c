-- After the sale: refunds before a deadline, and the waiting list.

-- Refunds: until refund_hours_before the performance, minus refund_fee_percent (whole
-- won, rounded down); a DBA's refund (a cancelled show) is in full.
ALTER TABLE ticket.concerts
  ADD COLUMN refund_hours_before int NOT NULL DEFAULT 24 CHECK (refund_hours_before BETWEEN 0 AND 8760),
  ADD COLUMN refund_fee_percent int NOT NULL DEFAULT 10 CHECK (refund_fee_percent BETWEEN 0 AND 100),
  -- Sold-out waiters poll slowly, so they are dropped after a longer silence.
  ADD COLUMN waitlist_idle_seconds int NOT NULL DEFAULT 600 CHECK (waitlist_idle_seconds BETWEEN 60 AND 86400);

ALTER TABLE ticket.reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE ticket.reservations ADD CONSTRAINT reservations_status_check
  CHECK (status IN ('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED', 'REFUNDED'));
COMMENT ON TABLE ticket.reservations IS
  'A hold of one or more seats of one date; HELD past expires_at counts as EXPIRED at once; CONFIRMED when paid, REFUNDED when paid back.';

CREATE TABLE ticket.refunds (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reservation_id  bigint NOT NULL UNIQUE REFERENCES ticket.reservations,
  payment_id      bigint NOT NULL UNIQUE REFERENCES ticket.payments,
  amount          bigint NOT NULL CHECK (amount >= 0),  -- paid back
  fee             bigint NOT NULL CHECK (fee >= 0),     -- kept
  ledger_id       bigint UNIQUE REFERENCES ticket.ledger, -- NULL only when nothing was paid back
  refunded_by     text NOT NULL,                          -- the user, or the DBA's role
  reason          text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((ledger_id IS NULL) = (amount = 0))
);
COMMENT ON TABLE ticket.refunds IS
  'One refund per paid reservation at most: the amount paid back with its REFUND ledger row, the fee kept, who and why.';
GRANT SELECT, INSERT, UPDATE, DELETE ON ticket.refunds TO ticket_app;

-- Once a concert has sold out, its queue is the waiting list: each admission is for a
-- seat that came back (ticket.admit), not for max_active buyers at once.
ALTER TABLE ticket.queues ADD COLUMN waitlist boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN ticket.queues.waitlist IS
  'The concert has sold out once: from then on, admissions follow the seats that come back.';

-- Old signatures of functions whose arguments or results changed.
DROP FUNCTION IF EXISTS admin.create_concert(text, text, timestamptz[], int, bigint[], int, int, int);
DROP FUNCTION IF EXISTS admin.sales_report(bigint);
DROP FUNCTION IF EXISTS admin.books();
