#!/usr/bin/env bash
# Benchmark: the wallboard with 1,000 agents and 500 waiting callers (issue 6). Rerunnable;
# the server, its configuration copy and data directory are fresh and removed afterwards;
# every step is bounded in count and time.
#
#   bench/wallboard.sh
#
# 1. A release server on a copy of sip-config/ with AGENTS agents b00001… (password
#    bench-pass-NNNNN, not ready on register) spread over the queues 12345 (agents 1–60 %),
#    12319 (40–100 %, so a fifth serve both) and two more queues without a number ("complaints",
#    "urban") that every tenth agent also serves; 12345 without the language and self-service
#    offers; max_wait_secs 600 so nobody overflows while measured.
# 2. SIPp registers every agent's softphone (bench/sip/register.xml), then the probe
#    (bench/wallboard_probe.rs) logs each one in through the desk API and takes it off the
#    queue: odd agents not-ready ("meeting"), even ones on break.
# 3. `mediaload callpath` places CALLERS calls to 12345 at RATE/s (RTP both ways, G.711); with
#    nobody ready they all wait in the queue (music on hold, announcements every 30 s).
# 4. Once CALLERS wait: a quiet window of IDLE s (server CPU with the callers, no wallboard),
#    then the probe's measurement window: REQUESTS GETs of /api/v1/wallboard, REQUESTS GETs of
#    /metrics (and how many live pictures the call task built for them), CHANGES state
#    changes timed until their event on a WebSocket subscriber, 10 more timed until the
#    wallboard shows them; server CPU over that window.
# 5. The callers hang up (mediaload's reach limit), the server stops.
#
# Environment (all optional): AGENTS=1000 CALLERS=500 RATE=100 REQUESTS=500 CHANGES=100
#   IDLE=10 RUNS=3 RTP_PORTS=20000-29999 SERVER_LOG=warn KEEP=1 SKIP_BUILD=1 OUT_DIR=DIR
#   HOTLINE_BIN=PATH (default $CARGO_TARGET_DIR/release/hotline; the probe and mediaload are
#   examples beside it)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
AGENTS="${AGENTS:-1000}"
CALLERS="${CALLERS:-500}"
RATE="${RATE:-100}"
REQUESTS="${REQUESTS:-500}"
CHANGES="${CHANGES:-100}"
IDLE="${IDLE:-10}"
RUNS="${RUNS:-3}"
RTP_PORTS="${RTP_PORTS:-20000-29999}"
SERVER_LOG="${SERVER_LOG:-warn}"
QUIET_WAIT="${QUIET_WAIT:-60}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${HOTLINE_BIN:-$TARGET/release/hotline}"
PROBE="$(dirname "$BIN")/examples/wallboard_probe"
GEN="$(dirname "$BIN")/examples/mediaload"
TOKEN="demo-supervisor"
ADMIN="demo-admin"
HZ="$(getconf CLK_TCK)"

OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/hotline-wallboard-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.txt"
: >"$RESULTS"

