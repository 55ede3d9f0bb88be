#!/usr/bin/env bash
# Benchmark: SIP signalling with SIPp on loopback against a release build of the server.
# Rerunnable; every server, configuration copy and data directory it makes is fresh and is
# removed afterwards. Every load is bounded in count and time and stops by itself.
#
#   bench/sip.sh [calls] [register] [overload] [heapprofile]   (default: the first three)
#
#   calls     call setup rate: INVITE -> 200 -> ACK -> (hold) -> BYE -> 200 at fixed rates, from
#             127.0.0.1 (a trunk address, no authentication) to number 12345, which answers at
#             once. Achieved rate, failed calls, retransmissions, INVITE -> 200 p50/p99.
#   register  digest-authenticated registrations (REGISTER -> 401 -> REGISTER -> 200) of
#             REG_USERS distinct agents (a temporary configuration with that many [[agents]]),
#             each staying registered (Expires 3600); registration rate and latency, then the
#             server's memory before and after (RSS from /proc/PID/status, and the glibc heap
#             in use through gdb when available) and registered_contacts from the status API.
#   overload  a burst far beyond capacity for OVERLOAD_SECS, accepting 200 or 503 (a 503 must
#             carry Retry-After), then a normal-rate phase that must succeed (recovery).
#   heapprofile  not a measurement: registers REG_USERS agents at 1000/s with the server under
#             heaptrack, waits for the transactions to drain, kills the server (SIGKILL, so
#             what is still allocated shows as "leaked") and prints where the live heap was
#             allocated, by the innermost hotline function, and the peak heap.
#
# Every run of every measurement uses a fresh server (so transactions lingering from an
# earlier run, up to 32 s over UDP, do not count against the next one).
#
# Environment (all optional):
#   RATES="500 1000 1500"   call rates (calls per second), one run each, RUNS times
#   DURATION=25             seconds per call-rate run (calls = rate x DURATION)
#   HOLD_MS=0               time between ACK and BYE
#   NUMBER=12345            number dialled
#   RUNS=3                  repetitions of every measurement
#   REG_USERS=10000         distinct agents registered (one registration each)
#   REG_RATES="1000 2000 4000"  registrations per second offered, one run each, RUNS times
#   DRAIN_WAIT=45           after registering, wait up to this long for the server's
#                           transactions to finish (Timer J, 32 s) before the "drained" RSS
#   MEM_GDB=1               also attach gdb to read malloc_stats() (live heap) before and after
#                           registering, and RSS after malloc_trim(0) (0 = RSS only)
#   OVERLOAD_RATE=12000 OVERLOAD_SECS=5 OVERLOAD_HOLD_MS=1000
#                           the burst: offered rate, length, and hold time (with 1 s of hold,
#                           more than max_calls = 2000 calls are up at once, so the admission
#                           503 is exercised as well as the queue-full 503)
#   RECOVERY_RATE=500 RECOVERY_SECS=10   the phase right after the burst
#   SERVER_ENV="VAR=VALUE ..."  extra environment for the server, for experiments, e.g.
#                           SERVER_ENV="MALLOC_ARENA_MAX=1"
#   SIP_SET="key=value;..." [sip] settings for the server under test (in a copy of the
#                           configuration), e.g. SIP_SET="max_pending=4096"
#   DIGEST=MD5              digest algorithms the server offers ([sip].digest_algorithms):
#                           SIPp 3.6.1 answers only the first challenge of a 401 and only knows
#                           MD5, so the benchmark server offers MD5 alone
#   SIPP_TRANSPORT=u1       SIPp -t (u1 = one UDP socket; t1 = one TCP connection)
#   OUT_DIR=DIR             where logs, SIPp files, results.txt and tables.md go (default: a new
#                           directory under /tmp)
#   SKIP_BUILD=1            do not run `cargo build --release`
#   HOTLINE_BIN=PATH        the server binary (default $CARGO_TARGET_DIR/release/hotline, or
#                           target/release/hotline)
#   KEEP=1                  keep the data and configuration directories
#   SERVER_LOG=warn         RUST_LOG for the server (info logs a line per call)
#   QUIET_WAIT=60           before each measured run, wait up to this many seconds for the
#                           machine to be idle (0 = do not wait)
#
# SIPp and the server share this machine's cores; the tables show how much CPU each took
# (user+system time / wall time, in cores) and how much went to anything else.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SIPDIR="$HERE/sip"
HELPER="$SIPDIR/helper.py"
RATES="${RATES:-500 1000 1500}"
DURATION="${DURATION:-25}"
HOLD_MS="${HOLD_MS:-0}"
NUMBER="${NUMBER:-12345}"
RUNS="${RUNS:-3}"
REG_USERS="${REG_USERS:-10000}"
REG_RATES="${REG_RATES:-1000 2000 4000}"
DRAIN_WAIT="${DRAIN_WAIT:-45}"
MEM_GDB="${MEM_GDB:-1}"
OVERLOAD_RATE="${OVERLOAD_RATE:-12000}"
OVERLOAD_SECS="${OVERLOAD_SECS:-5}"
OVERLOAD_HOLD_MS="${OVERLOAD_HOLD_MS:-1000}"
RECOVERY_RATE="${RECOVERY_RATE:-500}"
RECOVERY_SECS="${RECOVERY_SECS:-10}"
SIP_SET="${SIP_SET:-}"
SERVER_ENV="${SERVER_ENV:-}"
DIGEST="${DIGEST:-MD5}"
SIPP_TRANSPORT="${SIPP_TRANSPORT:-u1}"
SERVER_LOG="${SERVER_LOG:-warn}"
QUIET_WAIT="${QUIET_WAIT:-60}"
BIN="${HOTLINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/hotline}"
TOKEN="demo-admin"
HZ="$(getconf CLK_TCK)"
NCPU="$(nproc)"

