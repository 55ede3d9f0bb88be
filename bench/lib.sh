# Shared by the benchmark scripts (bench/orders.sh, bench/sip.sh): stopping the server under
# test, free ports, CPU accounting from /proc and waiting for an idle machine. The sourcing
# script defines log(), SERVER_PID and QUIET_WAIT.

stop_server() {
  [[ -z "$SERVER_PID" ]] && return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do # up to 10 s
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server $SERVER_PID did not stop in 10 s; SIGKILL"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# A port on 127.0.0.1 that nothing uses over UDP or TCP (bounded number of tries).
free_port() {
  local p hex
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    hex="$(printf ':%04X ' "$p")"
    if ! grep -qi "$hex" /proc/net/udp /proc/net/tcp /proc/net/udp6 /proc/net/tcp6 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# ---------------------------------------------------------------- CPU accounting
# user+system clock ticks of one process (0 if gone).
proc_ticks() {
  local stat mode="${2:-}"
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
  stat="${stat##*) }" # fields after "(comm) "
  # shellcheck disable=SC2086
  set -- $stat
  if [[ "$mode" == children ]]; then
    echo $((${12} + ${13} + ${14} + ${15})) # utime stime cutime cstime (fields 14-17 of the line)
  else
    echo $((${12} + ${13})) # utime, stime (fields 14, 15 of the full line)
  fi
}

# busy and total ticks of the whole machine: "busy total".
machine_ticks() {
  local cpu user nice system idle iowait irq softirq steal rest
  read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}

# Other engineers' builds share the machine: before a measured run, wait (at most QUIET_WAIT
# seconds) until the machine is nearly idle (busy < 0.4 cores over one second).
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) b0 t0 b1 t1 busy
  while :; do
    read -r b0 t0 <<<"$(machine_ticks)"
    sleep 1
    read -r b1 t1 <<<"$(machine_ticks)"
    busy="$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v n="${NCPU:-$(nproc)}" \
      'BEGIN { printf "%.2f", (t > 0 ? n * b / t : 0) }')"
    awk -v b="$busy" 'BEGIN { exit !(b < 0.4) }' && return 0
    if ((SECONDS >= deadline)); then
      log "machine still busy ($busy cores in use) after ${QUIET_WAIT}s; running anyway"
      return 0
    fi
    log "machine busy ($busy cores in use); waiting"
    sleep 2
  done
}
