#!/usr/bin/env bash
# make install: the programs, the page, the SQL with ticket-migrate, and
# lighttpd's snippet, into $DESTDIR (staging) + these folders:
#
#   PREFIX         [/usr/local]: lib/ticket/cgi-bin, share/ticket, sbin/ticket-migrate
#   SYSCONFDIR     [/etc]: lighttpd/conf-available/50-ticket.conf, lighttpd/ticket/
#   INSTALL_DBURL  how the programs reach the database
#                  [host=/var/run/postgresql dbname=ticket user=ticket_web]
#   INSTALL_SOCKETS  folder for the FastCGI sockets, writable by lighttpd's
#                  user [/run/lighttpd]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
PREFIX=${PREFIX:-/usr/local} SYSCONFDIR=${SYSCONFDIR:-/etc} DESTDIR=${DESTDIR:-}
INSTALL_DBURL=${INSTALL_DBURL:-host=/var/run/postgresql dbname=ticket user=ticket_web}
INSTALL_SOCKETS=${INSTALL_SOCKETS:-/run/lighttpd}
case "$INSTALL_DBURL$INSTALL_SOCKETS$PREFIX" in
  *'"'*|*'|'*) die "INSTALL_DBURL, INSTALL_SOCKETS and PREFIX may not hold \" or |" ;;
esac
cd "$ROOT"
share=$DESTDIR$PREFIX/share/ticket
conf=$DESTDIR$SYSCONFDIR/lighttpd

install -d "$share/migrations" "$share/plpgsql" "$share/htdocs" "$share/postgresql"
install -m 0755 migrations/migrate.sh "$share/migrations/"
install -m 0644 migrations/*.sql "$share/migrations/"
install -m 0644 plpgsql/*.sql "$share/plpgsql/"
install -m 0644 etc/postgresql/ticket.conf "$share/postgresql/"
cp -R htdocs/. "$share/htdocs/"
install -D -m 0755 scripts/ticket-migrate "$DESTDIR$PREFIX/sbin/ticket-migrate"
make -s -C cgi-bin install BUILD="$BUILD" DESTDIR="$DESTDIR" PREFIX="$PREFIX"

install -d "$conf/conf-available" "$conf/ticket"
install -m 0644 etc/lighttpd/routes.conf etc/lighttpd/fastcgi.conf etc/lighttpd/cgi.conf "$conf/ticket/"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@SOCKETS@|$INSTALL_SOCKETS|" -e "s|@DBURL@|$INSTALL_DBURL|" \
  -e "s|@JOIN_PROCS@|$((2 * $(nproc)))|" etc/lighttpd/50-ticket.conf >"$conf/conf-available/50-ticket.conf"
echo "installed into $DESTDIR$PREFIX and $conf; next: the README's \"Installing into an existing lighttpd and PostgreSQL\""
