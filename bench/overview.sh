#!/usr/bin/env bash
# Benchmark: the leader overview and the monthly evaluation over a year of synthetic
# digital-urban-management orders (bench/overviewgen.py: ≥ 150,000 orders ending now with
# their workflow events), served by the real server (release build): GET /api/v1/overview (the
# city, and one district), GET /api/v1/reports/evaluation for last month by department and by
# inspector, and its CSV; each timed RUNS times with curl after one warm-up; the median and the
# slowest run are reported. Target (issue 7): the overview well under 1 s. Rerunnable; every
# server, data directory and database it makes is fresh and is removed afterwards.
#
#   bench/overview.sh [sqlite|postgres|both]      (default: both)
#
# Environment (all optional):
#   RUNS=7              timed runs per request
#   DAYS=365 PER_DAY=420  the generated year
#   PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (a database is created for
#                       the run and dropped afterwards)
#   OUT_DIR=DIR         where logs and summary.txt go (default: a new directory under /tmp)
#   SKIP_BUILD=1        do not run `cargo build --release`; HOTLINE_BIN=PATH the binary to run
#   KEEP=1              keep data directories and databases
#   QUIET_WAIT=10       wait up to this many seconds for an idle machine before each request

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS="${RUNS:-7}"
DAYS="${DAYS:-365}"
PER_DAY="${PER_DAY:-420}"
MONTH="$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
QUIET_WAIT="${QUIET_WAIT:-10}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${HOTLINE_BIN:-$TARGET_DIR/release/hotline}"
CONFIG="$ROOT/sip-config/hotline.toml"
TOKEN="demo-leader"

case "${1:-both}" in
  both) BACKENDS="sqlite postgres" ;;
  sqlite | postgres) BACKENDS="$1" ;;
  *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac

OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/hotline-bench-overview.XXXXXX)}"
mkdir -p "$OUT_DIR"
SUMMARY="$OUT_DIR/summary.txt"
: >"$SUMMARY"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

SERVER_PID=""
DATA_DIR=""
PG_DB=""
cleanup() {
  local rc=$?
  stop_server || true
  if [[ -z "${KEEP:-}" ]]; then
    [[ -n "$DATA_DIR" ]] && rm -rf "$DATA_DIR"
    if [[ -n "$PG_DB" ]]; then
      psql "$PG_URL/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
  fi
  DATA_DIR=""
  PG_DB=""
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --bin hotline >&2)
fi
[[ -x "$BIN" ]] || die "no server binary at $BIN"

prepare() {
  local backend="$1"
  DATA_DIR="$(mktemp -d /tmp/hotline-bench-data.XXXXXX)"
  if [[ "$backend" == postgres ]]; then
    PG_DB="hotline_bench_overview_$$_$RANDOM"
    psql "$PG_URL/postgres" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    DB_URL="$PG_URL/$PG_DB"
  else
    DB_URL=""
  fi
  DATABASE_URL="$DB_URL" "$BIN" migrate --config "$CONFIG" --data-dir "$DATA_DIR" >&2
  log "$backend: generating $DAYS days ($PER_DAY orders a day)"
  local t0 t1
  t0="$(date +%s)"
  if [[ "$backend" == postgres ]]; then
    python3 "$HERE/overviewgen.py" --postgres "$DB_URL" --days "$DAYS" --per-day "$PER_DAY" 2>"$OUT_DIR/gen-$backend.txt"
  else
    python3 "$HERE/overviewgen.py" --sqlite "$DATA_DIR/hotline.db" --days "$DAYS" --per-day "$PER_DAY" 2>"$OUT_DIR/gen-$backend.txt"
  fi
  t1="$(date +%s)"
  log "$backend: $(cat "$OUT_DIR/gen-$backend.txt") in $((t1 - t0)) s"
}

start_server() {
  local backend="$1"
  PORT="$(free_port)"
  local sip_port
  sip_port="$(free_port)"
  DATABASE_URL="$DB_URL" RUST_LOG=warn "$BIN" serve --config "$CONFIG" \
    --http-addr "127.0.0.1:$PORT" --sip-addr "127.0.0.1:$sip_port" --data-dir "$DATA_DIR" \
    >"$OUT_DIR/server-$backend.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT_DIR/server-$backend.log" >&2; die "$backend: server exited"; }
    curl -sf --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "$backend: /healthz did not answer in 30 s"
}

# time_report BACKEND LABEL PATH: one warm-up, RUNS timed runs; a summary line.
time_report() {
  local backend="$1" label="$2" path="$3" url times=() t code
  url="http://127.0.0.1:$PORT$path"
  wait_quiet
  curl -sS --max-time 60 -H "Authorization: Bearer $TOKEN" -o "$OUT_DIR/$backend-$label.out" "$url"
  for _ in $(seq 1 "$RUNS"); do
    read -r code t < <(curl -sS --max-time 60 -H "Authorization: Bearer $TOKEN" -o /dev/null \
      -w '%{http_code} %{time_total}\n' "$url")
    [[ "$code" == 200 ]] || die "$label: HTTP $code"
    times+=("$t")
  done
  local sorted median max
  sorted="$(printf '%s\n' "${times[@]}" | sort -g)"
  median="$(echo "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { printf "%.0f", $1 * 1000 }')"
  max="$(echo "$sorted" | tail -1 | awk '{ printf "%.0f", $1 * 1000 }')"
  local size
  size="$(stat -c %s "$OUT_DIR/$backend-$label.out")"
  printf '%-9s %-16s median %5s ms  max %5s ms  (%s runs, %s bytes)\n' \
    "$backend" "$label" "$median" "$max" "$RUNS" "$size" | tee -a "$SUMMARY" >&2
}

for backend in $BACKENDS; do
  prepare "$backend"
  start_server "$backend"
  time_report "$backend" overview "/api/v1/overview"
  total="$(jq '[.totals.by_status[]] | add' "$OUT_DIR/$backend-overview.out")"
  ((total >= 150000)) || die "$backend: the overview counts only $total orders"
  log "$backend: $total orders; open $(jq -r '.totals.open' "$OUT_DIR/$backend-overview.out"), overdue $(jq -r '.totals.overdue' "$OUT_DIR/$backend-overview.out")"
  time_report "$backend" overview-east "/api/v1/overview?district=%E4%B8%9C%E5%8C%BA"
  time_report "$backend" eval-department "/api/v1/reports/evaluation?month=$MONTH&by=department"
  log "$backend: $MONTH dispatched $(jq -r '.total.dispatched' "$OUT_DIR/$backend-eval-department.out"), closed $(jq -r '.total.closed' "$OUT_DIR/$backend-eval-department.out")"
  time_report "$backend" eval-inspector "/api/v1/reports/evaluation?month=$MONTH&by=inspector"
  time_report "$backend" eval-csv "/api/v1/reports/evaluation?month=$MONTH&by=department&format=csv"
  printf '%-9s %-16s %s\n' "$backend" "peak-rss" \
    "$(awk '/^VmHWM/ { print $2, $3 }' "/proc/$SERVER_PID/status")" | tee -a "$SUMMARY" >&2
  stop_server
  cleanup
done
log "summary ($OUT_DIR/summary.txt):"
cat "$SUMMARY"
