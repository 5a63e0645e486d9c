#!/usr/bin/env bash
# The runtime folder (cluster, sockets, logs; see var_probe in lib.sh).
#
#   scripts/var.sh           print it
#   scripts/var.sh create    create the run user and the folder, owned by it
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ "${1:-}" = create ] || { echo "$VAR"; exit 0; }

if [ -n "$RUN_USER" ] && ! id -u "$RUN_USER" >/dev/null 2>&1; then
  say "creating system user $RUN_USER"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER" ||
    die "could not create the system user $RUN_USER (useradd's message is above)"
fi

# Under /var/tmp anyone may have created it first, so refuse a symlink or
# a stranger's folder instead of using it.
if [ -L "$VAR" ] || { [ -e "$VAR" ] && [ ! -d "$VAR" ]; }; then
  die "$VAR is not a plain directory: remove it, or choose another with VAR=/some/dir"
fi
if [ ! -d "$VAR" ]; then
  err=$(mkdir -m 0750 -- "$VAR" 2>&1) ||
    die "cannot create the runtime folder $VAR: ${err#mkdir: }; make its parent writable for $(id -un), or choose another with VAR=/some/dir"
fi
owner=$(stat -c %U -- "$VAR")
case "$owner" in
  "$(id -un)"|"${RUN_USER:-$(id -un)}") ;;
  *) die "the runtime folder $VAR belongs to $owner, not to $(id -un)${RUN_USER:+ or $RUN_USER}: remove it (as $owner or root), or choose another with VAR=/some/dir" ;;
esac
[ -z "$RUN_USER" ] || chown "$RUN_USER": -- "$VAR"
if ! as_run test -w "$VAR" -a -x "$VAR"; then
  die "the runtime folder $VAR is not writable for ${RUN_USER:-$(id -un)}: fix its mode (chmod u+rwx), or choose another with VAR=/some/dir"
fi
