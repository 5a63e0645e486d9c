#!/usr/bin/env bash
# Install the Debian packages the project needs, or say exactly what to run.
#
#   scripts/deps.sh [LIST]   LIST: one package a line (default etc/debian-packages.txt)
#
# Exit 0 when everything is there (or was just installed); otherwise exit 1
# after saying what is missing, what failed and what to do about it.
set -uo pipefail
list=${1:-$(dirname "$0")/../etc/debian-packages.txt}
say() { echo "deps: $*" >&2; }

if [ ! -r "$list" ]; then
  say "cannot read the package list $list"; exit 1
fi
if ! command -v dpkg-query >/dev/null; then
  say "dpkg-query not found: this setup is for Debian 12 (or a derivative)"; exit 1
fi

missing=()
while read -r p _; do
  case "$p" in ''|'#'*) continue ;; esac
  # "ii" = installed; an unknown package makes dpkg-query fail, which is
  # an answer ("not installed"), not an error of this script.
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || status=
  [ "${status:0:2}" = ii ] || missing+=("$p")
done <"$list"
# Node may come from elsewhere than Debian: only a missing `node` asks apt.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

say "missing Debian packages: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  say "run as root:  apt-get update && apt-get install -y ${missing[*]}"
  say "(or run this make command again as root, which does it for you)"
  exit 1
fi

say "installing them with apt-get (this takes a few minutes the first time)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update; then
  say "'apt-get update' failed: check the network and /etc/apt/sources.list, then run make again"
  exit 1
fi
if ! apt-get install -y "${missing[@]}"; then
  say "'apt-get install ${missing[*]}' failed (its message is above)"
  say "fix that, or install them by hand, then run make again"
  exit 1
fi
say "installed: ${missing[*]}"
