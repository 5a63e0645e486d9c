#!/usr/bin/env bash
# What the web role may do, and what the database keeps of secrets.
#
#   ticket_web (the role the programs log in as) cannot SELECT, INSERT, UPDATE
#   or DELETE any table of ticket (nor pg_cron's), cannot call any admin.*,
#   ticket.* or cron.* function, cannot create objects or become another role
#   (42501 every time), and can call api.health().
#
#   After a user, a queue token and an Idempotency-Key charge are made over
#   HTTP, pg_dump --data-only of the database holds the SHA-256 of the key and
#   of the token but never the raw key or token; nor do the service's logs.
#
#   On the sharded topology (make test TOPOLOGY=sharded) the same of the proxy,
#   which the programs log in to: its only tables are pg_cron's and the
#   migrations' record, and route.* (which take a user id on trust) are among
#   the functions it may not call; the dump is that of the partitions of the
#   user and of the concert, and the logs those of every node.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

# web_sqlstate STATEMENT: what ticket_web gets: "ok" or the SQLSTATE.
web_sqlstate() {
  local out
  if out=$(psql -X -q -At -U ticket_web -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -c "$1" 2>&1); then
    echo ok
  else
    sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p' <<<"$out" | head -n 1
  fi
}

# ---- tables
tables=
while IFS='|' read -r schema table col; do
  tables+="$schema.$table "
  got=
  for stmt in "SELECT * FROM $schema.$table LIMIT 1" \
              "INSERT INTO $schema.$table DEFAULT VALUES" \
              "UPDATE $schema.$table SET $col = $col" \
              "DELETE FROM $schema.$table"; do
    got+="$(web_sqlstate "$stmt") "
  done
  is "$got" "42501 42501 42501 42501 " "ticket_web cannot SELECT, INSERT, UPDATE, DELETE $schema.$table"
done < <(sql "SELECT c.relnamespace::regnamespace, c.relname,
                     (SELECT quote_ident(attname) FROM pg_attribute
                       WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum LIMIT 1)
                FROM pg_class c
               WHERE c.relnamespace::regnamespace::text IN ('ticket', 'cron') AND c.relkind IN ('r', 'p', 'v', 'm')
               ORDER BY 1, 2")
# shellcheck disable=SC2317 # called by check
tried() { local t; for t in "$@"; do [[ " $tables" == *" $t "* ]] || return 1; done; }
if sharded; then
  # shellcheck disable=SC2086 # one word a table
  is "$(printf '%s\n' $tables | sort | paste -sd' ')" "cron.job cron.job_run_details ticket.schema_migrations" \
    "the proxy's tables, all tried: pg_cron's and the migrations' record, no data"
else
  check "the tables tried include ticket.users, ticket.wallets, ticket.ledger and cron.job" \
    tried ticket.users ticket.wallets ticket.ledger cron.job
fi

# ---- functions outside api
n=0
while IFS='|' read -r sig call; do
  n=$((n + 1))
  is "$(web_sqlstate "SELECT $call")" 42501 "ticket_web cannot call $sig"
done < <(sql "SELECT p.oid::regprocedure,
                     format('%I.%I(%s)', n.nspname, p.proname,
                            coalesce((SELECT string_agg('NULL::' || format_type(t, NULL), ', ')
                                        FROM unnest(p.proargtypes) t), ''))
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname IN ('admin', 'ticket', 'cron', 'route') AND p.prokind = 'f'
               ORDER BY p.oid::regprocedure::text")
check "at least 30 admin, ticket, cron and route functions were tried ($n)" test "$n" -ge 30

# ---- what else it cannot do, and what it can
is "$(web_sqlstate 'CREATE TABLE public.web_was_here (x int)')" 42501 "ticket_web cannot create a table in public"
is "$(web_sqlstate 'CREATE TEMP TABLE web_was_here (x int)')" 42501 "ticket_web cannot create a temporary table"
is "$(web_sqlstate 'SET ROLE ticket_owner')" 42501 "ticket_web cannot SET ROLE ticket_owner"
is "$(web_sqlstate 'CREATE SCHEMA web_was_here')" 42501 "ticket_web cannot create a schema"
is "$(psql -X -q -At -U ticket_web -c 'SELECT status, body FROM api.health()')" \
  '200|{"status" : "ok", "database" : "ok"}' "ticket_web can call api.health()"
is "$(web_sqlstate 'SELECT * FROM api.list_concerts()')" ok "ticket_web can call api.list_concerts()"

# ---- secrets are kept as hashes only
start_service fastcgi 18131
new_user privileged
key=$NEW_KEY uid=$NEW_ID
cid=$(new_concert 10 5 1 10)
req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$key")"
expect 201 "a queue token over HTTP" '.token | type == "string" and length >= 32'
token=$(jv .token)
post /api/wallet/charge '{"amount": 1000}' -H "$(bearer "$key")" -H 'Idempotency-Key: priv-1'
expect 200 "a charge with an Idempotency-Key" '.balance == 1000'
stop_service 18131

dump="$WORK/dump.sql"
if sharded; then
  { pg_dump --data-only --no-owner -d "$(partition_url users "$uid")"
    pg_dump --data-only --no-owner -d "$(partition_url concerts "$cid")"; } >"$dump"
  logs=("$TICKET_TOPOLOGY_VAR"/nodes/*/log)
else
  pg_dump --data-only --no-owner -f "$dump" "$PGDATABASE"
  logs=("$TICKET_VAR/log")
fi
sha() { printf %s "$1" | sha256sum | cut -c1-64; }
check "the dump holds the users (the SHA-256 of the key is in it)" grep -q "$(sha "$key")" "$dump"
check "the dump holds the tokens (the SHA-256 of the token is in it)" grep -q "$(sha "$token")" "$dump"
refute "the raw api_key is nowhere in pg_dump --data-only" grep -qF -- "$key" "$dump"
refute "the raw queue token is nowhere in pg_dump --data-only" grep -qF -- "$token" "$dump"
refute "the key without its prefix is not in the dump either" grep -qF -- "${key#tk_}" "$dump"
refute "neither is in the service's logs" grep -rqF -e "$key" -e "$token" "${logs[@]}"

finish
