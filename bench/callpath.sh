#!/usr/bin/env bash
# Benchmark: the full call path under load — callers from a trunk address through the
# greeting, the recording notice and the queue to registered agents' softphones that answer
# at once, every call recorded — driven by `mediaload callpath` (bench/mediaload/callpath/),
# which plays the callers and the agents. Rerunnable; every server, configuration copy and
# data directory is fresh and removed afterwards; every run is bounded and stops by itself.
#
#   bench/callpath.sh
#
# The configuration is a copy of sip-config/ with: AGENTS agents a0001… (password
# pw-a0001…, ready_on_register, all in queue 12345, longest-idle, wrap_up_secs 0,
# ring_secs 15), number 12345 without the language and self-service offers, the survey and
# the queue callback key (greeting + recording notice as shipped, then the queue),
# [sip] digest_algorithms = ["MD5"], max_calls 2N + 200, record_calls = true.
#
# a. Concurrency, for each N in CALLS (RUNS times): a fresh server, N agents register, N
#    calls at RATE/s; once every call is bridged to an agent (about 14 s of greeting and
#    notice after its answer), SETTLE s, then a window of HOLD s in which the script samples
#    the server's CPU and RSS and the generator counts RTP both ways; then BYEs. Figures:
#    server cores and % of a core per call, (RSS in window − RSS idle) / N, failed calls %
#    (failed setups, calls never bridged to an agent, calls the server hung up, BYEs not
#    answered, agent 200s never ACKed), packets lost both ways, recordings (count, shortest,
#    empty ones), dispositions in the call records.
# b. Setup rate, for each R in SETUP_RATES (RUNS times): a fresh server, SETUP_AGENTS agents,
#    R × SETUP_SECS calls at R/s, each hung up HANGUP_AFTER s after its answer (in the
#    greeting). Figures: failed %, INVITE→200 p50/p99, server cores from the first INVITE to
#    the last call's end.
#
# Environment (all optional):
#   CALLS="250 500 1000 1500 2000 2500"   concurrency points
#   SETUP_RATES="200 350 500 600"    setup-rate points (calls per second)
#   RUNS=3              repetitions of every point
#   RATE=200            call rate of the concurrency runs
#   HOLD=20             measurement window (seconds)
#   SETTLE=3            wait between the last call bridged and the window
#   SETUP_SECS=10       seconds of arrivals in a setup-rate run
#   HANGUP_AFTER=3      setup-rate callers hang up this long after the answer
#   SETUP_AGENTS=100    agents registered during the setup-rate runs
#   ANSWER_DELAY_MS=0   agents answer this long after the INVITE
#   PARTS="concurrency setup"   which parts to run
#   RTP_PORTS=20000-39999  SHARDS=0  SERVER_LOG=warn  QUIET_WAIT=60  KEEP=1  SKIP_BUILD=1
#   HOTLINE_BIN=PATH    the server (default $CARGO_TARGET_DIR/release/hotline); the generator
#                       is examples/mediaload beside it
#   OUT_DIR=DIR         logs, results.txt (default: a new directory under /tmp)
#   DATA_PARENT=/tmp    where each run's data directory (database, recordings) is made; e.g.
#                       /dev/shm to take the disk out of the measurement
#
# The generator and the server share this machine's cores; both CPU figures are printed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CALLS="${CALLS:-250 500 1000 1500 2000 2500}"
SETUP_RATES="${SETUP_RATES:-200 350 500 600}"
RUNS="${RUNS:-3}"
RATE="${RATE:-200}"
HOLD="${HOLD:-20}"
SETTLE="${SETTLE:-3}"
SETUP_SECS="${SETUP_SECS:-10}"
HANGUP_AFTER="${HANGUP_AFTER:-3}"
SETUP_AGENTS="${SETUP_AGENTS:-100}"
ANSWER_DELAY_MS="${ANSWER_DELAY_MS:-0}"
PARTS="${PARTS:-concurrency setup}"
RTP_PORTS="${RTP_PORTS:-20000-39999}"
SHARDS="${SHARDS:-0}"
SERVER_LOG="${SERVER_LOG:-warn}"
QUIET_WAIT="${QUIET_WAIT:-60}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${HOTLINE_BIN:-$TARGET/release/hotline}"
GEN="$(dirname "$BIN")/examples/mediaload"
TOKEN="demo-admin"
HZ="$(getconf CLK_TCK)"
NCPU="$(nproc)"

OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/hotline-callpath-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.txt"
: >"$RESULTS"

log() { printf '[callpath-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

SERVER_PID=""
GEN_PID=""
DATA_DIR=""
CFG_DIR=""
cleanup() {
  local rc=$?
  [[ -n "$GEN_PID" ]] && kill "$GEN_PID" 2>/dev/null || true
  stop_server || true
  if [[ -z "${KEEP:-}" ]]; then
    [[ -n "$DATA_DIR" ]] && rm -rf "$DATA_DIR"
    [[ -n "$CFG_DIR" ]] && rm -rf "$CFG_DIR"
  fi
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
api() { curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" "$@"; }

# make_config DIR AGENTS CALLS: the shipped configuration with the benchmark's changes.
make_config() {
  local dir="$1" agents="$2" calls="$3" k
  cp "$ROOT"/sip-config/*.toml "$dir/"
  sed -i \
    -e "s|^rtp_ports = .*|rtp_ports = \"$RTP_PORTS\"|" \
    -e "s|^max_calls = [0-9]*|max_calls = $((2 * calls + 200))|" \
    -e "s|^max_pending = [0-9]*|max_pending = 4096|" \
    -e "s|^digest_algorithms = .*|digest_algorithms = [\"MD5\"]|" \
    -e "s|^record_calls = .*|record_calls = true|" \
    -e "s|^shards = .*|shards = $SHARDS|" \
    -e "s|^prompts_dir = .*|prompts_dir = \"$ROOT/ivr-prompts\"|" \
    -e '/^language_key = "9"$/d' \
    -e '/^self_service = /d' \
    -e '/^survey = true$/d' \
    -e '/^queue_callback_key = /d' \
    "$dir/hotline.toml"
  grep -q '^digest_algorithms = \["MD5"\]' "$dir/hotline.toml" || die "could not set digest_algorithms"
  ! grep -q '^self_service = ' "$dir/hotline.toml" || die "could not drop self_service"
  # Queue 12345: no wrap-up (the first [[queues]] entry is 12345).
  awk 'BEGIN { q = 0 } /^\[\[queues\]\]/ { q++ }
       q == 1 && /^wrap_up_secs = / { sub(/= [0-9]+/, "= 0") } { print }' \
    "$dir/queues.toml" >"$dir/queues.tmp" && mv "$dir/queues.tmp" "$dir/queues.toml"
  grep -q '^wrap_up_secs = 0' "$dir/queues.toml" || die "could not set wrap_up_secs"
  {
    echo
    echo "# Added by bench/callpath.sh: the benchmark's agents (mediaload callpath)."
    for k in $(seq 1 "$agents"); do
      printf '[[agents]]\nid = "a%04d"\nname = "bench a%04d"\npassword = "pw-a%04d"\nqueues = ["12345"]\nready_on_register = true\n\n' \
        "$k" "$k" "$k"
    done
  } >>"$dir/queues.toml"
}

# start_server AGENTS CALLS
start_server() {
  HTTP_PORT="$(free_port)"
  SIP_PORT="$(free_port)"
  while [[ "$SIP_PORT" == "$HTTP_PORT" ]]; do SIP_PORT="$(free_port)"; done
  DATA_DIR="$(mktemp -d "${DATA_PARENT:-/tmp}/hotline-callpath-data.XXXXXX")"
  CFG_DIR="$(mktemp -d /tmp/hotline-callpath-config.XXXXXX)"
  make_config "$CFG_DIR" "$1" "$2"
  "$BIN" check-config --config "$CFG_DIR/hotline.toml" >"$RUN_DIR/check-config.txt" 2>&1 ||
    { cat "$RUN_DIR/check-config.txt" >&2; die "the generated configuration is refused"; }
  SERVER_LOG_FILE="$RUN_DIR/server.log"
  (cd "$ROOT" && exec env RUST_LOG="$SERVER_LOG" "$BIN" serve \
    --config "$CFG_DIR/hotline.toml" --sip-addr "127.0.0.1:$SIP_PORT" \
    --http-addr "127.0.0.1:$HTTP_PORT" --data-dir "$DATA_DIR") >"$SERVER_LOG_FILE" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do # up to 30 s
    if api "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1; then
      log "server $SERVER_PID up (sip 127.0.0.1:$SIP_PORT, http :$HTTP_PORT)"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$SERVER_LOG_FILE" >&2; die "server exited"; }
    sleep 0.1
  done
  tail -20 "$SERVER_LOG_FILE" >&2
  die "server did not answer in 30 s"
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

# recordings DIR: "wavs=… wav_empty=… wav_min_s=… wav_median_s=…" (16-bit stereo, 8 kHz);
# empty = no audio frame (44-octet header or less).
recordings() {
  find "$1" -name '*.wav' -printf '%s\n' 2>/dev/null | sort -n | awk '
    { s[NR] = $1; t += $1; if ($1 <= 44) e++ }
    END {
      if (NR == 0) { print "wavs=0 wav_empty=0 wav_mb=0 wav_min_s=0 wav_median_s=0"; exit }
      printf "wavs=%d wav_empty=%d wav_mb=%.1f wav_min_s=%.1f wav_median_s=%.1f\n", NR, e + 0,
        t / 1048576, (s[1] - 44) / 32000, (s[int((NR + 1) / 2)] - 44) / 32000
    }'
}

# The server's log without colours.
plain_log() { sed 's/\x1b\[[0-9;]*m//g' "$SERVER_LOG_FILE"; }

# after_run: what the server says once the calls are over (call records by disposition,
# queues and agents now, warnings other than the demo-credentials one and errors in its
# log), as key=value fields.
after_run() {
  local disp live warns errors
  disp="$(sqlite3 "$DATA_DIR/hotline.db" \
    "select coalesce(disposition,'none') || ':' || coalesce(disposition_detail,'-') || '=' || count(*)
       from calls group by disposition, disposition_detail" 2>/dev/null | tr '\n' ',' || true)"
  api "http://127.0.0.1:$HTTP_PORT/api/v1/live" >"$RUN_DIR/live.json" 2>/dev/null || true
  live="$(python3 - "$RUN_DIR/live.json" <<'EOF' 2>/dev/null || echo "live=?"
import collections, json, sys
d = json.load(open(sys.argv[1]))
states = collections.Counter(a.get("state", "?") for a in d.get("agents", []))
waiting = sum(q.get("waiting", 0) for q in d.get("queues", []))
ringing = sum(q.get("ringing", 0) for q in d.get("queues", []))
print("calls_in_progress=%s queue_waiting=%d queue_ringing=%d agent_states=%s" % (
      d.get("calls_in_progress", "?"), waiting, ringing,
      ",".join("%s:%d" % kv for kv in sorted(states.items()))))
EOF
)"
  warns="$(plain_log | grep ' WARN ' | grep -vc 'demo credentials' || true)"
  errors="$(plain_log | grep -c ' ERROR ' || true)"
  echo "dispositions=${disp:-none} $live log_warn=$warns log_error=$errors"
}

# sample_window GEN_PID LIMIT: samples the server between the generator's marks; sets
# S_TICKS, S_WALL, S_RSS_MAX.
sample_window() {
  local pid="$1" deadline=$((SECONDS + $2)) s0="" s1="" w0="" w1="" r
  S_RSS_MAX=0
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    if [[ -z "$s0" && -f "$RUN_DIR/marks/window-start" ]]; then
      s0="$(proc_ticks "$SERVER_PID")"
      w0="$(date +%s.%N)"
    fi
    if [[ -n "$s0" && -z "$s1" ]]; then
      r="$(rss_kb "$SERVER_PID")"
      ((r > S_RSS_MAX)) && S_RSS_MAX=$r
      if [[ -f "$RUN_DIR/marks/window-end" ]]; then
        s1="$(proc_ticks "$SERVER_PID")"
        w1="$(date +%s.%N)"
      fi
    fi
    if [[ -n "$s0" && -z "$s1" ]]; then sleep 1; else sleep 0.1; fi
  done
  if [[ -n "$s1" ]]; then
    S_TICKS=$((s1 - s0))
    S_WALL="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')"
  else
    S_TICKS=""
    S_WALL=""
  fi
}

# run_one KIND POINT RUN: KIND concurrency (POINT = calls) or setup (POINT = calls/s).
run_one() {
  local kind="$1" point="$2" run="$3" agents calls limit args
  RUN_DIR="$OUT_DIR/$kind-$point-run$run"
  mkdir -p "$RUN_DIR/marks"
  if [[ "$kind" == concurrency ]]; then
    calls="$point"
    agents="$point"
    args=(--rate "$RATE" --hold "$HOLD" --settle "$SETTLE")
    limit="$(awk -v n="$calls" -v r="$RATE" -v h="$HOLD" 'BEGIN { printf "%d", n / 500 + n / r + 60 + h + n / 500 + 120 }')"
  else
    calls=$((point * SETUP_SECS))
    agents="$SETUP_AGENTS"
    args=(--rate "$point" --hangup-after "$HANGUP_AFTER")
    limit="$(awk -v n="$calls" -v r="$point" -v h="$HANGUP_AFTER" 'BEGIN { printf "%d", n / r + h + 60 + 120 }')"
  fi
  start_server "$agents" "$calls"
  sleep 2
  local rss_idle
  rss_idle="$(rss_kb "$SERVER_PID")"
  wait_quiet
  log "$kind $point, run $run/$RUNS: $calls calls, $agents agents"
  timeout --signal=INT --kill-after=10 "$limit" "$GEN" callpath --server "127.0.0.1:$SIP_PORT" \
    --number 12345 --calls "$calls" --agents "$agents" --answer-delay-ms "$ANSWER_DELAY_MS" \
    "${args[@]}" --mark-dir "$RUN_DIR/marks" --json >"$RUN_DIR/gen.json" 2>"$RUN_DIR/gen.log" &
  GEN_PID=$!
  sample_window "$GEN_PID" "$limit"
  wait "$GEN_PID" || log "generator exited with $?"
  GEN_PID=""
  cat "$RUN_DIR/gen.log" >&2
  sleep 3 # the last call records and recordings are written
  local rss_after server rec after alive=1
  rss_after="$(rss_kb "$SERVER_PID")"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    alive=0
    wait "$SERVER_PID" 2>/dev/null && log "the server exited during the run (status 0)" ||
      log "the server exited during the run (status $?)"
    tail -5 "$SERVER_LOG_FILE" >&2
  fi
  rec="$(recordings "$DATA_DIR")"
  after="$(after_run)"
  if [[ -n "$S_TICKS" ]]; then
    server="$(awk -v s="$S_TICKS" -v hz="$HZ" -v wall="$S_WALL" -v n="$calls" -v ri="$rss_idle" \
      -v rm="$S_RSS_MAX" 'BEGIN {
        if (wall <= 0) wall = 1
        c = s / hz / wall
        printf "server_cores=%.3f pct_core_per_call=%.4f rss_idle_kb=%d rss_window_kb=%d kib_per_call=%.1f",
          c, 100 * c / n, ri, rm, (rm - ri) / n
      }')"
  else
    server="server_cores=- pct_core_per_call=- rss_idle_kb=$rss_idle rss_window_kb=- kib_per_call=-"
  fi
  local line
  line="kind=$kind point=$point run=$run server_alive=$alive $server rss_after_kb=$rss_after $rec $after gen=$(tr -d '\n ' <"$RUN_DIR/gen.json")"
  echo "$line" >>"$RESULTS"
  log "$line"
  plain_log | grep -E ' (WARN|ERROR) ' | sed -E 's/call_id=[^ ]+/call_id=…/g' |
    cut -c1-300 | sort | uniq -c | sort -rn | head -20 >"$RUN_DIR/server-warnings.txt" || true
  finish_server
}

# ---------------------------------------------------------------- tables
tables() {
  python3 "$HERE/callpath_tables.py" "$RESULTS"
}

if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "building (release)"
  (cd "$ROOT" && cargo build --release --bin hotline --example mediaload) >&2
fi
[[ -x "$BIN" ]] || die "no server binary at $BIN"
[[ -x "$GEN" ]] || die "no generator at $GEN"
log "output in $OUT_DIR; machine: $NCPU cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

for part in $PARTS; do
  case "$part" in
  concurrency) points="$CALLS" ;;
  setup) points="$SETUP_RATES" ;;
  *) die "unknown part $part" ;;
  esac
  for p in $points; do
    for run in $(seq 1 "$RUNS"); do
      run_one "$part" "$p" "$run"
    done
  done
done
tables | tee "$OUT_DIR/tables.md"
log "results in $RESULTS, tables in $OUT_DIR/tables.md"
