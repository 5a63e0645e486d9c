#!/bin/bash
# Bring a database up to date:
#  1. every migrations/NNNN_name.sql not yet recorded in ticket.schema_migrations,
#     in order, each in its own transaction that records it;
#  2. every plpgsql/*.sql (CREATE OR REPLACE), all in one transaction, every run.
#
# Usage: migrations/migrate.sh DBURL      (a libpq conninfo or postgresql:// URL)
# Environment: MIGRATIONS_DIR, PLPGSQL_DIR (default: this folder, ../plpgsql),
#              PSQL (default: psql).
#
# Query results are discarded (a migration can \echo what people should see).
# It all runs in one psql session holding an advisory lock, so a second
# runner started meanwhile waits, then finds every migration applied.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 DBURL" >&2
	exit 2
fi
dburl=$1
here=$(cd "$(dirname "$0")" && pwd)
migrations_dir=${MIGRATIONS_DIR:-$here}
plpgsql_dir=${PLPGSQL_DIR:-$(dirname "$here")/plpgsql}
psql=${PSQL:-psql}

# Byte order for the globs; the SQL files are UTF-8 whatever the locale.
export LC_ALL=C PGCLIENTENCODING=UTF8

# Any lock key will do as long as nothing else in the database uses it.
lock_key=7243010001

die() {
	echo "migrate: $*" >&2
	exit 1
}

# psql's \i takes the path in single quotes.
check_path() {
	case $1 in
	*"'"*) die "$1: file paths must not contain a quote" ;;
	esac
}

[ -d "$migrations_dir" ] || die "no folder $migrations_dir"

shopt -s nullglob
migrations=()
seen=" "
for f in "$migrations_dir"/*.sql; do
	name=$(basename "$f" .sql)
	[[ $name =~ ^[0-9]{4}_[a-z0-9_]+$ ]] ||
		die "$f: a migration is named NNNN_lower_case_name.sql"
	number=${name%%_*}
	case $seen in
	*" $number "*) die "two migrations numbered $number in $migrations_dir" ;;
	esac
	seen="$seen$number "
	check_path "$f"
	# Its own BEGIN/COMMIT would end the transaction that records it.
	if grep -Eiq '^[[:space:]]*(BEGIN|COMMIT|ROLLBACK|START[[:space:]]+TRANSACTION)[[:space:]]*;' "$f"; then
		die "$f: must not contain BEGIN/COMMIT/ROLLBACK (each migration already runs in a transaction)"
	fi
	migrations+=("$f")
done

functions=()
if [ -d "$plpgsql_dir" ]; then
	for f in "$plpgsql_dir"/*.sql; do
		check_path "$f"
		functions+=("$f")
	done
fi

script() {
	cat <<-EOF
		SET client_min_messages = warning;
		SELECT pg_advisory_lock($lock_key) AS locked \gset
		CREATE SCHEMA IF NOT EXISTS ticket;
		CREATE TABLE IF NOT EXISTS ticket.schema_migrations (
		    version    text PRIMARY KEY,
		    applied_at timestamptz NOT NULL DEFAULT now()
		);
		COMMENT ON TABLE ticket.schema_migrations IS
		    'Migrations (migrations/NNNN_name.sql) applied to this database, one row each, written by migrations/migrate.sh in the transaction that applied the file.';
	EOF
	local f name
	for f in "${migrations[@]}"; do
		name=$(basename "$f" .sql)
		cat <<-EOF
			SELECT NOT EXISTS (SELECT 1 FROM ticket.schema_migrations WHERE version = '$name') AS pending \gset
			\if :pending
			BEGIN;
			INSERT INTO ticket.schema_migrations (version) VALUES ('$name');
			\i '$f'
			COMMIT;
			\echo migrate: applied $name
			\endif
		EOF
	done
	if [ ${#functions[@]} -gt 0 ]; then
		printf '%s\n' 'BEGIN;'
		for f in "${functions[@]}"; do
			printf '%s\n' "\\i '$f'"
		done
		printf '%s\n' 'COMMIT;' \
			"\\echo migrate: applied ${#functions[@]} function files from $plpgsql_dir"
	else
		printf '%s\n' "\\echo migrate: no function files in $plpgsql_dir"
	fi
	printf '%s\n' "SELECT pg_advisory_unlock($lock_key) AS unlocked \\gset"
}

script | "$psql" -X -v ON_ERROR_STOP=1 -q -o /dev/null -d "$dburl" -f - ||
	die "failed (see above); the steps after it were not applied"
