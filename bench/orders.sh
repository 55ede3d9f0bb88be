#!/usr/bin/env bash
# Benchmark: work-order creation through the HTTP API (POST /api/v1/work-orders), with wrk,
# on SQLite and/or PostgreSQL. Rerunnable; every server, data directory and database it makes is
# fresh and is removed afterwards.
#
#   bench/orders.sh [sqlite|postgres|both]      (default: both)
#
# Environment (all optional):
#   CONNS="8 32 64"     wrk connection counts, one run each
#   THREADS=2           wrk threads
#   DURATION=10s        length of each measured run
#   WARMUP=2s           warm-up run (8 connections) before the measured runs, per backend
#   PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (a database is created in it
#                       for the run and dropped afterwards)
#   PG_DB_SETTINGS="synchronous_commit=off"   space-separated NAME=VALUE set on the fresh
#                       benchmark database only (ALTER DATABASE … SET), for experiments; the
#                       PostgreSQL server configuration is never changed
#   OUT_DIR=DIR         where logs and summary.txt go (default: a new directory under /tmp)
#   SKIP_BUILD=1        do not run `cargo build --release` (use target/release/hotline as is)
#   HOTLINE_BIN=PATH    the server binary to run (default target/release/hotline), e.g. a copy
#                       kept aside to compare two versions
#   KEEP=1              keep data directories and databases (for inspection)
#   SERVER_LOG=warn     RUST_LOG for the server
#   HOTLINE_BODY=JSON   request body (default in bench/create_order.lua); HOTLINE_TOKEN=… bearer
#                       token (default demo-agent-1001)
#   HOTLINE_LUA=FILE    the wrk script (default bench/create_order.lua; bench/intake.sh runs this
#                       script with bench/intake.lua); HOTLINE_WHAT=TEXT names the requests in
#                       the table's title
#   QUIET_WAIT=60       before each measured run, wait up to this many seconds for the machine
#                       to be idle (other work on it skews the figures; 0 = do not wait)
#
# The server, PostgreSQL and wrk all share this machine's cores; the table shows how much CPU
# each took during each run (in cores, summed user+system time / wall time).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CONNS="${CONNS:-8 32 64}"
THREADS="${THREADS:-2}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
SERVER_LOG="${SERVER_LOG:-warn}"
QUIET_WAIT="${QUIET_WAIT:-60}"
PG_DB_SETTINGS="${PG_DB_SETTINGS:-}"
TOKEN="${HOTLINE_TOKEN:-demo-agent-1001}"
LUA="${HOTLINE_LUA:-$HERE/create_order.lua}"
WHAT="${HOTLINE_WHAT:-Work-order creation (POST /api/v1/work-orders)}"
BIN="${HOTLINE_BIN:-$ROOT/target/release/hotline}"
CONFIG="$ROOT/sip-config/hotline.toml"
HZ="$(getconf CLK_TCK)"

case "${1:-both}" in
  both) BACKENDS="sqlite postgres" ;;
  sqlite | postgres) BACKENDS="$1" ;;
  *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac

OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/hotline-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
SUMMARY="$OUT_DIR/summary.txt"
: >"$SUMMARY"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------- state and clean-up
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
  else
    [[ -n "$DATA_DIR" ]] && log "kept data directory $DATA_DIR"
    [[ -n "$PG_DB" ]] && log "kept database $PG_DB"
  fi
  DATA_DIR=""
  PG_DB=""
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- tools
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  log "installing wrk (apt-get)"
  command -v apt-get >/dev/null 2>&1 || die "wrk is missing and apt-get is not available"
  local sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
  command -v wrk >/dev/null 2>&1 || die "wrk did not install"
}


# user+system ticks of all processes named postgres, with the ticks of exited backends (which the
# postmaster has reaped: its cutime/cstime).
postgres_ticks() {
  local total=0 d comm
  for d in /proc/[0-9]*; do
    { read -r comm <"$d/comm"; } 2>/dev/null || continue
    [[ "$comm" == postgres ]] || continue
    total=$((total + $(proc_ticks "${d#/proc/}" children)))
  done
  echo "$total"
}

