-- What one count of /api/metrics costs (a scrape that finds the last count too old).
SELECT ticket.metrics_text();