log() { printf '[wallboard-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
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

if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "building the release server, the probe and mediaload"
  (cd "$ROOT" && cargo build --release --bin hotline --example wallboard_probe --example mediaload)
fi
for f in "$BIN" "$PROBE" "$GEN"; do [[ -x "$f" ]] || die "$f is missing"; done
command -v sipp >/dev/null || die "sipp is not installed (apt-get install sip-tester)"

# make_config DIR: the shipped configuration with the benchmark's agents and queues.
make_config() {
  local dir="$1" k queues
  cp "$ROOT"/sip-config/*.toml "$dir/"
  sed -i \
    -e "s|^rtp_ports = .*|rtp_ports = \"$RTP_PORTS\"|" \
    -e "s|^max_calls = [0-9]*|max_calls = $((2 * CALLERS + 200))|" \
    -e "s|^max_pending = [0-9]*|max_pending = 4096|" \
    -e "s|^digest_algorithms = .*|digest_algorithms = [\"MD5\"]|" \
    -e "s|^record_calls = .*|record_calls = false|" \
    -e "s|^prompts_dir = .*|prompts_dir = \"$ROOT/ivr-prompts\"|" \
    -e '/^language_key = "9"$/d' \
    -e '/^self_service = /d' \
    -e '/^queue_callback_key = /d' \
    "$dir/hotline.toml"
  grep -q '^digest_algorithms = \["MD5"\]' "$dir/hotline.toml" || die "could not set digest_algorithms"
  sed -i -e 's|^max_wait_secs = [0-9]*|max_wait_secs = 600|' "$dir/queues.toml"
  {
    echo
    echo "# Added by bench/wallboard.sh."
    printf '[[queues]]\nname = "complaints"\n\n[[queues]]\nname = "urban"\n\n'
    for k in $(seq 1 "$AGENTS"); do
      queues=""
      ((k <= AGENTS * 6 / 10)) && queues="\"12345\""
      ((k > AGENTS * 4 / 10)) && queues="${queues:+$queues, }\"12319\""
      ((k % 10 == 0)) && queues="$queues, \"complaints\", \"urban\""
      printf '[[agents]]\nid = "b%05d"\nname = "bench b%05d"\npassword = "bench-pass-%05d"\nqueues = [%s]\n\n' \
        "$k" "$k" "$k" "$queues"
    done
  } >>"$dir/queues.toml"
}

start_server() {
  HTTP_PORT="$(free_port)"
  SIP_PORT="$(free_port)"
  while [[ "$SIP_PORT" == "$HTTP_PORT" ]]; do SIP_PORT="$(free_port)"; done
  DATA_DIR="$(mktemp -d /tmp/hotline-wallboard-data.XXXXXX)"
  CFG_DIR="$(mktemp -d /tmp/hotline-wallboard-config.XXXXXX)"
  make_config "$CFG_DIR"
  "$BIN" check-config --config "$CFG_DIR/hotline.toml" >"$RUN_DIR/check-config.txt" 2>&1 ||
    { cat "$RUN_DIR/check-config.txt" >&2; die "the generated configuration is refused"; }
  (cd "$ROOT" && exec env RUST_LOG="$SERVER_LOG" "$BIN" serve \
    --config "$CFG_DIR/hotline.toml" --sip-addr "127.0.0.1:$SIP_PORT" \
    --http-addr "127.0.0.1:$HTTP_PORT" --data-dir "$DATA_DIR") >"$RUN_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do # up to 30 s
    if curl -sS --max-time 2 "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1; then
      log "server $SERVER_PID up (sip 127.0.0.1:$SIP_PORT, http :$HTTP_PORT)"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$RUN_DIR/server.log" >&2; die "server exited"; }
    sleep 0.1
  done
  die "server did not answer in 30 s"
}

# cpu_cores SECONDS: the server's CPU (cores) over the next SECONDS.
cpu_cores() {
  local t0 t1
  t0="$(proc_ticks "$SERVER_PID")"
  sleep "$1"
  t1="$(proc_ticks "$SERVER_PID")"
  awk -v a="$t0" -v b="$t1" -v s="$1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz / s }'
}

one_run() {
  local run="$1"
  RUN_DIR="$OUT_DIR/run$run"
  mkdir -p "$RUN_DIR"
  wait_quiet
  start_server
  python3 "$HERE/sip/helper.py" users "$AGENTS" "$RUN_DIR/users.csv"
  log "registering $AGENTS softphones (SIPp)"
  timeout 120 sipp "127.0.0.1:$SIP_PORT" -sf "$HERE/sip/register.xml" -inf "$RUN_DIR/users.csv" \
    -i 127.0.0.1 -p "$(free_port)" -r 200 -m "$AGENTS" -l 1000 -recv_timeout 10000 \
    -timeout 100s -bg -trace_err -error_file "$RUN_DIR/sipp-register-errors.log" \
    >"$RUN_DIR/sipp-register.log" 2>&1 || true
  local n=0
  for _ in $(seq 1 120); do
    n="$(curl -sS --max-time 5 -H "Authorization: Bearer $ADMIN" \
      "http://127.0.0.1:$HTTP_PORT/api/v1/sip/registrations" | jq 'length' 2>/dev/null || echo 0)"
    ((n >= AGENTS)) && break
    sleep 1
  done
  log "$n registrations"
  ((n >= AGENTS)) || die "only $n of $AGENTS softphones registered"
  log "logging the agents in, not-ready / break"
  "$PROBE" agents "127.0.0.1:$HTTP_PORT" "$ADMIN" b "$AGENTS" | tee "$RUN_DIR/agents.json" >&2
  log "$CALLERS callers at $RATE/s to 12345"
  local reach=$((CALLERS / RATE + 120 + IDLE))
  "$GEN" callpath --server "127.0.0.1:$SIP_PORT" --number 12345 --calls "$CALLERS" --agents 0 \
    --rate "$RATE" --reach-limit "$reach" --settle 0 --hold 1 --json \
    >"$RUN_DIR/mediaload.json" 2>"$RUN_DIR/mediaload.log" &
  GEN_PID=$!
  "$PROBE" wait "127.0.0.1:$HTTP_PORT" "$TOKEN" 12345 "$CALLERS" $((CALLERS / RATE + 60)) ||
    die "the callers did not all reach the queue"
  local idle_cpu busy_cpu t0 t1 secs figures
  idle_cpu="$(cpu_cores "$IDLE")"
  log "server CPU with $CALLERS callers waiting, no wallboard: $idle_cpu cores"
  t0="$(proc_ticks "$SERVER_PID")"
  local s0 s1
  s0="$(date +%s.%N)"
  figures="$("$PROBE" measure "127.0.0.1:$HTTP_PORT" "$TOKEN" b "$AGENTS" "$REQUESTS" "$CHANGES")"
  t1="$(proc_ticks "$SERVER_PID")"
  s1="$(date +%s.%N)"
  secs="$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')"
  busy_cpu="$(awk -v a="$t0" -v b="$t1" -v s="$secs" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz / s }')"
  echo "$figures" | jq -c --arg run "$run" --arg idle "$idle_cpu" --arg busy "$busy_cpu" \
    --arg secs "$secs" --argjson agents "$AGENTS" \
    '. + {run: ($run|tonumber), agents: $agents, cpu_idle_cores: ($idle|tonumber),
          cpu_measure_cores: ($busy|tonumber), measure_secs: ($secs|tonumber)}' | tee -a "$RESULTS"
  log "stopping the callers and the server"
  kill "$GEN_PID" 2>/dev/null || true
  wait "$GEN_PID" 2>/dev/null || true
  GEN_PID=""
  stop_server
  if [[ -z "${KEEP:-}" ]]; then rm -rf "$DATA_DIR" "$CFG_DIR"; fi
  DATA_DIR=""
  CFG_DIR=""
}

for run in $(seq 1 "$RUNS"); do
  one_run "$run"
done
log "results: $RESULTS"
cat "$RESULTS"
