-- A payment in three steps, each of which commits on its own side once the seats and
-- the wallet live on different servers (docs/scale.md): the seats are reserved on the
-- concert's side (PAYING: the hold can no longer run out), the wallet is debited on
-- the user's side under the payment's reference, then the sale is confirmed, or the
-- seats released. On one database the three run in one transaction; across servers
-- admin.recover_payments() finishes or undoes whatever a crash left in between, by
-- the reference.

ALTER TABLE ticket.reservations
  DROP CONSTRAINT reservations_status_check,
  DROP CONSTRAINT reservations_check,
  ADD CONSTRAINT reservations_status_check
    CHECK (status IN ('HELD', 'PAYING', 'CONFIRMED', 'EXPIRED', 'CANCELLED', 'REFUNDED')),
  ADD CONSTRAINT reservations_live_not_ended CHECK ((status IN ('HELD', 'PAYING')) = (ended_at IS NULL)),
  ADD COLUMN payment_ref text UNIQUE,
  ADD COLUMN paying_since timestamptz,
  ADD CONSTRAINT reservations_paying CHECK ((status = 'PAYING') = (paying_since IS NOT NULL)),
  ADD CONSTRAINT reservations_paying_ref CHECK (status <> 'PAYING' OR payment_ref IS NOT NULL);
COMMENT ON COLUMN ticket.reservations.payment_ref IS
  'The reference of the payment that reserved it (PAYING) or paid it: the key of its debit on the user''s side.';
COMMENT ON COLUMN ticket.reservations.paying_since IS 'When a payment reserved it; admin.recover_payments() looks at the old ones.';
CREATE INDEX reservations_paying ON ticket.reservations (paying_since) WHERE status = 'PAYING';

-- The user's side of a payment: one row per reference, written once. DEBITED with its
-- ledger row; REFUSED (not enough money); ABORTED by recovery before any debit, so that
-- a debit arriving late for that reference is refused.
CREATE TABLE ticket.debits (
  ref             text PRIMARY KEY CHECK (ref ~ '^[ -~]{1,100}$'),
  user_id         bigint NOT NULL REFERENCES ticket.wallets,
  reservation_id  bigint NOT NULL,
  amount          bigint NOT NULL CHECK (amount > 0),
  outcome         text NOT NULL CHECK (outcome IN ('DEBITED', 'REFUSED', 'ABORTED')),
  ledger_id       bigint UNIQUE REFERENCES ticket.ledger,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((outcome = 'DEBITED') = (ledger_id IS NOT NULL))
);
COMMENT ON TABLE ticket.debits IS
  'The wallet''s side of each payment, by its reference: DEBITED (with the ledger row), REFUSED, or ABORTED by recovery.';
GRANT SELECT, INSERT ON ticket.debits TO ticket_app;

ALTER TABLE ticket.payments ADD COLUMN ref text UNIQUE;
UPDATE ticket.payments SET ref = 'payment-' || id;
ALTER TABLE ticket.payments ALTER COLUMN ref SET NOT NULL;
COMMENT ON COLUMN ticket.payments.ref IS 'The payment''s reference: its debit on the user''s side (ticket.debits).';
UPDATE ticket.reservations r SET payment_ref = p.ref FROM ticket.payments p WHERE p.reservation_id = r.id;
INSERT INTO ticket.debits (ref, user_id, reservation_id, amount, outcome, ledger_id, created_at)
SELECT ref, user_id, reservation_id, amount, 'DEBITED', ledger_id, created_at FROM ticket.payments;

SELECT cron.schedule('ticket-recover-payments', '* * * * *', 'SELECT admin.recover_payments()');