# "0m1.234s" -> milliseconds
times_ms() {
  local t="$1" m s
  m="${t%%m*}"
  s="${t#*m}"
  s="${s%s}"
  awk -v m="$m" -v s="$s" 'BEGIN { printf "%d", (m * 60 + s) * 1000 }'
}

# ---------------------------------------------------------------- server
api() { curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" "$@"; }

orders_total() {
  api "http://127.0.0.1:$PORT/api/v1/work-orders?limit=1" | jq -er '.total'
}

start_server() {
  local backend="$1"
  PORT="$(free_port)"
  local sip_port
  sip_port="$(free_port)"
  DATA_DIR="$(mktemp -d /tmp/hotline-bench-data.XXXXXX)"
  local env_db=()
  if [[ "$backend" == postgres ]]; then
    PG_DB="hotline_bench_$$_$RANDOM"
    psql "$PG_URL/postgres" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    local kv
    for kv in $PG_DB_SETTINGS; do # per-database settings for experiments (not server-wide)
      psql "$PG_URL/postgres" -qAt -v ON_ERROR_STOP=1 \
        -c "ALTER DATABASE \"$PG_DB\" SET ${kv%%=*} = '${kv#*=}'" >/dev/null
      log "postgres: ALTER DATABASE $PG_DB SET ${kv%%=*} = '${kv#*=}'"
    done
    env_db=(DATABASE_URL="$PG_URL/$PG_DB")
  else
    env_db=(DATABASE_URL=)
  fi
  log "$backend: starting server on 127.0.0.1:$PORT (data $DATA_DIR${PG_DB:+, database $PG_DB})"
  env "${env_db[@]}" RUST_LOG="$SERVER_LOG" "$BIN" serve --config "$CONFIG" \
    --http-addr "127.0.0.1:$PORT" --sip-addr "127.0.0.1:$sip_port" --data-dir "$DATA_DIR" \
    >"$OUT_DIR/server-$backend.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do # up to 30 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$OUT_DIR/server-$backend.log" >&2
      die "$backend: server exited during start-up"
    fi
    if curl -sf --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  die "$backend: /healthz did not answer in 30 s"
}

# ---------------------------------------------------------------- one wrk run
# run_wrk BACKEND LABEL CONNS DURATION -> appends a row to $SUMMARY (unless LABEL is warmup)
run_wrk() {
  local backend="$1" label="$2" conns="$3" dur="$4"
  local threads="$THREADS"
  ((threads > conns)) && threads="$conns"
  local out="$OUT_DIR/wrk-$backend-$label.txt"
  local before after
  [[ "$label" == warmup ]] || wait_quiet
  before="$(orders_total)"
  local load
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  local m0 s0 p0 m1 s1 p1
  p0="$(postgres_ticks)"
  s0="$(proc_ticks "$SERVER_PID")"
  m0="$(machine_ticks)"
  local t0 t1
  t0="$(date +%s%N)"
  # `times` in the subshell reports the CPU time of its children, i.e. of wrk.
  (
    HOTLINE_TOKEN="$TOKEN" wrk -t"$threads" -c"$conns" -d"$dur" --timeout 10s --latency \
      -s "$LUA" "http://127.0.0.1:$PORT" >"$out" 2>&1 || echo "wrk exited with $?" >>"$out"
    times >"$out.times"
  )
  t1="$(date +%s%N)"
  m1="$(machine_ticks)"
  s1="$(proc_ticks "$SERVER_PID")"
  p1="$(postgres_ticks)"
  sleep 0.5 # let requests that were in flight when wrk stopped finish
  after="$(orders_total)"

  local line
  line="$(grep '^BENCH ' "$out" || true)"
  [[ -n "$line" ]] || { cat "$out" >&2; die "$backend/$label: wrk printed no BENCH line"; }
  local created non201 duration_us cerr rerr werr terr p50 p90 p99 pmax
  created="$(sed -E 's/.* created=([0-9]+).*/\1/' <<<"$line")"
  non201="$(sed -E 's/.* non201=([0-9]+).*/\1/' <<<"$line")"
  duration_us="$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")"
  cerr="$(sed -E 's/.* connect_err=([0-9]+).*/\1/' <<<"$line")"
  rerr="$(sed -E 's/.* read_err=([0-9]+).*/\1/' <<<"$line")"
  werr="$(sed -E 's/.* write_err=([0-9]+).*/\1/' <<<"$line")"
  terr="$(sed -E 's/.* timeout_err=([0-9]+).*/\1/' <<<"$line")"
  p50="$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")"
  p90="$(sed -E 's/.* p90_us=([0-9]+).*/\1/' <<<"$line")"
  p99="$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")"
  pmax="$(sed -E 's/.* max_us=([0-9]+).*/\1/' <<<"$line")"
  local sockerr=$((cerr + rerr + werr + terr))

  # Database check: the rows added during the run must be wrk's 201s; requests still in flight
  # when wrk stopped (at most one per connection) may have been committed without wrk seeing
  # the answer, so up to CONNS extra rows are accepted and shown.
  local delta=$((after - before)) check
  local extra=$((delta - created))
  if ((extra == 0)); then
    check="ok"
  elif ((extra > 0 && extra <= conns)); then
    check="ok+$extra"
  else
    check="MISMATCH($delta rows vs $created)"
  fi

  # CPU, in cores (ticks / wall seconds / HZ).
  local wall_ms=$(((t1 - t0) / 1000000))
  local wrk_ms=0 tl
  tl="$(sed -n 2p "$out.times" 2>/dev/null || true)"
  if [[ -n "$tl" ]]; then
    wrk_ms=$(($(times_ms "${tl%% *}") + $(times_ms "${tl##* }")))
  fi
  local mb0 mt0 mb1 mt1
  read -r mb0 mt0 <<<"$m0"
  read -r mb1 mt1 <<<"$m1"
  local cpu
  cpu="$(awk -v hz="$HZ" -v w="$wall_ms" -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v k="$wrk_ms" \
    -v mb=$((mb1 - mb0)) -v mt=$((mt1 - mt0)) -v n="$(nproc)" \
    'BEGIN { ws = w / 1000.0;
             srv = s / hz / ws; pg = p / hz / ws; wk = k / 1000.0 / ws;
             idle = (mt > 0 ? n * (mt - mb) / mt : 0);
             other = n - idle - srv - pg - wk; if (other < 0) other = 0;
             printf "%.2f %.2f %.2f %.2f %.2f", srv, pg, wk, other, idle }')"
  local cpu_server cpu_pg cpu_wrk cpu_other cpu_idle
  read -r cpu_server cpu_pg cpu_wrk cpu_other cpu_idle <<<"$cpu"
  local rps
  rps="$(awk -v c="$created" -v d="$duration_us" 'BEGIN { printf "%.0f", c / (d / 1e6) }')"
  ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000.0 }'; }

  if [[ "$label" == warmup ]]; then
    log "$backend: warm-up: $created created, $non201 non-201, $sockerr socket errors, db $check"
    return 0
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$backend" "$conns" "$rps" "$(ms "$p50")" "$(ms "$p90")" "$(ms "$p99")" "$(ms "$pmax")" \
    "$non201" "$sockerr" "$check" "$cpu_server" "$cpu_pg" "$cpu_wrk" "$cpu_other" "$cpu_idle" \
    >>"$SUMMARY"
  log "$backend c=$conns: $rps creates/s, p50 $(ms "$p50") ms, p99 $(ms "$p99") ms," \
    "non-201 $non201, socket errors $sockerr, db $check;" \
    "CPU cores: server $cpu_server, postgres $cpu_pg, wrk $cpu_wrk, other $cpu_other, idle $cpu_idle" \
    "(load average before: $load)"
  # wrk's own report, for the log
  sed -n '/Thread Stats/,/Transfer\/sec/p' "$out" | sed 's/^/    /' >&2
  grep -A4 '^non-201' "$out" | grep -v '^BENCH' | sed 's/^/    /' >&2 || true
}

