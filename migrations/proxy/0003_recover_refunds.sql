-- A refund cut off after its first step is credited by the proxy, which alone sees both
-- sides (admin.recover_refunds).
SELECT cron.schedule('ticket-recover-refunds', '* * * * *', 'SELECT admin.recover_refunds()');
