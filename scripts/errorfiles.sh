#!/usr/bin/env bash
# The JSON bodies lighttpd answers with when it meets an error before any
# program runs (a malformed request, a POST without Content-Length, a URI
# too long, no backend at all): DIR/api-error-STATUS.html, the error body
# of docs/api.md.  lighttpd.conf serves them as JSON whatever their name.
#
#   scripts/errorfiles.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p -- "$dir"
while IFS='|' read -r status code message; do
  printf '{"error": {"code": "%s", "message": "%s", "details": null, "hint": null}}' \
    "$code" "$message" >"$dir/api-error-$status.html"
done <<'CODES'
400|INVALID_ARGUMENT|the HTTP request is malformed
411|INVALID_ARGUMENT|a POST needs a Content-Length header (Content-Length: 0 for no body)
404|NOT_FOUND|no such resource
413|PAYLOAD_TOO_LARGE|the request body is larger than 16384 bytes
414|INVALID_ARGUMENT|the URI is too long
431|INVALID_ARGUMENT|the request headers are too large
500|INTERNAL|internal error
501|METHOD_NOT_ALLOWED|method not implemented
502|DATABASE_UNAVAILABLE|the service is unavailable, try again
503|DATABASE_UNAVAILABLE|the service is unavailable, try again
504|DATABASE_UNAVAILABLE|the service is unavailable, try again
505|INVALID_ARGUMENT|HTTP version not supported
CODES