WHAT=("$@")
[[ ${#WHAT[@]} -eq 0 ]] && WHAT=(calls register overload)
for w in "${WHAT[@]}"; do
  case "$w" in
    calls | register | overload | heapprofile) ;;
    *) echo "usage: $0 [calls] [register] [overload] [heapprofile]" >&2; exit 2 ;;
  esac
done

OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/hotline-sip-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.txt"
: >"$RESULTS"

log() { printf '[sip-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------- state and clean-up
SERVER_PID=""
DATA_DIR=""
CFG_DIR=""
BG_PIDS=()
cleanup() {
  local rc=$?
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_server || true
  if [[ -z "${KEEP:-}" ]]; then
    [[ -n "$DATA_DIR" ]] && rm -rf "$DATA_DIR"
    [[ -n "$CFG_DIR" ]] && rm -rf "$CFG_DIR"
  fi
  DATA_DIR=""
  CFG_DIR=""
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- tools
ensure_tools() {
  local missing=()
  command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  [[ -x /usr/bin/time ]] || missing+=(time)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]} (apt-get)"
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available"
    local sudo=""
    [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v sipp >/dev/null 2>&1 || die "sipp did not install"
  if [[ "$MEM_GDB" == 1 ]] && ! command -v gdb >/dev/null 2>&1; then
    log "gdb is missing: memory figures will be RSS only"
    MEM_GDB=0
  fi
  # SIPp wants a file descriptor per call it may keep open.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}


# Receive-buffer drops of the UDP socket bound to 127.0.0.1:PORT (or 0.0.0.0:PORT).
udp_drops() {
  local hex
  hex="$(printf '%04X' "$1")"
  awk -v h="$hex" 'NR > 1 && ($2 == "0100007F:" h || $2 == "00000000:" h) { d += $NF } END { print d + 0 }' \
    /proc/net/udp 2>/dev/null || echo 0
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo -; }

# ---------------------------------------------------------------- server
api() { curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" "$@"; }
status() { api "http://127.0.0.1:$HTTP_PORT/api/v1/sip/status"; }

# start_server AGENTS [WRAPPER...]: a fresh configuration copy (with AGENTS benchmark agents),
# data directory and ports; waits until the SIP status answers. With a wrapper command (such
# as heaptrack), SERVER_PID is the server process started under it, WRAPPER_PID the wrapper.
WRAPPER_PID=""
start_server() {
  local agents="$1"
  shift
  HTTP_PORT="$(free_port)"
  SIP_PORT="$(free_port)"
  while [[ "$SIP_PORT" == "$HTTP_PORT" ]]; do SIP_PORT="$(free_port)"; done
  DATA_DIR="$(mktemp -d /tmp/hotline-sip-data.XXXXXX)"
  CFG_DIR="$(mktemp -d /tmp/hotline-sip-config.XXXXXX)"
  python3 "$HELPER" config "$ROOT/sip-config" "$CFG_DIR" "$agents" \
    "digest_algorithms=[\"$DIGEST\"];$SIP_SET"
  SERVER_LOG_FILE="$RUN_DIR/server.log"
  # shellcheck disable=SC2086
  env RUST_LOG="$SERVER_LOG" $SERVER_ENV "$@" "$BIN" serve --config "$CFG_DIR/hotline.toml" \
    --sip-addr "127.0.0.1:$SIP_PORT" --http-addr "127.0.0.1:$HTTP_PORT" \
    --data-dir "$DATA_DIR" >"$SERVER_LOG_FILE" 2>&1 &
  SERVER_PID=$!
  WRAPPER_PID=""
  local t0=$SECONDS
  if [[ $# -gt 0 ]]; then
    WRAPPER_PID=$SERVER_PID
    SERVER_PID=""
    for _ in $(seq 1 100); do
      SERVER_PID="$(pgrep -P "$WRAPPER_PID" -x hotline || true)"
      [[ -n "$SERVER_PID" ]] && break
      sleep 0.1
    done
    [[ -n "$SERVER_PID" ]] || die "the server did not start under $1"
  fi
  for _ in $(seq 1 1200); do # up to 120 s (10,000 agents' HA1s are computed at start)
    if status >/dev/null 2>&1; then
      log "server $SERVER_PID up (sip 127.0.0.1:$SIP_PORT, http :$HTTP_PORT, $agents extra agents) in $((SECONDS - t0)) s"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$SERVER_LOG_FILE" >&2; die "server exited"; }
    sleep 0.1
  done
  tail -20 "$SERVER_LOG_FILE" >&2
  die "server did not answer in 120 s"
}

finish_server() {
  stop_server
  if [[ -z "${KEEP:-}" ]]; then
    rm -rf "$DATA_DIR" "$CFG_DIR"
  else
    log "kept $DATA_DIR and $CFG_DIR"
  fi
  DATA_DIR=""
  CFG_DIR=""
}

# ---------------------------------------------------------------- SIPp
# run_sipp DIR SECONDS_LIMIT ARGS...: runs SIPp in DIR (its trace files land there) against
# the server, bounded by SECONDS_LIMIT; leaves sipp.cpu (user sys seconds), sipp.rc and
# sipp.drops (receive-buffer drops of SIPp's own socket) in DIR.
run_sipp() {
  local dir="$1" limit="$2" sport
  shift 2
  sport="$(free_port)"
  (
    cd "$dir"
    local rc=0
    /usr/bin/time -f '%U %S' -o sipp.cpu \
      timeout --signal=INT --kill-after=10 "$limit" \
      sipp -i 127.0.0.1 -p "$sport" -t "$SIPP_TRANSPORT" -nostdin -max_socket 64 \
      -trace_stat -fd 1 -trace_rtt -rtt_freq 200 -trace_counts -trace_err \
      -error_file sipp_errors.log "$@" "127.0.0.1:$SIP_PORT" >sipp.out 2>&1 || rc=$?
    echo "$rc" >sipp.rc
  ) &
  local sub=$!
  # SIPp's own socket is gone once it exits: sample its drop counter while it runs.
  local drops=0 d
  while kill -0 "$sub" 2>/dev/null; do
    d="$(udp_drops "$sport")"
    [[ "$d" -gt "$drops" ]] && drops="$d"
    sleep 0.5
  done
  wait "$sub" || true
  echo "$drops" >"$dir/sipp.drops"
}

sipp_cpu_ticks() {
  awk -v hz="$HZ" '{ printf "%d", ($1 + $2) * hz }' "$1/sipp.cpu" 2>/dev/null || echo 0
}

# measure DIR LIMIT ARGS...: run_sipp with CPU, drop and time accounting around it; prints
# key=value pairs.
measure() {
  local dir="$1"
  local s0 m0 t0 d0 s1 m1 t1 d1 w0 w1 sipp_t
  s0="$(proc_ticks "$SERVER_PID")"
  read -r m0 t0 <<<"$(machine_ticks)"
  d0="$(udp_drops "$SIP_PORT")"
  w0="$(date +%s.%N)"
  run_sipp "$@"
  w1="$(date +%s.%N)"
  s1="$(proc_ticks "$SERVER_PID")"
  read -r m1 t1 <<<"$(machine_ticks)"
  d1="$(udp_drops "$SIP_PORT")"
  sipp_t="$(sipp_cpu_ticks "$dir")"
  awk -v s=$((s1 - s0)) -v p="$sipp_t" -v m=$((m1 - m0)) -v t=$((t1 - t0)) -v n="$NCPU" \
    -v hz="$HZ" -v w0="$w0" -v w1="$w1" 'BEGIN {
      wall = w1 - w0; if (wall <= 0) wall = 1
      busy = (t > 0 ? n * m / t : 0)            # cores busy over the window
      printf "wall_s=%.1f server_cores=%.2f sipp_cores=%.2f other_cores=%.2f",
        wall, s / hz / wall, p / hz / wall, busy - (s + p) / hz / wall
    }'
  printf ' server_udp_drops=%d sipp_udp_drops=%s sipp_rc=%s\n' $((d1 - d0)) \
    "$(cat "$dir/sipp.drops")" "$(cat "$dir/sipp.rc")"
}

record() { echo "$*" >>"$RESULTS"; }

status_fields() { # the status counters as key=value pairs
  status | jq -r '"calls=\(.calls) dialogs=\(.dialogs) transactions=\(.transactions) contacts=\(.registered_contacts) calls_offered=\(.calls_offered) calls_refused=\(.calls_refused) overload_503=\(.overload_503) malformed=\(.malformed_messages)"'
}

# ---------------------------------------------------------------- calls
bench_calls() {
  local rate run
  for run in $(seq 1 "$RUNS"); do
    for rate in $RATES; do
      RUN_DIR="$OUT_DIR/calls-$rate-run$run"
      mkdir -p "$RUN_DIR"
      start_server 0
      wait_quiet
      local n=$((rate * DURATION))
      local limit=$((rate * (HOLD_MS / 1000 + 5) + 1000))
      log "calls: $rate cps for ${DURATION}s ($n calls, hold ${HOLD_MS} ms), run $run/$RUNS"
      local acct
      acct="$(measure "$RUN_DIR" $((DURATION + 120)) -sf "$SIPDIR/call.xml" -s "$NUMBER" \
        -d "$HOLD_MS" -r "$rate" -rp 1000 -m "$n" -l "$limit" -recv_timeout 10000 \
        -timeout $((DURATION + 100))s)"
      local line
      line="kind=calls rate=$rate run=$run $(python3 "$HELPER" run "$RUN_DIR") $acct $(status_fields) rss_kb=$(rss_kb "$SERVER_PID")"
      record "$line"
      log "$line"
      finish_server
    done
  done
}

# ---------------------------------------------------------------- register
gdb_heap() { # gdb_heap TRIM(0|1): malloc_stats() into the server log; prints heap_in_use=…
  local trim="$1" args=(-ex 'call (void) malloc_stats()')
  [[ "$trim" == 1 ]] && args+=(-ex 'call (int) malloc_trim(0)')
  if gdb -p "$SERVER_PID" -batch -nx "${args[@]}" >"$RUN_DIR/gdb.out" 2>&1; then
    sleep 0.2
    python3 "$HELPER" heap "$SERVER_LOG_FILE"
  else
    echo "heap_in_use=- heap_system=-"
  fi
}

bench_register() {
  local rate run users="$OUT_DIR/users.csv"
  python3 "$HELPER" users "$REG_USERS" "$users"
  for run in $(seq 1 "$RUNS"); do
    for rate in $REG_RATES; do
      RUN_DIR="$OUT_DIR/register-$rate-run$run"
      mkdir -p "$RUN_DIR"
      start_server "$REG_USERS"
      sleep 2
      local before heap_before="-" heap_after="-" rss_after rss_drained rss_trimmed="-"
      before="$(rss_kb "$SERVER_PID")"
      if [[ "$MEM_GDB" == 1 ]]; then
        heap_before="$(gdb_heap 0 | sed -n 's/.*heap_in_use=\([^ ]*\).*/\1/p')"
        before="$(rss_kb "$SERVER_PID")"
      fi
      wait_quiet
      local secs=$(((REG_USERS + rate - 1) / rate))
      log "register: $REG_USERS users at $rate/s (~${secs}s), run $run/$RUNS"
      local acct
      acct="$(measure "$RUN_DIR" $((secs + 120)) -sf "$SIPDIR/register.xml" -inf "$users" \
        -r "$rate" -rp 1000 -m "$REG_USERS" -l $((rate * 5 + 1000)) -recv_timeout 10000 \
        -timeout $((secs + 100))s)"
      rss_after="$(rss_kb "$SERVER_PID")"
      local t_end=$((SECONDS + DRAIN_WAIT)) tr
      while ((SECONDS < t_end)); do
        tr="$(status | jq -r .transactions)"
        [[ "$tr" == 0 ]] && break
        sleep 1
      done
      rss_drained="$(rss_kb "$SERVER_PID")"
      if [[ "$MEM_GDB" == 1 ]]; then
        heap_after="$(gdb_heap 1 | sed -n 's/.*heap_in_use=\([^ ]*\).*/\1/p')"
        rss_trimmed="$(rss_kb "$SERVER_PID")"
      fi
      local line
      line="kind=register rate=$rate run=$run users=$REG_USERS $(python3 "$HELPER" run "$RUN_DIR") $acct $(status_fields) rss_before_kb=$before rss_after_kb=$rss_after rss_drained_kb=$rss_drained rss_trimmed_kb=$rss_trimmed heap_before=$heap_before heap_after=$heap_after"
      record "$line"
      log "$line"
      finish_server
    done
  done
}

# ---------------------------------------------------------------- overload
bench_overload() {
  local run
  for run in $(seq 1 "$RUNS"); do
    RUN_DIR="$OUT_DIR/overload-$OVERLOAD_RATE-run$run"
    mkdir -p "$RUN_DIR/burst" "$RUN_DIR/recovery"
    start_server 0
    wait_quiet
    local n=$((OVERLOAD_RATE * OVERLOAD_SECS))
    log "overload: $OVERLOAD_RATE cps for ${OVERLOAD_SECS}s ($n calls, hold ${OVERLOAD_HOLD_MS} ms), run $run/$RUNS"
    # Poll the status API during the burst: does the server keep answering?
    (
      while :; do
        curl -s -o /dev/null -w '%{time_total}\n' --max-time 5 \
          -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/api/v1/sip/status" ||
          echo 5
        sleep 0.5
      done
    ) >"$RUN_DIR/api_times.txt" 2>/dev/null &
    BG_PIDS+=($!)
    local acct
    acct="$(measure "$RUN_DIR/burst" $((OVERLOAD_SECS + 120)) -sf "$SIPDIR/overload.xml" \
      -s "$NUMBER" -d "$OVERLOAD_HOLD_MS" -r "$OVERLOAD_RATE" -rp 1000 -m "$n" \
      -l $((OVERLOAD_RATE * 5)) -recv_timeout 10000 -timeout $((OVERLOAD_SECS + 100))s)"
    kill "${BG_PIDS[-1]}" 2>/dev/null || true
    wait "${BG_PIDS[-1]}" 2>/dev/null || true
    unset 'BG_PIDS[-1]'
    local after_burst api_max
    after_burst="$(status_fields)"
    api_max="$(awk '{ v = $1 * 1000; if (v > m) m = v } END { printf "%.0f", m }' "$RUN_DIR/api_times.txt")"
    log "overload: recovery at $RECOVERY_RATE cps for ${RECOVERY_SECS}s"
    local rec
    rec="$(measure "$RUN_DIR/recovery" $((RECOVERY_SECS + 120)) -sf "$SIPDIR/call.xml" \
      -s "$NUMBER" -d 0 -r "$RECOVERY_RATE" -rp 1000 -m $((RECOVERY_RATE * RECOVERY_SECS)) \
      -l $((RECOVERY_RATE * 5 + 1000)) -recv_timeout 10000 -timeout $((RECOVERY_SECS + 100))s)"
    local line
    line="kind=overload rate=$OVERLOAD_RATE run=$run $(python3 "$HELPER" run "$RUN_DIR/burst") $acct $after_burst api_max_ms=$api_max rss_kb=$(rss_kb "$SERVER_PID") $(python3 "$HELPER" run "$RUN_DIR/recovery" | sed 's/\([^ =]*\)=/rec_\1=/g') $(echo "$rec" | sed 's/\([^ =]*\)=/rec_\1=/g')"
    record "$line"
    log "$line"
    finish_server
  done
}

# ---------------------------------------------------------------- heap profile
bench_heapprofile() {
  command -v heaptrack >/dev/null 2>&1 && command -v heaptrack_print >/dev/null 2>&1 ||
    die "heapprofile needs heaptrack (apt-get install heaptrack)"
  local users="$OUT_DIR/users.csv"
  python3 "$HELPER" users "$REG_USERS" "$users"
  RUN_DIR="$OUT_DIR/heapprofile"
  mkdir -p "$RUN_DIR"
  start_server "$REG_USERS" heaptrack -o "$RUN_DIR/heaptrack"
  sleep 2
  log "heapprofile: $REG_USERS users at 1000/s under heaptrack"
  run_sipp "$RUN_DIR" $((REG_USERS / 1000 + 120)) -sf "$SIPDIR/register.xml" -inf "$users" \
    -r 1000 -rp 1000 -m "$REG_USERS" -l 6000 -recv_timeout 10000 -timeout $((REG_USERS / 1000 + 100))s
  local t_end=$((SECONDS + DRAIN_WAIT))
  while ((SECONDS < t_end)) && [[ "$(status | jq -r .transactions)" != 0 ]]; do sleep 1; done
  local st
  st="$(status_fields)"
  log "heapprofile: $st rss_kb=$(rss_kb "$SERVER_PID"); killing the server (SIGKILL)"
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$WRAPPER_PID" 2>/dev/null || true
  SERVER_PID=""
  local data="" f
  for f in "$RUN_DIR"/heaptrack*.zst "$RUN_DIR"/heaptrack*.gz; do
    [[ -f "$f" ]] && { data="$f"; break; }
  done
  [[ -n "$data" ]] || die "no heaptrack data in $RUN_DIR"
  heaptrack_print -f "$data" --print-peaks 0 --print-allocators 0 --print-temporary 0 \
    -F "$RUN_DIR/live-stacks.txt" --flamegraph-cost-type leaked >"$RUN_DIR/heaptrack-summary.txt" 2>&1 || true
  {
    echo "Heap profile: $REG_USERS registrations at 1000/s, transactions drained; $st"
    grep -E '^(peak heap memory consumption|peak RSS|total memory leaked)' "$RUN_DIR/heaptrack-summary.txt" || true
    echo
    python3 "$HELPER" heapsites "$RUN_DIR/live-stacks.txt"
  } | tee "$OUT_DIR/heapprofile.md"
  finish_server
}

# ---------------------------------------------------------------- main
ensure_tools
if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet) || die "build failed"
fi
[[ -x "$BIN" ]] || die "no server binary at $BIN"
log "output in $OUT_DIR"
{
  echo "# $(date -u)"
  echo "# tree $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $NCPU cores, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "# $(sipp -v 2>&1 | grep -m1 -o 'SIPp v[^ ]*' || true); server $BIN"
  echo "# RATES=\"$RATES\" DURATION=$DURATION HOLD_MS=$HOLD_MS NUMBER=$NUMBER RUNS=$RUNS REG_USERS=$REG_USERS REG_RATES=\"$REG_RATES\" OVERLOAD_RATE=$OVERLOAD_RATE OVERLOAD_SECS=$OVERLOAD_SECS OVERLOAD_HOLD_MS=$OVERLOAD_HOLD_MS SIP_SET=\"$SIP_SET\" DIGEST=$DIGEST SIPP_TRANSPORT=$SIPP_TRANSPORT"
} >>"$RESULTS"
for w in "${WHAT[@]}"; do
  "bench_$w"
done
[[ -s "$RESULTS" ]] || exit 0
python3 "$HELPER" table "$RESULTS" | tee "$OUT_DIR/tables.md"
log "results: $RESULTS, tables: $OUT_DIR/tables.md"
