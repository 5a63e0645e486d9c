-- A node of the sharded topology (docs/scale.md) runs this schema for one side of the
-- data only: concerts, queues, seats and reservations on a concert partition; users,
-- wallets and ledgers on a user partition. Foreign keys between the two sides cannot
-- hold there (the row is on another server): the proxy's admin.check_invariants checks
-- them across partitions instead.

CREATE OR REPLACE FUNCTION ticket.become_partition(p_side text)
RETURNS void
-- Run by the owner (scripts/topology.sh): dropping keys and cron jobs takes it.
LANGUAGE plpgsql
AS $$
BEGIN
  IF p_side NOT IN ('concerts', 'users') THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'a partition serves concerts or users';
  END IF;
  IF ticket.node_side() NOT IN ('all', p_side) THEN
    RAISE EXCEPTION USING ERRCODE = 'T409A', MESSAGE = format('this node serves %s already', ticket.node_side());
  END IF;
  UPDATE ticket.node SET side = p_side;
  -- The keys that cross from one side to the other.
  ALTER TABLE ticket.reservations DROP CONSTRAINT IF EXISTS reservations_user_id_fkey;
  ALTER TABLE ticket.payments DROP CONSTRAINT IF EXISTS payments_user_id_fkey,
                              DROP CONSTRAINT IF EXISTS payments_ledger_id_fkey;
  -- A payment's ledger_id is a row of its user's partition, and each user partition
  -- numbers its ledger on its own: across users it is unique only with the user. Unique
  -- alone, two partitions' equal ids refused the second payment's confirmation (23505):
  -- debited, never confirmed, not even by recovery (tests/shard/faults.t).
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'payments_user_ledger_key') THEN
    ALTER TABLE ticket.payments DROP CONSTRAINT IF EXISTS payments_ledger_id_key,
                                ADD CONSTRAINT payments_user_ledger_key UNIQUE (user_id, ledger_id);
  END IF;
  -- The same for a refund's: its credit's row is unique on the user's side (credits).
  ALTER TABLE ticket.refunds DROP CONSTRAINT IF EXISTS refunds_ledger_id_fkey,
                             DROP CONSTRAINT IF EXISTS refunds_ledger_id_key;
  ALTER TABLE ticket.ledger DROP CONSTRAINT IF EXISTS ledger_reservation_id_fkey;
  -- A payment's and a refund's steps meet on the proxy, which recovers them
  -- (admin.recover_payments and admin.recover_refunds there).
  PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname IN ('ticket-recover-payments', 'ticket-recover-refunds');
END
$$;
COMMENT ON FUNCTION ticket.become_partition(text) IS
  'Make this node a concerts or users partition of the sharded topology: drops the keys between the sides and the local payment recovery (scripts/topology.sh, once).';
