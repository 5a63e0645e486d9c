# Concert ticketing service: build, run and test from nothing on Debian 12.
#
#   make run    install what is missing, build, start a private PostgreSQL
#               under $(VAR), migrate, load the demo, serve; Ctrl-C stops it
#   make test   the same in a throwaway cluster, then every test suite
#
# `make help` lists every target.  Everything that runs (PostgreSQL, and later
# lighttpd and the programs) runs as an unprivileged user, never as root.

# ---------------------------------------------------------------- settings

# Every recipe is one bash script that stops at the first error.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
# Prerequisites run in the order written (deps before build before db).
.NOTPARALLEL:

# Debian packages: etc/debian-packages.txt, installed by scripts/deps.sh.
DEPS_LIST ?= $(CURDIR)/etc/debian-packages.txt

# Debian's /usr/bin/psql picks a version by itself; use 15's tools directly.
PGBIN := /usr/lib/postgresql/15/bin
PSQL  := $(PGBIN)/psql

# The embedded cluster listens on a unix socket only, in $(VAR)/run, so the
# port just names the socket and cannot collide with another server.
PGPORT       ?= 55432
TEST_PGPORT  ?= 55433
BENCH_PGPORT ?= 55434
STRESS_PGPORT ?= 55435

# HTTP side of `make run` (lighttpd): MODE=fastcgi or MODE=cgi; in CGI
# mode pgbouncer pools the per-request connections (socket in $(VAR)/run).
MODE ?= fastcgi
PORT ?= 8080
BOUNCER_PORT ?= 6432
# BENCH=1 also serves the bench's constant-answer programs under /_bench/.
BENCH ?=

# `make install`: programs, pages, SQL, and a lighttpd conf-available snippet
# whose programs connect with INSTALL_DBURL.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR    ?=
INSTALL_DBURL ?= host=/var/run/postgresql dbname=ticket user=ticket_web

# SANITIZE=1 builds (and serves, and tests) everything with ASan and UBSan.
ifeq ($(SANITIZE),1)
BUILD := $(CURDIR)/build-san
else
BUILD := $(CURDIR)/build
endif

# Who runs the servers: `ticket` when invoked as root, else the caller.
ifeq ($(shell id -u),0)
RUN_USER := ticket
RUN_AS   := runuser -u $(RUN_USER) -- env -C /
else
RUN_USER :=
RUN_AS   :=
endif

# VAR is the runtime folder (cluster, sockets, logs).  It is $(CURDIR)/var
# unless the run user cannot reach it: a clone may sit under a folder only
# root may enter (/root is 0700), and CI clones wherever it likes.  Then it
# falls back to a folder under /var/tmp named after this tree.  Probed once
# here; recursive calls get it on their command line, so all targets agree.
# Before `ticket` exists, `nobody` stands in for it (same rights: none).
define var_probe
ok=;
if [ "$$(id -u)" = 0 ]; then
  if id -u $(RUN_USER) >/dev/null 2>&1; then as='runuser -u $(RUN_USER) --';
  else as='setpriv --reuid=nobody --regid=nogroup --clear-groups --'; fi;
  ok=yes; d='$(CURDIR)';
  while :; do
    $$as test -x "$$d" || ok=;
    [ "$$d" = / ] && break;
    d=$$(dirname "$$d");
  done;
elif [ -w '$(CURDIR)/var' ] || { [ ! -e '$(CURDIR)/var' ] && [ -w '$(CURDIR)' ]; }; then
  ok=yes;
fi;
if [ -n "$$ok" ]; then echo '$(CURDIR)/var';
else echo "/var/tmp/ticket-$$(printf %s '$(CURDIR)' | sha1sum | cut -c1-12)"; fi
endef
ifneq ($(origin VAR),command line)
VAR := $(shell $(var_probe) 2>/dev/null)
endif
ifeq ($(VAR),)
$(error could not choose a runtime folder)
endif

TEST_VAR := $(VAR)/test

# libpq conninfo: $(call conninfo,VAR,PORT,DATABASE)
conninfo = host=$(1)/run port=$(2) dbname=$(3) user=ticket_owner
LOCAL_DBURL := $(call conninfo,$(VAR),$(PGPORT),ticket)
# Only an explicit `make ... DBURL=...` points at another database: a DBURL
# that happens to be in the environment must not.
ifneq ($(origin DBURL),command line)
DBURL := $(LOCAL_DBURL)
endif

