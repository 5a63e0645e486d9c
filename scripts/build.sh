#!/usr/bin/env bash
# Build the programs and their unit tests into $BUILD (SANITIZE=1: with
# ASan and UBSan; the Makefile then sets BUILD to build-san/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
make -s -C "$ROOT/cgi-bin" BUILD="$BUILD" SANBUILD="$BUILD" all unit ||
  die "the build failed (the compiler's message is above)"
