-- The next fresh user joins. The key is looked up in the statement itself, as D's
-- insert has no wrapper either: a PL/pgSQL wrapper (RETURN QUERY) cost about 5 %.
SELECT r.* FROM bench.users u CROSS JOIN LATERAL api.issue_token(u.key, :join) r
WHERE u.n = (SELECT nextval('bench.next_join'));
