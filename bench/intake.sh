#!/usr/bin/env bash
# Benchmark: sustained intake of field inspectors' reports with a photo (issue 7):
# POST /api/v1/reports, multipart (the report JSON + one photo of PHOTO_KB KiB), a fresh
# Idempotency-Key each, random points inside the demo grid (so the grid lookup and the
# duplicate search run on every report), on SQLite and/or PostgreSQL. It is bench/orders.sh
# driven with bench/intake.lua: same servers, checks, CPU accounting and table.
#
#   bench/intake.sh [sqlite|postgres|both]      (default: both)
#
# Environment: PHOTO_KB=200 (photo size), plus everything bench/orders.sh reads (CONNS,
# DURATION, THREADS, SKIP_BUILD, KEEP, OUT_DIR, QUIET_WAIT, …). The photo is a JPEG header
# followed by random bytes: the server checks a photo's type by its first bytes and stores it
# as is (it never decodes images), so this costs what a camera's JPEG of that size costs.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PHOTO_KB="${PHOTO_KB:-200}"
PHOTO="$(mktemp /tmp/hotline-bench-photo.XXXXXX.jpg)"
trap 'rm -f "$PHOTO"' EXIT
{
  printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
  head -c $((PHOTO_KB * 1024 - 22)) /dev/urandom
  printf '\xff\xd9'
} >"$PHOTO"

export HOTLINE_LUA="$HERE/intake.lua"
export HOTLINE_PHOTO="$PHOTO"
export HOTLINE_TOKEN="${HOTLINE_TOKEN:-demo-inspector-01}"
export HOTLINE_WHAT="Inspector reports with one ${PHOTO_KB} KiB photo (POST /api/v1/reports, multipart)"
export CONNS="${CONNS:-4 16}"
"$HERE/orders.sh" "$@"
