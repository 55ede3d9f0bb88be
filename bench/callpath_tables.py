"""Tables of bench/callpath.sh: medians per point of its results.txt, as markdown."""
import json
import statistics
import sys
from collections import defaultdict


def rows(path):
    for line in open(path):
        if not line.startswith("kind="):
            continue
        head, _, gen = line.strip().partition(" gen=")
        r = {}
        for kv in head.split():
            k, _, v = kv.partition("=")
            r[k] = v
        try:
            r.update(json.loads(gen))
        except ValueError:
            pass
        try:
            # Packets the generator managed to send in the window, of 2 streams × 50/s × hold
            # per bridged call: below 100 the generator itself fell behind (machine saturated).
            due = 2 * float(r["bridged_at_start"]) * 50 * float(r["hold_s"])
            r["sent_pct_due"] = 100 * float(r["sent"]) / due
        except (KeyError, ValueError, ZeroDivisionError):
            pass
        yield r


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError, TypeError):
        return None


def med(rs, k):
    v = [x for x in (num(r, k) for r in rs) if x is not None]
    return statistics.median(v) if v else None


def fmt(v, f):
    return "-" if v is None else f % v


COLS = {
    "concurrency": [
        ("calls", "point", "%d"), ("bridged", "bridged_at_start", "%d"),
        ("failed %", "failed_pct", "%.2f"), ("lost", "lost", "%d"),
        ("streams w/ loss", "streams_with_loss", "%d"), ("sent % of due", "sent_pct_due", "%.1f"),
        ("server cores", "server_cores", "%.3f"), ("% core/call", "pct_core_per_call", "%.4f"),
        ("KiB/call", "kib_per_call", "%.1f"), ("transit p50 ms", "transit_p50_ms", "%.2f"),
        ("transit p99 ms", "transit_p99_ms", "%.2f"), ("gen cores", "gen_cores_window", "%.3f"),
        ("setup p50 ms", "setup_p50_ms", "%.2f"), ("setup p99 ms", "setup_p99_ms", "%.2f"),
        ("to agent p50 s", "to_agent_p50_s", "%.2f"), ("WAVs", "wavs", "%d"),
        ("empty WAVs", "wav_empty", "%d"), ("shortest WAV s", "wav_min_s", "%.1f"),
        ("log warnings", "log_warn", "%d"), ("log errors", "log_error", "%d"),
    ],
    "setup": [
        ("calls/s", "point", "%d"), ("calls", "calls", "%d"), ("failed %", "failed_pct", "%.2f"),
        ("setup p50 ms", "setup_p50_ms", "%.2f"), ("setup p99 ms", "setup_p99_ms", "%.2f"),
        ("setup max ms", "setup_max_ms", "%.1f"), ("INVITE retx", "invite_retx", "%d"),
        ("server cores", "server_cores", "%.3f"), ("gen cores", "gen_cores_window", "%.3f"),
        ("WAVs", "wavs", "%d"), ("empty WAVs", "wav_empty", "%d"),
        ("median WAV s", "wav_median_s", "%.1f"), ("log errors", "log_error", "%d"),
    ],
}


def main():
    by = defaultdict(list)
    for r in rows(sys.argv[1]):
        by[(r.get("kind"), int(r.get("point", 0)))].append(r)
    for kind, cols in COLS.items():
        points = sorted(p for k, p in by if k == kind)
        if not points:
            continue
        print(f"\n### {kind} (medians of runs)\n")
        print("| runs | " + " | ".join(c[0] for c in cols) + " |")
        print("|---:|" + "---:|" * len(cols))
        for p in points:
            rs = by[(kind, p)]
            print(f"| {len(rs)} | " + " | ".join(fmt(med(rs, k), f) for _, k, f in cols) + " |")
        print("\nPer run:")
        for p in points:
            for r in by[(kind, p)]:
                print(f"- {kind} {p} run {r.get('run')}: failed {r.get('failed_calls')} "
                      f"({r.get('failed_by_reason')}), never reached an agent "
                      f"{r.get('never_reached_agent')}, server hung up {r.get('server_byes')}, "
                      f"lost {r.get('lost')}, {r.get('dispositions')}, "
                      f"after the run: {r.get('calls_in_progress', '?')} calls in progress, "
                      f"{r.get('queue_waiting', '?')} waiting, {r.get('queue_ringing', '?')} ringing, "
                      f"agents {r.get('agent_states', '?')}, log warn {r.get('log_warn')} "
                      f"error {r.get('log_error')}")


if __name__ == "__main__":
    main()
