-- GET /api/metrics is public and a count costs about as much as the seats of every date
-- ahead (a million seats: 0.3 s of a core). The last count is kept here, and a scrape
-- within a few seconds of it answers it instead of counting again (api.metrics).
CREATE TABLE ticket.metrics_snapshot (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  counted_at timestamptz NOT NULL,
  body       text  -- NULL until the first count
);
COMMENT ON TABLE ticket.metrics_snapshot IS 'The last count of /api/metrics (one row), answered again for a few seconds.';
INSERT INTO ticket.metrics_snapshot (counted_at, body) VALUES ('-infinity', NULL);
