# Concert ticketing service: build, run and test from nothing on Debian 12.
#
#   make run    install what is missing, build, start a private PostgreSQL
#               under `make -s var`, migrate, load the demo, serve; Ctrl-C stops it
#   make test   the same in a throwaway cluster, then every test suite
#   make run TOPOLOGY=sharded   the same API through a PL/Proxy database and
#               its partitions, each node a cluster of its own (docs/scale.md)
#
# Each target is one script of scripts/ (they say what they do); settings
# are passed to them in the environment.  Configuration is in etc/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.NOTPARALLEL:

PGPORT        ?= 55432
TEST_PGPORT   ?= 55433
BENCH_PGPORT  ?= 55434
STRESS_PGPORT ?= 55435
MODE ?= fastcgi
PORT ?= 8080
BOUNCER_PORT ?= 6432
PREFIX ?= /usr/local
# Empty: one database.  sharded: scripts/topology.sh's nodes, from these ports on.
TOPOLOGY ?=
TOPOLOGY_PGPORT ?= 55440
TOPOLOGY_BOUNCER_PORT ?= 6440
# make test TOPOLOGY=sharded: its own nodes and pgbouncers, from these ports on.
TEST_TOPOLOGY_PGPORT ?= 55450
TEST_TOPOLOGY_BOUNCER_PORT ?= 6450
SYSCONFDIR ?= /etc
DEPS_LIST ?= $(CURDIR)/etc/debian-packages.txt
# SANITIZE=1 builds (and serves, and tests) everything with ASan and UBSan.
BUILD := $(CURDIR)/$(if $(filter 1,$(SANITIZE)),build-san,build)
# The runtime folder, probed once (scripts/var.sh); only `make VAR=...` overrides it.
ifneq ($(origin VAR),command line)
VAR := $(shell scripts/var.sh)
endif
$(if $(VAR),,$(error could not choose a runtime folder))
export VAR PGPORT BUILD MODE PORT BOUNCER_PORT BENCH PREFIX SYSCONFDIR DESTDIR \
	INSTALL_DBURL INSTALL_SOCKETS SANITIZE TOPOLOGY TOPOLOGY_PGPORT TOPOLOGY_BOUNCER_PORT
LOCAL_DBURL := host=$(VAR)/run port=$(PGPORT) dbname=ticket user=ticket_owner
# Only an explicit `make ... DBURL=...` points at another database.
ifneq ($(origin DBURL),command line)
DBURL := $(LOCAL_DBURL)
running := [ -S '$(VAR)/run/.s.PGSQL.$(PGPORT)' ] || { echo "make: the database is not running; \`make db\` starts it" >&2; exit 1; }
endif
PSQL := /usr/lib/postgresql/15/bin/psql
migrate := PSQL=$(PSQL) migrations/migrate.sh
fresh := scripts/with-fresh-db.sh

.PHONY: help deps build db migrate run serve stop clean psql dburl var nodes promote test bench \
	stress fuzz install with-fresh-db cluster-up cluster-down

help:
	@sed -n 's/^## //p' Makefile

## make run       deps, build, database, demo data, serve on :$PORT (MODE=fastcgi|cgi;
##                TOPOLOGY=sharded: a proxy and its partitions instead of one database)
run:
	@scripts/run.sh
## make test      everything in a throwaway cluster, then every test suite;
##                the last line is `N passed, N failed, N skipped`
##                (TOPOLOGY=sharded: the HTTP suites and the race through a
##                throwaway proxy and its partitions)
test: deps build
ifeq ($(TOPOLOGY),sharded)
	@scripts/with-topology.sh '$(VAR)/test-sharded' $(TEST_TOPOLOGY_PGPORT) $(TEST_TOPOLOGY_BOUNCER_PORT) \
	  tests/harness tests/http/*.t tests/concurrency/race.t
else
	@$(fresh) '$(VAR)/test' $(TEST_PGPORT) 'CREATE EXTENSION IF NOT EXISTS pgtap' tests/harness
endif
## make bench     each hot call against its ceiling, growth, a sale-open surge (~5 min);
##                TOPOLOGY=sharded: the proxy's hop per call against one database,
##                two sales on two partitions at once, the far-back poll (~3 min)
bench: deps build
	@$(MAKE) -s -C bench BUILD='$(BUILD)'
	@$(fresh) '$(VAR)/bench' $(BENCH_PGPORT) 'SELECT 1' bench/$(if $(filter sharded,$(TOPOLOGY)),sharded.sh,run.sh)
## make stress    long contention, money and crash runs (test's are bounded)
stress: deps build
	@$(fresh) '$(VAR)/stress' $(STRESS_PGPORT) 'SELECT 1' tests/stress/run-long.sh
## make fuzz      each libFuzzer harness for 10 minutes (FUZZ_SECONDS=)
fuzz: deps
	@tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)
## make deps      install missing Debian packages (apt), or say what to run
deps:
	@scripts/deps.sh '$(DEPS_LIST)'
## make build     build the programs into build/
build:
	@scripts/build.sh
## make db        start the private database and migrate it
db: deps
	@scripts/cluster.sh up && $(migrate) '$(LOCAL_DBURL)'
## make migrate   apply migrations and functions (DBURL='...' for another db)
migrate:
	@$(running)
	$(migrate) '$(DBURL)'
## make serve     only the web side, against a running `make db`
serve:
	@scripts/serve.sh
## make psql      psql on the running database as its owner
psql:
	@$(running)
	exec $(PSQL) '$(DBURL)'
## make -s dburl  print the database's libpq connection string
dburl:
	@echo '$(DBURL)'
## make -s var    print the runtime folder
var:
	@echo '$(VAR)'
## make -s nodes  the sharded topology's nodes: name, role, partition, libpq URL
nodes:
	@scripts/topology.sh nodes
## make promote NODE=name   the sharded topology's standby NAME becomes its
##                partition's primary, the old one fenced (docs/scale.md)
promote:
	@scripts/topology.sh promote '$(NODE)'
## make stop      stop `make run` and the database (one, or every node)
stop:
	@scripts/stop.sh
## make clean     stop, then remove the runtime folder and build/
clean: stop
	@for d in test bench stress; do VAR='$(VAR)'/$$d scripts/cluster.sh down; done
	rm -rf -- '$(VAR)' build build-san
## make install   into $(DESTDIR)$(PREFIX); see the README's hosting section
install:
	@scripts/install.sh

# For tests and scripts written against the targets of earlier versions.
with-fresh-db:
	@$(fresh) '$(FRESH_VAR)' $(FRESH_PGPORT) '$(FRESH_SETUP)' $(CURDIR)/$(FRESH_RUN)
cluster-up cluster-down:
	@scripts/cluster.sh $(@:cluster-%=%)
