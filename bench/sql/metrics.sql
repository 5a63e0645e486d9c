-- GET /api/metrics, a Prometheus scrape.
SELECT * FROM api.metrics();
