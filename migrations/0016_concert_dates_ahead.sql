-- The concerts with a date ahead, found from their dates: what GET /api/concerts?status=
-- reads when ENDED is not asked for (api.list_concerts), instead of every concert the
-- catalogue ever held.
CREATE INDEX concert_dates_ahead ON ticket.concert_dates (starts_at) INCLUDE (concert_id);