MIGRATE := PSQL=$(PSQL) $(CURDIR)/migrations/migrate.sh
PSQL_Q  := $(PSQL) -X -q -v ON_ERROR_STOP=1

# Shell line: fail with a hint when the local database is not up (targets
# that take DBURL= skip it when given another database).
check_local_db = $(if $(filter command line,$(origin DBURL)),:,[ -S '$(VAR)/run/.s.PGSQL.$(PGPORT)' ] || { echo "make: the database is not running; \`make db\` starts it" >&2; exit 1; })

# Recursive calls reuse this call's VAR instead of probing again.
SUBMAKE := $(MAKE) --no-print-directory VAR='$(VAR)'

.PHONY: help deps build db migrate run serve stop clean psql dburl var test bench install \
	stress fuzz with-fresh-db \
	user var-dir cluster-up cluster-down

# ---------------------------------------------------------------- targets

help:
	@cat <<'EOF'
	make run       install deps, build, migrate, load the demo, serve on :$(PORT)
	make test      everything in a throwaway cluster, then every test suite
	make bench     each hot call against its ceiling, growth, a sale-open surge (~5 min)
	make stress    long contention, money and crash runs (test's are bounded)
	make fuzz      each libFuzzer harness for 10 minutes (FUZZ_SECONDS=)
	make deps      install missing Debian packages (apt)
	make build     build the programs into build/
	make db        start the private database and migrate it
	make migrate   apply migrations and functions (DBURL='...' for another db)
	make psql      psql on the running database as its owner
	make -s dburl  print the database's libpq connection string
	make -s var    print the runtime folder
	make stop      stop `make run` and the database
	make clean     stop, then remove the runtime folder and build/
	make install   install into $$(DESTDIR)$$(PREFIX) (PREFIX=$(PREFIX))
	EOF

deps:
	@scripts/deps.sh '$(DEPS_LIST)'

build:
	@$(MAKE) -s -C cgi-bin BUILD='$(BUILD)' SANBUILD='$(BUILD)' all unit

db: deps cluster-up
	@$(MIGRATE) '$(LOCAL_DBURL)'

migrate:
	@$(check_local_db)
	$(MIGRATE) '$(DBURL)'

# The whole of `make run` is this one script, so that it can hold the lock
# and clean up whatever it started, however it ends.
run:
	@$(SUBMAKE) var-dir
	# One `make run` per tree: a second one must not rebuild or migrate
	# under the first.  Commands that may leave a daemon behind get `9>&-`
	# so the daemon does not inherit (and keep holding) the lock.
	exec 9>>'$(VAR)/run.lock'
	if ! flock -n 9; then
	  echo "make run: already running (pid $$(cat '$(VAR)/run.pid' 2>/dev/null || echo '?'))" >&2
	  exit 1
	fi
	echo $$$$ >'$(VAR)/run.pid'
	pids=()   # foreground services, stopped on exit
	stop_all() {
	  trap '' INT TERM HUP
	  for p in "$${pids[@]}"; do kill -TERM -- "-$$p" 2>/dev/null || kill -TERM "$$p" 2>/dev/null || true; done
	  wait || true
	  $(SUBMAKE) cluster-down 9>&- || true
	  rm -f '$(VAR)/run.pid'
	  echo "make run: stopped"
	}
	trap stop_all EXIT
	trap 'exit 0' INT TERM HUP
	$(SUBMAKE) deps build db 9>&-
	$(PSQL_Q) -d '$(LOCAL_DBURL)' -c 'SELECT admin.seed_demo()' >/dev/null
	# The web side in a session of its own, so stop_all can end it as a group.
	setsid $(SUBMAKE) serve 9>&- & pids+=($$!)
	for _ in $$(seq 100); do
	  curl -sf -o /dev/null 'http://127.0.0.1:$(PORT)/api/health' && break
	  kill -0 "$${pids[-1]}" 2>/dev/null || exit 1
	  sleep 0.1
	done
	cat <<-EOF
	
	open:      http://127.0.0.1:$(PORT)/   ($(MODE) mode)
	try:       curl -s -X POST -H 'Content-Type: application/json' -d '{"name":"alice"}' http://127.0.0.1:$(PORT)/api/users
	database:  $(LOCAL_DBURL)
	psql:      make psql   (or: $(PSQL) '$(LOCAL_DBURL)')
	logs:      $(VAR)/log/
	Running in the foreground; Ctrl-C (or make stop) stops everything.
	EOF
	# Returns when a service ends or a signal arrives (the traps then exit).
	status=0
	wait -n "$${pids[@]}" || status=$$?
	echo "make run: a service exited (status $$status)" >&2
	exit 1

# lighttpd (and pgbouncer in CGI mode) in the foreground against the
# database in $(VAR), until a signal.  The programs and pages are copied
# into $(VAR)/www first: the run user may not reach this tree (see VAR).
serve: var-dir
	@www='$(VAR)/www'
	rm -rf "$$www"
	mkdir -p "$$www/build"
	cp -R htdocs "$$www/htdocs"
	cp -R '$(BUILD)/cgi-bin' "$$www/build/cgi-bin"
	$(if $(filter 1,$(BENCH)),cp -R '$(BUILD)/bench' "$$www/build/bench")
	chmod -R a+rX "$$www"
	pids=()
	trap 'trap "" TERM; kill -TERM "$${pids[@]}" 2>/dev/null; wait' EXIT
	trap 'exit 0' INT TERM HUP
	dburl='host=$(VAR)/run port=$(PGPORT) dbname=ticket user=ticket_web'
	if [ '$(MODE)' = cgi ]; then
	  # Transaction pooling: a CGI process holds a server connection only
	  # for its one call, and the role pins who it is.
	  cat >'$(VAR)/pgbouncer.ini' <<-EOF
	[databases]
	ticket = $$dburl
	[pgbouncer]
	listen_addr =
	listen_port = $(BOUNCER_PORT)
	unix_socket_dir = $(VAR)/run
	auth_type = any
	pool_mode = transaction
	max_client_conn = 2000
	default_pool_size = 20
	# A database that is down answers 503 in seconds, not after 2 minutes,
	# and is used again within a second of coming back.
	query_wait_timeout = 5
	server_login_retry = 1
	logfile = $(VAR)/log/pgbouncer.log
	EOF
	  $(RUN_AS) /usr/sbin/pgbouncer -q '$(VAR)/pgbouncer.ini' & pids+=($$!)
	  dburl='host=$(VAR)/run port=$(BOUNCER_PORT) dbname=ticket user=ticket_web'
	  for _ in $$(seq 50); do [ -S '$(VAR)/run/.s.PGSQL.$(BOUNCER_PORT)' ] && break; sleep 0.1; done
	fi
	TICKET_MODE='$(MODE)' TICKET_PORT='$(PORT)' TICKET_VAR='$(VAR)' \
	TICKET_DOCROOT="$$www/htdocs" TICKET_BUILD="$$www/build" TICKET_DBURL="$$dburl" \
	TICKET_USER='$(or $(RUN_USER),$(shell id -un))' TICKET_BENCH='$(BENCH)' \
	  /usr/sbin/lighttpd -D -f '$(CURDIR)/lighttpd.conf' & pids+=($$!)
	wait -n || true
	echo "make serve: a service exited" >&2
	exit 1

stop:
	@if [ -f '$(VAR)/run.pid' ] && ! flock -n '$(VAR)/run.lock' true; then
	  pid=$$(cat '$(VAR)/run.pid')
	  echo "make stop: stopping make run (pid $$pid)"
	  kill -TERM "$$pid"
	  flock -w 60 '$(VAR)/run.lock' true
	fi
	$(SUBMAKE) cluster-down

clean: stop
	@$(SUBMAKE) VAR='$(TEST_VAR)' PGPORT=$(TEST_PGPORT) cluster-down
	$(SUBMAKE) VAR='$(VAR)/bench' PGPORT=$(BENCH_PGPORT) cluster-down
	rm -rf -- '$(VAR)' '$(CURDIR)/build' '$(CURDIR)/build-san'

psql:
	@$(check_local_db)
	exec $(PSQL) '$(DBURL)'

dburl:
	@echo '$(DBURL)'

var:
	@echo '$(VAR)'

# Fresh cluster in $(TEST_VAR) on its own port; stopped however the run ends.
# The last line printed is the harness's `N passed, N failed, N skipped`.
test: deps build
	@$(SUBMAKE) with-fresh-db FRESH_VAR='$(TEST_VAR)' FRESH_PGPORT=$(TEST_PGPORT) \
	  FRESH_SETUP='CREATE EXTENSION IF NOT EXISTS pgtap' FRESH_RUN=tests/harness

# Not part of `make test`: bench/run.sh says what it measures; docs/bench.md how to read it.
bench: deps build
	@$(MAKE) -s -C bench BUILD='$(BUILD)'
	@$(SUBMAKE) with-fresh-db FRESH_VAR='$(VAR)/bench' FRESH_PGPORT=$(BENCH_PGPORT) \
	  FRESH_SETUP='SELECT 1' FRESH_RUN=bench/run.sh

# Not part of `make test` (which runs their bounded versions): the long
# contention, money and crash runs, and each fuzzer for 10 minutes.
stress: deps build
	@$(SUBMAKE) with-fresh-db FRESH_VAR='$(VAR)/stress' FRESH_PGPORT=$(STRESS_PGPORT) \
	  FRESH_SETUP='SELECT 1' FRESH_RUN=tests/stress/run-long.sh

fuzz: deps
	@tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

# A fresh cluster in $(FRESH_VAR) on its own port, migrated, then
# $(FRESH_RUN) with the database in the environment; the cluster is stopped
# however the run ends, and the run's status is the target's.
with-fresh-db: var-dir
	@exec 8>>'$(FRESH_VAR).lock'
	flock -n 8 || { echo "make: another run is using $(FRESH_VAR)" >&2; exit 1; }
	dburl='$(call conninfo,$(FRESH_VAR),$(FRESH_PGPORT),ticket)'
	cluster() { $(SUBMAKE) VAR='$(FRESH_VAR)' PGPORT=$(FRESH_PGPORT) "$$@" 8>&-; }
	cluster cluster-down   # left over by an interrupted run
	rm -rf -- '$(FRESH_VAR)'
	trap 'status=$$?; cluster cluster-down || true; exit $$status' EXIT
	cluster cluster-up
	$(MIGRATE) "$$dburl"
	$(PSQL_Q) -d "$$dburl" -c 'SET client_min_messages = warning' -c "$(FRESH_SETUP)" >/dev/null
	PATH='$(PGBIN)':"$$PATH" \
	PGHOST='$(FRESH_VAR)/run' PGPORT='$(FRESH_PGPORT)' PGDATABASE=ticket PGUSER=ticket_owner \
	TICKET_DBURL="$$dburl" TICKET_VAR='$(FRESH_VAR)' TICKET_ROOT='$(CURDIR)' \
	TICKET_BUILD='$(BUILD)' TICKET_RUNUSER='$(RUN_USER)' \
	  '$(CURDIR)/$(FRESH_RUN)' 8>&-

install:
	@share='$(DESTDIR)$(PREFIX)/share/ticket'
	install -d "$$share/migrations" "$$share/plpgsql"
	install -m 0755 migrations/migrate.sh "$$share/migrations/"
	shopt -s nullglob
	for dir in migrations plpgsql; do
	  files=("$$dir"/*.sql)
	  [ $${#files[@]} -eq 0 ] || install -m 0644 "$${files[@]}" "$$share/$$dir/"
	done
	install -d "$$share/htdocs"
	cp -R htdocs/. "$$share/htdocs/"
	$(MAKE) -s -C cgi-bin install BUILD='$(BUILD)' DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)'
	# lighttpd's routes and FastCGI programs, for an existing lighttpd
	# (Debian: lighttpd-enable-mod ticket); the same lines `make run` uses.
	conf='$(DESTDIR)$(SYSCONFDIR)/lighttpd/conf-available/50-ticket.conf'
	install -d "$$(dirname "$$conf")"
	{
	  echo '# Concert tickets: /api/ to the programs in $(PREFIX)/lib/ticket/cgi-bin.'
	  echo '# Pages: point server.document-root (or an alias) at $(PREFIX)/share/ticket/htdocs.'
	  echo '# Database: TICKET_DBURL below; apply the schema with make migrate DBURL=...'
	  echo 'server.modules += ( "mod_rewrite", "mod_alias", "mod_setenv", "mod_fastcgi", "mod_cgi" )'
	  echo 'var.mode = "fastcgi"'
	  echo 'var.bin = "$(PREFIX)/lib/ticket/cgi-bin"'
	  echo 'var.sockets = "/run/lighttpd"'
	  echo 'var.dburl = "$(INSTALL_DBURL)"'
	  echo 'var.timeout = ""'
	  echo 'var.procs = 2'
	  sed -n '/^# Which program serves which/,$$p' lighttpd.conf
	} >"$$conf"
	echo "installed into $(DESTDIR)$(PREFIX) and $$conf"

# ------------------------------------------- building blocks (VAR, PGPORT)
# `make run` and `make test` both drive their cluster through these, with
# their own VAR and PGPORT.

user:
ifneq ($(RUN_USER),)
	@id -u $(RUN_USER) >/dev/null 2>&1 && exit 0
	echo "creating system user $(RUN_USER)"
	useradd --system --no-create-home --shell /usr/sbin/nologin $(RUN_USER)
endif

# $(VAR) belongs to the run user.  Under /var/tmp anyone may have created
# it first, so refuse a symlink or a stranger's folder instead of using it.
var-dir: user
	@v='$(VAR)'
	if [ -L "$$v" ] || { [ -e "$$v" ] && [ ! -d "$$v" ]; }; then
	  echo "make: $$v is not a plain directory" >&2; exit 1
	fi
	[ -d "$$v" ] || mkdir -m 0750 "$$v"   # its parent exists: CURDIR, /var/tmp or VAR
	owner=$$(stat -c %U "$$v")
	case "$$owner" in
	  "$$(id -un)"|$(or $(RUN_USER),"$$(id -un)")) ;;
	  *) echo "make: $$v belongs to $$owner, not to us" >&2; exit 1 ;;
	esac
	$(if $(RUN_USER),chown $(RUN_USER): "$$v")

# Initialise (once), start (unless running) and create the database.
cluster-up: var-dir
	@pgdata='$(VAR)/pg'
	$(RUN_AS) mkdir -p '$(VAR)/run' '$(VAR)/log'
	if [ ! -e "$$pgdata" ]; then
	  echo "initialising PostgreSQL cluster in $$pgdata"
	  out=$$($(RUN_AS) $(PGBIN)/initdb -D "$$pgdata" -U ticket_owner --auth=trust \
	    -E UTF8 --locale=C.UTF-8 2>&1) || { echo "$$out" >&2; exit 1; }
	  cat >>"$$pgdata/postgresql.conf" <<-EOF
	
	# ---- added by the project Makefile
	listen_addresses = ''
	port = $(PGPORT)
	unix_socket_directories = '$(VAR)/run'
	unix_socket_permissions = 0770
	shared_preload_libraries = 'pg_cron'
	cron.database_name = 'ticket'
	cron.use_background_workers = on
	max_worker_processes = 16
	max_connections = 300
	shared_buffers = 256MB
	timezone = 'UTC'
	logging_collector = off
	log_destination = 'stderr'
	log_line_prefix = '%m [%p] %q%u@%d '
	EOF
	fi
	if ! $(RUN_AS) $(PGBIN)/pg_ctl -D "$$pgdata" status >/dev/null 2>&1; then
	  echo "starting PostgreSQL on $(VAR)/run port $(PGPORT)"
	  $(RUN_AS) $(PGBIN)/pg_ctl -D "$$pgdata" -l '$(VAR)/log/postgresql.log' \
	    -o '-p $(PGPORT)' -w -s start \
	    || { tail -n 20 '$(VAR)/log/postgresql.log' >&2; exit 1; }
	fi
	$(PSQL_Q) -d '$(call conninfo,$(VAR),$(PGPORT),postgres)' <<-'EOF'
	SELECT 'CREATE DATABASE ticket OWNER ticket_owner'
	 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'ticket') \gexec
	EOF

cluster-down:
	@pgdata='$(VAR)/pg'
	[ -f "$$pgdata/postmaster.pid" ] || exit 0
	$(RUN_AS) $(PGBIN)/pg_ctl -D "$$pgdata" status >/dev/null 2>&1 || exit 0
	$(RUN_AS) $(PGBIN)/pg_ctl -D "$$pgdata" -m fast -w -s stop
