-- Queue and holds under every interleaving (see plpgsql/20_queue.sql, 50_reservation.sql).

-- The functions run as an owner that is neither a superuser nor able to log in: a
-- SECURITY DEFINER function then has exactly the rights on the tables it needs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ticket_app') THEN
    CREATE ROLE ticket_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
  END IF;
END
$$;
COMMENT ON ROLE ticket_app IS 'Owns the api.*, admin.* and ticket.* functions: table rights only, no login, not a superuser.';
GRANT USAGE ON SCHEMA ticket, api, admin TO ticket_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ticket TO ticket_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ticket TO ticket_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA ticket GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ticket_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA ticket GRANT USAGE, SELECT ON SEQUENCES TO ticket_app;

-- The tick became a procedure that commits concert by concert (admin.tick_concert).
DROP FUNCTION IF EXISTS admin.tick();
SELECT cron.alter_job(jobid, command => 'CALL admin.tick()') FROM cron.job WHERE jobname = 'ticket-tick';

-- max_seats_per_user counts held and bought seats; lowering it, like max_active,
-- ends nobody's holds, so the invariant checks only what came after a change.
ALTER TABLE ticket.concerts ADD COLUMN holds_changed_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX reservations_user_concert ON ticket.reservations (user_id, concert_id)
  WHERE status IN ('HELD', 'CONFIRMED');

-- Old signatures of functions whose arguments or results changed.
DROP FUNCTION IF EXISTS ticket.end_turn(bigint, text);
DROP FUNCTION IF EXISTS ticket.wait_estimate(bigint, bigint);
DROP FUNCTION IF EXISTS ticket.gate(text, text, bigint, boolean, boolean);
DROP FUNCTION IF EXISTS ticket.own_reservation(text, text, bigint, boolean);
