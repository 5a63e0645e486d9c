-- A refund in three steps, like a payment (0009): the seats come back and the refund
-- is recorded on the concert's side, under the refund's reference, with its credit
-- pending; the wallet is credited on the user's side, once per reference; the ledger
-- row's id is then recorded with the refund. A credit cannot be refused, so nothing is
-- ever undone: admin.recover_refunds() credits and confirms whatever a crash left
-- pending. On one database the three run in one transaction.

ALTER TABLE ticket.refunds
  ADD COLUMN ref text UNIQUE CHECK (ref ~ '^[ -~]{1,100}$'),
  -- A refund with an amount and no ledger row yet is a credit still pending.
  DROP CONSTRAINT refunds_check,
  ADD CONSTRAINT refunds_ledger_when_paid_back CHECK (amount > 0 OR ledger_id IS NULL);
UPDATE ticket.refunds SET ref = 'refund-' || id;
ALTER TABLE ticket.refunds ALTER COLUMN ref SET NOT NULL;
COMMENT ON COLUMN ticket.refunds.ref IS 'The refund''s reference: its credit on the user''s side (ticket.credits).';
COMMENT ON COLUMN ticket.refunds.ledger_id IS
  'The REFUND ledger row once credited; NULL when nothing was paid back, or while the credit is pending (amount > 0).';
CREATE INDEX refunds_pending ON ticket.refunds (created_at) WHERE amount > 0 AND ledger_id IS NULL;

-- The user's side of a refund: one row per reference, with its ledger row, written once.
CREATE TABLE ticket.credits (
  ref             text PRIMARY KEY CHECK (ref ~ '^[ -~]{1,100}$'),
  user_id         bigint NOT NULL REFERENCES ticket.wallets,
  reservation_id  bigint NOT NULL,
  amount          bigint NOT NULL CHECK (amount > 0),
  ledger_id       bigint NOT NULL UNIQUE REFERENCES ticket.ledger,
  created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ticket.credits IS 'The wallet''s side of each refund that paid something back, by its reference, with the ledger row.';
GRANT SELECT, INSERT ON ticket.credits TO ticket_app;
INSERT INTO ticket.credits (ref, user_id, reservation_id, amount, ledger_id, created_at)
SELECT rf.ref, l.user_id, rf.reservation_id, rf.amount, rf.ledger_id, rf.created_at
FROM ticket.refunds rf JOIN ticket.ledger l ON l.id = rf.ledger_id;

-- Its steps replace it (plpgsql/65_refund.sql).
DROP FUNCTION IF EXISTS ticket.refund(ticket.reservations, bigint, bigint, text, text);

SELECT cron.schedule('ticket-recover-refunds', '* * * * *', 'SELECT admin.recover_refunds()');