bench_backend() {
  local backend="$1"
  start_server "$backend"
  if [[ "$backend" == postgres ]]; then
    local settings
    settings="$(psql "$PG_URL/$PG_DB" -qAt -F= -c "SELECT name, setting FROM pg_settings WHERE name IN
      ('synchronous_commit','fsync','wal_sync_method','commit_delay','shared_buffers',
       'max_connections','full_page_writes','wal_level') ORDER BY name" | tr '\n' ' ')"
    log "postgres: $(psql "$PG_URL/postgres" -qAt -c 'SHOW server_version') — $settings"
    echo "# postgres settings: $settings" >>"$OUT_DIR/settings.txt"
  fi
  run_wrk "$backend" warmup 8 "$WARMUP"
  local c
  for c in $CONNS; do
    run_wrk "$backend" "c$c" "$c" "$DURATION"
  done
  log "$backend: $(orders_total) orders in the database; stopping the server"
  stop_server
  if [[ -z "${KEEP:-}" ]]; then
    rm -rf "$DATA_DIR"
    if [[ -n "$PG_DB" ]]; then
      psql "$PG_URL/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
    fi
  fi
  DATA_DIR=""
  PG_DB=""
}

# ---------------------------------------------------------------- main
for tool in curl jq awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
ensure_wrk
if [[ " $BACKENDS " == *" postgres "* ]]; then
  command -v psql >/dev/null 2>&1 || die "psql is required for the postgres backend"
  psql "$PG_URL/postgres" -qAt -c 'SELECT 1' >/dev/null || die "cannot reach PostgreSQL at $PG_URL"
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x "$BIN" ]] || die "$BIN is missing"

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //');" \
  "wrk: $THREADS threads, $DURATION per run, connections: $CONNS; logs in $OUT_DIR"
