#!/usr/bin/env bash
# Benchmark: the media engine under load — N concurrent forwarded calls, each bridged and
# recorded by the server, with G.711 RTP both ways, driven by the Rust load generator
# bench/mediaload (cargo example `mediaload`), which plays the caller (UAC, dialling the
# forward number from 127.0.0.1, a trunk address) and the callee (UAS, the trunk's
# outbound_proxy). Rerunnable; every server, configuration copy and data directory is fresh
# and removed afterwards. Every run is bounded in count and time and stops by itself.
#
#   bench/media.sh
#
# For each N in CALLS, RUNS times: a fresh server; its RSS before any call ("idle"); the
# generator sets up N calls (each: inbound leg answered with music on hold, outbound INVITE
# to the generator's callee side, bridge + stereo recording when that answers), waits
# SETTLE seconds, then measures for HOLD seconds (the window) and hangs up. Over the window
# the script samples the server's CPU (utime+stime from /proc/PID/stat) and RSS (VmRSS, the
# largest of one sample a second); the generator reports loss and transit per stream and its
# own CPU. After the run the recordings are counted and their lengths checked.
#
# Figures per run: server cores (CPU time / wall time over the window) and % of a core per
# call, RSS and (RSS_window − RSS_idle) / N in KiB per call, packets lost (and streams with
# any loss), transit p50/p99 and added jitter (p99 − p50 of one-way transit through the
# server; the histogram stops at 200 ms, so 200.000 means "200 ms or more"), the generator's
# own cores, "sent % of due" (packets the generator managed to send in the window, of
# 2 × N × 50/s × HOLD: below 100 the generator itself fell behind, the machine is saturated),
# recordings found and their shortest length.
#
# Environment (all optional):
#   CALLS="250 500 1000 1500 2000 2500"   concurrent calls, one run each, RUNS times
#   RUNS=3              repetitions of every N
#   HOLD=30             measurement window (seconds)
#   SETTLE=3            wait between the last call up and the window (seconds)
#   RATE=200            call setup rate (calls per second)
#   BYE_RATE=500        hang-up rate at the end (calls per second)
#   NUMBER=19999        the forward number added to the configuration copy
#   RTP_PORTS=20000-39999   [server] rtp_ports of the server under test
#   SHARDS=0            [media] shards (media worker threads; 0 = one per core)
#   GEN_ARGS="..."      extra arguments for the generator (e.g. "--phases 8 --batch 32")
#   SERVER_ENV="VAR=VALUE ..."  extra environment for the server, for experiments
#   SERVER_WRAP="cmd ..."       run the server under this command (e.g. "perf record -g -o F");
#                       the measured PID is then the server process under it
#   OUT_DIR=DIR         where logs, results.txt and tables.md go (default: a new directory
#                       under /tmp)
#   SKIP_BUILD=1        do not run `cargo build --release` (server and example)
#   HOTLINE_BIN=PATH    the server binary (default $CARGO_TARGET_DIR/release/hotline, or
#                       target/release/hotline); the generator is examples/mediaload beside it
#   KEEP=1              keep the data (recordings) and configuration directories
#   SERVER_LOG=warn     RUST_LOG for the server (info logs lines per call)
#   QUIET_WAIT=60       before each measured run, wait up to this many seconds for the
#                       machine to be idle (0 = do not wait)
#
# The generator and the server share this machine's cores; both CPU figures are printed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CALLS="${CALLS:-250 500 1000 1500 2000 2500}"
RUNS="${RUNS:-3}"
HOLD="${HOLD:-30}"
SETTLE="${SETTLE:-3}"
RATE="${RATE:-200}"
BYE_RATE="${BYE_RATE:-500}"
NUMBER="${NUMBER:-19999}"
RTP_PORTS="${RTP_PORTS:-20000-39999}"
SHARDS="${SHARDS:-0}"
GEN_ARGS="${GEN_ARGS:-}"
SERVER_ENV="${SERVER_ENV:-}"
SERVER_WRAP="${SERVER_WRAP:-}"
SERVER_LOG="${SERVER_LOG:-warn}"
QUIET_WAIT="${QUIET_WAIT:-60}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${HOTLINE_BIN:-$TARGET/release/hotline}"
GEN="$(dirname "$BIN")/examples/mediaload"
TOKEN="demo-admin"
HZ="$(getconf CLK_TCK)"
NCPU="$(nproc)"

OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/hotline-media-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.txt"
: >"$RESULTS"

log() { printf '[media-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

# ---------------------------------------------------------------- state and clean-up
SERVER_PID=""
WRAPPER_PID=""
GEN_PID=""
DATA_DIR=""
CFG_DIR=""
cleanup() {
  local rc=$?
  [[ -n "$GEN_PID" ]] && kill "$GEN_PID" 2>/dev/null || true
  stop_server || true
  [[ -n "$WRAPPER_PID" ]] && wait "$WRAPPER_PID" 2>/dev/null || true
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

# ---------------------------------------------------------------- server
# make_config DIR N UAS_PORT: the shipped configuration with the benchmark's changes.
make_config() {
  local dir="$1" n="$2" uas="$3"
  cp "$ROOT"/sip-config/*.toml "$dir/"
  sed -i \
    -e "s|^rtp_ports = .*|rtp_ports = \"$RTP_PORTS\"|" \
    -e "s|^max_calls = [0-9]*|max_calls = $((2 * n + 200))|" \
    -e "s|^max_pending = [0-9]*|max_pending = 4096|" \
    -e "s|^name = \"carrier\"|name = \"carrier\"\noutbound_proxy = \"127.0.0.1:$uas\"\noptions_ping_secs = 0|" \
    -e "s|^record_calls = .*|record_calls = true|" \
    -e "s|^shards = .*|shards = $SHARDS|" \
    -e "s|^prompts_dir = .*|prompts_dir = \"$ROOT/ivr-prompts\"|" \
    "$dir/hotline.toml"
  grep -q "^shards = $SHARDS" "$dir/hotline.toml" || die "could not set [media] shards"
  cat >>"$dir/hotline.toml" <<EOF

# Added by bench/media.sh: calls to $NUMBER are forwarded to the generator's callee side.
[[numbers]]
number = "$NUMBER"
name = "media benchmark"
channel = "phone-12345"
queue = "12345"
hours = "24x7"
max_call_secs = 3600
answer_after_ms = 0
forward = { trunk = "carrier", number = "9000" }
EOF
  grep -q "outbound_proxy = \"127.0.0.1:$uas\"" "$dir/hotline.toml" || die "could not set outbound_proxy"
}

# start_server N UAS_PORT
start_server() {
  HTTP_PORT="$(free_port)"
  SIP_PORT="$(free_port)"
  while [[ "$SIP_PORT" == "$HTTP_PORT" ]]; do SIP_PORT="$(free_port)"; done
  DATA_DIR="$(mktemp -d /tmp/hotline-media-data.XXXXXX)"
  CFG_DIR="$(mktemp -d /tmp/hotline-media-config.XXXXXX)"
  make_config "$CFG_DIR" "$1" "$2"
  SERVER_LOG_FILE="$RUN_DIR/server.log"
  # shellcheck disable=SC2086
  (cd "$ROOT" && exec env RUST_LOG="$SERVER_LOG" $SERVER_ENV $SERVER_WRAP "$BIN" serve \
    --config "$CFG_DIR/hotline.toml" --sip-addr "127.0.0.1:$SIP_PORT" \
    --http-addr "127.0.0.1:$HTTP_PORT" --data-dir "$DATA_DIR") >"$SERVER_LOG_FILE" 2>&1 &
  SERVER_PID=$!
  WRAPPER_PID=""
  if [[ -n "$SERVER_WRAP" ]]; then
    WRAPPER_PID=$SERVER_PID
    SERVER_PID=""
    for _ in $(seq 1 100); do
      SERVER_PID="$(pgrep -P "$WRAPPER_PID" -x hotline || true)"
      [[ -n "$SERVER_PID" ]] && break
      sleep 0.1
    done
    [[ -n "$SERVER_PID" ]] || die "the server did not start under $SERVER_WRAP"
  fi
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
  if [[ -n "$WRAPPER_PID" ]]; then
    wait "$WRAPPER_PID" 2>/dev/null || true
    WRAPPER_PID=""
  fi
  if [[ -z "${KEEP:-}" ]]; then
    rm -rf "$DATA_DIR" "$CFG_DIR"
  else
    log "kept $DATA_DIR and $CFG_DIR"
  fi
  DATA_DIR=""
  CFG_DIR=""
}

# recordings DIR: "wavs=… wav_mb=… wav_min_s=… wav_median_s=…" (16-bit stereo, 8 kHz).
recordings() {
  find "$1" -name '*.wav' -printf '%s\n' 2>/dev/null | sort -n | awk '
    { s[NR] = $1; t += $1 }
    END {
      if (NR == 0) { print "wavs=0 wav_mb=0 wav_min_s=0 wav_median_s=0"; exit }
      printf "wavs=%d wav_mb=%.1f wav_min_s=%.1f wav_median_s=%.1f\n", NR, t / 1048576,
        (s[1] - 44) / 32000, (s[int((NR + 1) / 2)] - 44) / 32000
    }'
}

# ---------------------------------------------------------------- one run
run_one() {
  local n="$1" run="$2"
  RUN_DIR="$OUT_DIR/calls-$n-run$run"
  mkdir -p "$RUN_DIR/marks"
  local uas
  uas="$(free_port)"
  start_server "$n" "$uas"
  sleep 2
  local rss_idle
  rss_idle="$(rss_kb "$SERVER_PID")"
  wait_quiet
  log "calls: $n concurrent, window ${HOLD}s, run $run/$RUNS"
  local limit
  limit="$(awk -v n="$n" -v r="$RATE" -v b="$BYE_RATE" -v h="$HOLD" -v s="$SETTLE" \
    'BEGIN { printf "%d", n / r + n / b + h + s + 120 }')"
  # shellcheck disable=SC2086
  timeout --signal=INT --kill-after=10 "$limit" "$GEN" --server "127.0.0.1:$SIP_PORT" \
    --uas-port "$uas" --number "$NUMBER" --calls "$n" --rate "$RATE" --bye-rate "$BYE_RATE" \
    --hold "$HOLD" --settle "$SETTLE" --mark-dir "$RUN_DIR/marks" --json $GEN_ARGS \
    >"$RUN_DIR/gen.json" 2>"$RUN_DIR/gen.log" &
  GEN_PID=$!
  local deadline=$((SECONDS + limit)) s0="" s1="" w0="" w1="" rss_max=0 r
  while kill -0 "$GEN_PID" 2>/dev/null && ((SECONDS < deadline)); do
    if [[ -z "$s0" && -f "$RUN_DIR/marks/window-start" ]]; then
      s0="$(proc_ticks "$SERVER_PID")"
      w0="$(date +%s.%N)"
    fi
    if [[ -n "$s0" && -z "$s1" ]]; then
      r="$(rss_kb "$SERVER_PID")"
      ((r > rss_max)) && rss_max=$r
      if [[ -f "$RUN_DIR/marks/window-end" ]]; then
        s1="$(proc_ticks "$SERVER_PID")"
        w1="$(date +%s.%N)"
      fi
    fi
    if [[ -n "$s0" && -z "$s1" ]]; then sleep 1; else sleep 0.1; fi
  done
  wait "$GEN_PID" || log "generator exited with $?"
  GEN_PID=""
  cat "$RUN_DIR/gen.log" >&2
  local rss_after
  rss_after="$(rss_kb "$SERVER_PID")"
  sleep 1 # recordings close on the recorder thread
  finish_recordings="$(recordings "$DATA_DIR")"
  local line server
  if [[ -n "$s1" ]]; then
    server="$(awk -v s=$((s1 - s0)) -v hz="$HZ" -v w0="$w0" -v w1="$w1" -v n="$n" \
      -v ri="$rss_idle" -v rm="$rss_max" 'BEGIN {
        wall = w1 - w0; if (wall <= 0) wall = 1
        c = s / hz / wall
        printf "server_cores=%.3f pct_core_per_call=%.4f rss_idle_kb=%d rss_window_kb=%d kib_per_call=%.1f",
          c, 100 * c / n, ri, rm, (rm - ri) / n
      }')"
  else
    server="server_cores=- pct_core_per_call=- rss_idle_kb=$rss_idle rss_window_kb=- kib_per_call=-"
  fi
  line="calls=$n run=$run $server rss_after_kb=$rss_after $finish_recordings gen=$(tr -d '\n ' <"$RUN_DIR/gen.json")"
  echo "$line" >>"$RESULTS"
  log "$line"
  finish_server
}

# ---------------------------------------------------------------- tables
tables() {
  python3 - "$RESULTS" <<'EOF'
import json, statistics, sys

rows = []
for line in open(sys.argv[1]):
    if not line.startswith("calls="):
        continue
    head, _, gen = line.strip().partition(" gen=")
    r = dict(kv.split("=", 1) for kv in head.split())
    try:
        r.update(json.loads(gen))
    except ValueError:
        pass
    try:
        r["offered_pct"] = 100 * float(r["sent"]) / (2 * float(r["calls"]) * 50 * float(r["hold_s"]))
    except (KeyError, ValueError, ZeroDivisionError):
        pass
    rows.append(r)

def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError, TypeError):
        return None

cols = [
    ("calls", "calls", "%d"), ("up", "up_at_start", "%d"),
    ("server cores", "server_cores", "%.3f"), ("% core/call", "pct_core_per_call", "%.4f"),
    ("RSS MiB", "rss_window_kb", "kib/1024"), ("KiB/call", "kib_per_call", "%.1f"),
    ("sent % of due", "offered_pct", "%.1f"), ("lost", "lost", "%d"), ("loss %", "loss_pct", "%.4f"),
    ("streams w/ loss", "streams_with_loss", "%d"),
    ("transit p50 ms", "transit_p50_ms", "%.3f"), ("p99 ms", "transit_p99_ms", "%.3f"),
    ("max ms", "transit_max_ms", "%.2f"), ("added jitter ms", "added_jitter_ms", "%.3f"),
    ("RFC3550 max ms", "rfc3550_jitter_max_ms", "%.3f"),
    ("gen cores", "gen_cores_window", "%.3f"), ("failed calls", "failed_calls", "%d"),
    ("WAVs", "wavs", "%d"), ("shortest WAV s", "wav_min_s", "%.1f"),
]

def fmt(v, f):
    if v is None:
        return "-"
    if f == "kib/1024":
        return "%.1f" % (v / 1024)
    return f % v

def table(title, rs, first=("run", "run", "%d")):
    print("\n" + title + "\n")
    cs = [first] + cols if first else cols
    print("| " + " | ".join(c[0] for c in cs) + " |")
    print("|" + "---|" * len(cs))
    for r in rs:
        print("| " + " | ".join(fmt(num(r, c[1]), c[2]) for c in cs) + " |")

table("Per run", rows)
meds = []
for n in sorted({int(num(r, "calls")) for r in rows}):
    rs = [r for r in rows if int(num(r, "calls")) == n]
    m = {}
    for _, k, _ in cols:
        vs = [num(r, k) for r in rs if num(r, k) is not None]
        m[k] = statistics.median(vs) if vs else None
    m["runs"] = len(rs)
    meds.append(m)
table("Medians per N", meds, ("runs", "runs", "%d"))
EOF
}

# ---------------------------------------------------------------- main
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the tables"
command -v curl >/dev/null 2>&1 || die "curl is needed"
if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "cargo build --release (server and the mediaload example)"
  (cd "$ROOT" && cargo build --release --quiet && cargo build --release --quiet --example mediaload) ||
    die "build failed"
fi
[[ -x "$BIN" ]] || die "no server binary at $BIN"
[[ -x "$GEN" ]] || die "no generator at $GEN"
# Every call holds 4 server sockets (RTP + RTCP per leg).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "output in $OUT_DIR (open files: $(ulimit -n))"
{
  echo "# $(date -u)"
  echo "# tree $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $NCPU cores, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1), kernel $(uname -r)"
  echo "# CALLS=\"$CALLS\" RUNS=$RUNS HOLD=$HOLD SETTLE=$SETTLE RATE=$RATE BYE_RATE=$BYE_RATE RTP_PORTS=$RTP_PORTS SHARDS=$SHARDS GEN_ARGS=\"$GEN_ARGS\" SERVER_ENV=\"$SERVER_ENV\""
} >>"$RESULTS"
for run in $(seq 1 "$RUNS"); do
  for n in $CALLS; do
    run_one "$n" "$run"
  done
done
tables | tee "$OUT_DIR/tables.md"
log "results: $RESULTS, tables: $OUT_DIR/tables.md"
