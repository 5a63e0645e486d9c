-- GET /api/concerts: every concert, the catalogue's past included.
SELECT * FROM api.list_concerts();
