-- GET /api/concerts?status=UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT, as the page asks.
SELECT * FROM api.list_concerts('{UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT}');