for b in $BACKENDS; do
  bench_backend "$b"
done

{
  echo
  echo "$WHAT, wrk -t$THREADS -d$DURATION; $(date -Is);" \
    "tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(
      [[ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock migrations 2>/dev/null)" ]] &&
        echo ' (src modified)')"
  echo "req/s = 201 responses per second; latencies in ms; CPU in cores of $(nproc):" \
    "server, postgres, wrk, other (kernel threads, other processes), idle"
  printf '%-8s %5s %7s %7s %7s %7s %8s %6s %6s %-10s %6s %6s %6s %6s %6s\n' \
    backend conns "req/s" p50 p90 p99 max non201 sockerr db cpu:srv pg wrk other idle
  while IFS=$'\t' read -r b c r p50 p90 p99 pmax n s chk cs cp cw co ci; do
    printf '%-8s %5s %7s %7s %7s %7s %8s %6s %6s %-10s %6s %6s %6s %6s %6s\n' \
      "$b" "$c" "$r" "$p50" "$p90" "$p99" "$pmax" "$n" "$s" "$chk" "$cs" "$cp" "$cw" "$co" "$ci"
  done <"$SUMMARY"
} | tee "$OUT_DIR/table.txt"
echo "(logs: $OUT_DIR)"
# A run with failed requests or a row-count mismatch is not a valid measurement.
if awk -F'\t' '$8 > 0 || $9 > 0 || $10 ~ /MISMATCH/ { bad = 1 } END { exit !bad }' "$SUMMARY"; then
  log "some runs had non-201 responses, socket errors or a row-count mismatch (see above)"
  exit 1
fi
