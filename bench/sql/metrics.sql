-- GET /api/metrics, scraped by many at once: the last count answered (api.metrics keeps
-- it 5 s), about one new count per 5 s.
SELECT * FROM api.metrics();
