#!/usr/bin/env bash
# pgbench of the work-order create transaction (no HTTP, no hotline server) on a fresh database
# with the hotline schema, to separate what PostgreSQL costs from what the server costs.
#
#   bench/pgbench/run.sh [SCRIPT…]     (default: all four below)
#
#   create_order        the statements Store::create_order sends today: BEGIN, counter upsert,
#                       order INSERT … RETURNING, event INSERT, COMMIT (5 round trips)
#   create_order_nohot  the same, but each client has its own counter row (no shared hot row)
#   create_order_cte    the three writes in one statement (data-modifying CTEs), autocommit
#   create_order_seq    one statement, serial from a SEQUENCE instead of the counter row
#
# Environment: CLIENTS="1 8 32 64"  SECONDS_PER_RUN=10  SYNC="on off"  PG_URL=postgres://postgres@127.0.0.1:5432
# synchronous_commit is set per session (PGOPTIONS), never in the server configuration. The
# CPU columns are microseconds of CPU per transaction for all postgres processes and for pgbench.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
CLIENTS="${CLIENTS:-1 8 32 64}"
T="${SECONDS_PER_RUN:-10}"
SYNC="${SYNC:-on off}"
SCRIPTS="${*:-create_order create_order_nohot create_order_cte create_order_seq}"
HZ="$(getconf CLK_TCK)"
DB="hotline_pgbench_$$"
trap 'psql "$PG_URL/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
psql "$PG_URL/postgres" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\""
[[ -x "$ROOT/target/release/hotline" ]] || (cd "$ROOT" && cargo build --release --quiet)
DATABASE_URL="$PG_URL/$DB" RUST_LOG=warn "$ROOT/target/release/hotline" migrate \
  --config "$ROOT/sip-config/hotline.toml" >/dev/null
psql "$PG_URL/$DB" -qAt -v ON_ERROR_STOP=1 -c "CREATE SEQUENCE hotline_bench_serial"

postgres_ticks() {
  local total=0 d comm stat
  for d in /proc/[0-9]*; do
    { read -r comm <"$d/comm"; } 2>/dev/null || continue
    [[ "$comm" == postgres ]] || continue
    { read -r stat <"$d/stat"; } 2>/dev/null || continue
    stat="${stat##*) }"
    # shellcheck disable=SC2086
    set -- $stat
    total=$((total + ${12} + ${13} + ${14} + ${15})) # utime stime cutime cstime
  done
  echo "$total"
}
# Other work on the machine skews the figures: wait (at most 60 s) until it is nearly idle.
wait_quiet() {
  local u0 n0 s0 i0 w0 u1 n1 s1 i1 w1
  for _ in $(seq 1 20); do
    read -r _ u0 n0 s0 i0 w0 _ </proc/stat
    sleep 1
    read -r _ u1 n1 s1 i1 w1 _ </proc/stat
    local busy=$(((u1 + n1 + s1) - (u0 + n0 + s0))) idle=$(((i1 + w1) - (i0 + w0)))
    ((busy * 100 < 20 * (busy + idle))) && return 0 # < 20 % of the machine busy
    sleep 2
  done
  echo "(machine busy; running anyway)" >&2
}
times_ms() { awk -v t="$1" 'BEGIN { split(t, a, "m"); sub("s", "", a[2]); printf "%d", (a[1] * 60 + a[2]) * 1000 }'; }

printf '%-19s %-4s %7s %7s %9s %9s %9s\n' script sync clients tps lat_ms pg_us/tx bench_us/tx
for script in $SCRIPTS; do
  for sync in $SYNC; do
    for c in $CLIENTS; do
      PGOPTIONS="-c client_min_messages=warning" psql "$PG_URL/$DB" -qAt -v ON_ERROR_STOP=1 -c \
        "TRUNCATE case_events, work_orders, order_counters RESTART IDENTITY CASCADE;
         ALTER SEQUENCE hotline_bench_serial RESTART" >/dev/null
      wait_quiet
      j=2; ((c < 2)) && j=1
      p0="$(postgres_ticks)"
      out="$(
        PGOPTIONS="-c synchronous_commit=$sync" pgbench -n -M prepared -j "$j" -c "$c" -T "$T" \
          -f "$HERE/$script.sql" "$PG_URL/$DB" 2>&1 || echo "pgbench failed"
        times
      )"
      sleep 0.5 # let the backends exit and be reaped (their ticks move to the postmaster's cutime)
      p1="$(postgres_ticks)"
      grep -q "pgbench failed" <<<"$out" && { echo "$out" >&2; exit 1; }
      tps="$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out")"
      n="$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$out")"
      lat="$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' <<<"$out")"
      tl="$(tail -1 <<<"$out")"
      bench_ms=$(($(times_ms "${tl%% *}") + $(times_ms "${tl##* }")))
      awk -v s="$script" -v y="$sync" -v c="$c" -v tps="$tps" -v lat="$lat" -v n="$n" \
        -v pt=$((p1 - p0)) -v hz="$HZ" -v bm="$bench_ms" \
        'BEGIN { printf "%-19s %-4s %7s %7.0f %9s %9.0f %9.0f\n", s, y, c, tps, lat,
                 pt / hz * 1e6 / n, bm * 1000 / n }'
    done
  done
done
