#!/usr/bin/env python3
"""Helpers for bench/sip.sh (Python 3 standard library only).

    helper.py config SRC DST AGENTS SIP_SET
        Copies the *.toml of configuration directory SRC to DST. Sets the [sip] keys given in
        SIP_SET ("key=value;key=value", TOML values) in DST/hotline.toml, replacing the key
        when it is already there. With AGENTS > 0, appends that many agents to
        DST/queues.toml: id bNNNNN, password bench-pass-NNNNN, queue 12345.
    helper.py users N FILE
        Writes the SIPp injection file for the first N such agents (SEQUENTIAL; field0 = id,
        field1 = the [authentication ...] keyword with the id and password).
    helper.py run DIR
        Reads what one SIPp run left in DIR (its -trace_stat, -trace_rtt, -trace_counts
        files) and prints one line of key=value pairs (see run()).
    helper.py heap LOG
        The "in use bytes" and "system bytes" of the last glibc malloc_stats() report in LOG.
    helper.py median N...
        The median of the numbers given (entries that are not numbers are skipped).
    helper.py table RESULTS
        Markdown tables (per run, and medians) from the result lines bench/sip.sh wrote.
    helper.py heapsites STACKS
        From heaptrack_print's flame-graph stacks (cost type "leaked": bytes still allocated
        when the server was killed), the live bytes by the innermost hotline function and by
        the allocation just below it.
"""

import csv
import glob
import math
import os
import re
import shutil
import sys


def agent_id(i):
    return "b%05d" % i


def agent_password(i):
    return "bench-pass-%05d" % i


# ----------------------------------------------------------------------------- config
def config(src, dst, agents, sip_set):
    os.makedirs(dst, exist_ok=True)
    for path in glob.glob(os.path.join(src, "*.toml")):
        shutil.copy(path, dst)
    sets = []
    for item in (sip_set or "").split(";"):
        item = item.strip()
        if item:
            key, _, value = item.partition("=")
            sets.append((key.strip(), value.strip()))
    main = os.path.join(dst, "hotline.toml")
    with open(main) as f:
        lines = f.read().split("\n")
    out, in_sip = [], False
    for line in lines:
        header = re.match(r"^\s*\[+([^\]]+)\]+", line)
        if header:
            in_sip = header.group(1).strip() == "sip"
            out.append(line)
            if in_sip:
                out.extend("%s = %s   # set by bench/sip.sh" % kv for kv in sets)
            continue
        if in_sip and any(re.match(r"^\s*%s\s*=" % re.escape(k), line) for k, _ in sets):
            continue  # replaced above
        out.append(line)
    if sets and not any(re.match(r"^\s*\[sip\]", line) for line in lines):
        out += ["", "[sip]"] + ["%s = %s" % kv for kv in sets]
    with open(main, "w") as f:
        f.write("\n".join(out))
    if agents > 0:
        with open(os.path.join(dst, "queues.toml"), "a") as f:
            f.write("\n# %d benchmark agents, added by bench/sip.sh\n" % agents)
            for i in range(1, agents + 1):
                f.write(
                    '\n[[agents]]\nid = "%s"\nname = "bench %s"\npassword = "%s"\n'
                    'queues = ["12345"]\n' % (agent_id(i), agent_id(i), agent_password(i))
                )


def users(n, path):
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(1, n + 1):
            f.write(
                "%s;[authentication username=%s password=%s]\n"
                % (agent_id(i), agent_id(i), agent_password(i))
            )


# ----------------------------------------------------------------------------- one run
def last_row(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f, delimiter=";") if r]
    return dict(zip(rows[0], rows[-1])) if len(rows) > 1 else {}


def percentile(sorted_vals, p):
    """Nearest-rank percentile (p in 0..100) of an ascending list."""
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def newest(pattern):
    hits = sorted(glob.glob(pattern), key=os.path.getmtime)
    return hits[-1] if hits else None


def run(d):
    """created/ok/failed calls, fail_pct, fail_kinds, retrans, dead_msgs, out_of_call_msgs
    (last row of the -trace_stat file); per response-time partition N: rtdN_n, rtdN_p50,
    rtdN_p90, rtdN_p99, rtdN_max (ms; SIPp 3.6.1 measures in whole ms) and rtdN_rate (the
    partition's completions per second between its first and last one: for rtd 1 the
    achieved call or registration rate); rCODE = responses of that code received and unexp
    = unexpected messages (-trace_counts)."""
    out = {}
    stat = newest(os.path.join(d, "*_.csv"))
    if stat:
        s = last_row(stat)

        def num(k):
            try:
                return int(float(s.get(k) or 0))
            except ValueError:
                return 0

        out["created"] = num("TotalCallCreated")
        out["ok"] = num("SuccessfulCall(C)")
        out["failed"] = num("FailedCall(C)")
        done = out["ok"] + out["failed"]
        out["fail_pct"] = "%.3f" % (100.0 * out["failed"] / done) if done else "-"
        kinds = [
            "%s:%d" % (k[len("Failed"):-3], num(k))
            for k in s
            if k.startswith("Failed") and k.endswith("(C)") and k != "FailedCall(C)" and num(k)
        ]
        out["fail_kinds"] = ",".join(kinds) or "-"
        out["retrans"] = num("Retransmissions(C)")
        out["dead_msgs"] = num("DeadCallMsgs(C)")
        out["out_of_call_msgs"] = num("OutOfCallMsgs(C)")
    rtt = newest(os.path.join(d, "*_rtt.csv"))
    parts = {}
    if rtt:
        with open(rtt) as f:
            next(f, None)
            for line in f:
                bits = line.strip().split(";")
                try:
                    parts.setdefault(bits[2], []).append((float(bits[0]), float(bits[1])))
                except (ValueError, IndexError):
                    continue
    for rtd, pts in sorted(parts.items()):
        times = sorted(p[0] for p in pts)
        vals = sorted(p[1] for p in pts)
        out["rtd%s_n" % rtd] = len(vals)
        for p in (50, 90, 99):
            out["rtd%s_p%d" % (rtd, p)] = "%g" % percentile(vals, p)
        out["rtd%s_max" % rtd] = "%g" % vals[-1]
        span = (times[-1] - times[0]) / 1000.0
        out["rtd%s_rate" % rtd] = "%.1f" % ((len(times) - 1) / span) if span > 0 else "-"
    counts = newest(os.path.join(d, "*_counts.csv"))
    if counts:
        # rCODE: the first scenario line receiving CODE (in call.xml the 200 to the INVITE,
        # not the one to the BYE)
        got = {}
        for k, v in last_row(counts).items():
            bits = k.split("_")
            if len(bits) != 3:
                continue
            if bits[2] == "Recv" and bits[1].isdigit():
                got.setdefault("r" + bits[1], int(v or 0))
            elif bits[2] == "Unexp" and int(v or 0):
                got["unexp"] = got.get("unexp", 0) + int(v)
        out.update(sorted(got.items()))
    print(" ".join("%s=%s" % kv for kv in out.items()))


def heap(log):
    """in_use and system bytes of the last 'Total (incl. mmap):' block of malloc_stats()."""
    text = open(log, errors="replace").read()
    i = text.rfind("Total (incl. mmap):")
    if i < 0:
        print("heap_in_use=- heap_system=-")
        return
    block = text[i : i + 400]
    sysb = re.search(r"system bytes\s*=\s*(\d+)", block)
    used = re.search(r"in use bytes\s*=\s*(\d+)", block)
    print(
        "heap_in_use=%s heap_system=%s"
        % (used.group(1) if used else "-", sysb.group(1) if sysb else "-")
    )


def median_of(vals):
    nums = []
    for v in vals:
        try:
            nums.append(float(v))
        except (TypeError, ValueError):
            pass
    if not nums:
        return None
    nums.sort()
    n = len(nums)
    return nums[n // 2] if n % 2 else (nums[n // 2 - 1] + nums[n // 2]) / 2


# ----------------------------------------------------------------------------- tables
def fmt(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{d}f}".format(v, d=digits)


def read_results(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rows.append(dict(kv.split("=", 1) for kv in line.split() if "=" in kv))
    return rows


def f(row, key):
    try:
        return float(row.get(key, ""))
    except ValueError:
        return None


def table(path):
    rows = read_results(path)
    groups = {}
    for r in rows:
        groups.setdefault((r.get("kind"), r.get("rate")), []).append(r)

    def runs(rs, key, digits=0):
        return " / ".join(fmt(f(r, key), digits) for r in rs)

    def med(rs, key, digits=0):
        return fmt(median_of(r.get(key) for r in rs), digits)

    calls = sorted((k for k in groups if k[0] == "calls"), key=lambda k: float(k[1]))
    if calls:
        print("Call setup (INVITE -> 200 -> ACK -> BYE -> 200), medians of the runs:\n")
        print(
            "| offered cps | achieved cps (runs) | **median cps** | failed % (runs) | "
            "retrans (runs) | p50 ms | p99 ms (runs) | **median p99** | max ms (runs) | "
            "server cores | sipp cores | other cores | server UDP drops |"
        )
        print("|---:|---|---:|---|---|---:|---|---:|---|---:|---:|---:|---|")
        for k in calls:
            rs = groups[k]
            print(
                "| %s | %s | **%s** | %s | %s | %s | %s | **%s** | %s | %s | %s | %s | %s |"
                % (
                    fmt(float(k[1])),
                    runs(rs, "rtd1_rate"),
                    med(rs, "rtd1_rate"),
                    runs(rs, "fail_pct", 3),
                    runs(rs, "retrans"),
                    med(rs, "rtd1_p50"),
                    runs(rs, "rtd1_p99"),
                    med(rs, "rtd1_p99"),
                    runs(rs, "rtd1_max"),
                    med(rs, "server_cores", 2),
                    med(rs, "sipp_cores", 2),
                    med(rs, "other_cores", 2),
                    runs(rs, "server_udp_drops"),
                )
            )
        print()
    regs = sorted((k for k in groups if k[0] == "register"), key=lambda k: float(k[1]))
    if regs:
        print("Registration with digest (REGISTER -> 401 -> REGISTER -> 200), medians:\n")
        print(
            "| offered reg/s | users | achieved reg/s (runs) | **median reg/s** | failed % "
            "(runs) | retrans (runs) | p50 ms | p99 ms (runs) | **median p99** | "
            "contacts registered (runs) | server cores | sipp cores | other cores |"
        )
        print("|---:|---:|---|---:|---|---|---:|---|---:|---|---:|---:|---:|")
        for k in regs:
            rs = groups[k]
            print(
                "| %s | %s | %s | **%s** | %s | %s | %s | %s | **%s** | %s | %s | %s | %s |"
                % (
                    fmt(float(k[1])),
                    med(rs, "users"),
                    runs(rs, "rtd1_rate"),
                    med(rs, "rtd1_rate"),
                    runs(rs, "fail_pct", 3),
                    runs(rs, "retrans"),
                    med(rs, "rtd1_p50"),
                    runs(rs, "rtd1_p99"),
                    med(rs, "rtd1_p99"),
                    runs(rs, "contacts"),
                    med(rs, "server_cores", 2),
                    med(rs, "sipp_cores", 2),
                    med(rs, "other_cores", 2),
                )
            )
        print()
        print("Server memory around the registrations (MB = 2^20 bytes; per contact in bytes):\n")
        print(
            "| offered reg/s | RSS before (runs) | RSS right after (runs) | RSS after "
            "transactions drained (runs) | **median RSS drained** | RSS increment per "
            "contact | live heap before -> after | **live heap per contact** | RSS after "
            "malloc_trim |"
        )
        print("|---:|---|---|---|---:|---:|---|---:|---|")
        for k in regs:
            rs = groups[k]
            for r in rs:
                n = f(r, "contacts") or f(r, "users") or 1
                b, d = f(r, "rss_before_kb"), f(r, "rss_drained_kb")
                r["rss_per_contact"] = (d - b) * 1024 / n if b is not None and d is not None else None
                hb, ha = f(r, "heap_before"), f(r, "heap_after")
                r["heap_per_contact"] = (ha - hb) / n if hb is not None and ha is not None else None
                for key in ("rss_before_kb", "rss_after_kb", "rss_drained_kb", "rss_trimmed_kb"):
                    v = f(r, key)
                    r[key[:-3] + "_mb"] = v / 1024 if v is not None else None
                for key in ("heap_before", "heap_after"):
                    v = f(r, key)
                    r[key + "_mb"] = v / 1048576 if v is not None else None

            def runs_v(key, digits=1):
                return " / ".join(fmt(r.get(key), digits) for r in rs)

            def med_v(key, digits=1):
                return fmt(median_of(r.get(key) for r in rs), digits)

            print(
                "| %s | %s | %s | %s | **%s MB** | %s B | %s -> %s MB | **%s B** | %s |"
                % (
                    fmt(float(k[1])),
                    runs_v("rss_before_mb"),
                    runs_v("rss_after_mb"),
                    runs_v("rss_drained_mb"),
                    med_v("rss_drained_mb"),
                    med_v("rss_per_contact", 0),
                    med_v("heap_before_mb"),
                    med_v("heap_after_mb"),
                    med_v("heap_per_contact", 0),
                    runs_v("rss_trimmed_mb"),
                )
            )
        print()
    over = [k for k in groups if k[0] == "overload"]
    for k in over:
        rs = groups[k]
        print("Overload burst at %s cps offered, then recovery:\n" % fmt(float(k[1])))
        print(
            "| run | INVITEs sent | 200 | 503 (with Retry-After) | unanswered/failed | "
            "server overload_503 (transport) | server calls_refused (admission) | "
            "status API max ms during burst | recovery cps | recovery failed % | "
            "recovery p99 ms |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rs:
            print(
                "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                % (
                    r.get("run", "-"),
                    fmt(f(r, "created")),
                    fmt(f(r, "r200")),
                    fmt(f(r, "r503")),
                    fmt(f(r, "failed")),
                    fmt(f(r, "overload_503")),
                    fmt(f(r, "calls_refused")),
                    fmt(f(r, "api_max_ms")),
                    fmt(f(r, "rec_rtd1_rate")),
                    r.get("rec_fail_pct", "-"),
                    r.get("rec_rtd1_p99", "-"),
                )
            )
        print()


# ----------------------------------------------------------------------------- heap sites
def heapsites(path):
    total = 0
    by_fn, by_site = {}, {}
    def clean(fr):
        fr = re.sub(r"::h[0-9a-f]{16}", "", fr).split(" (")[0]
        for a, b in (("$LT$", "<"), ("$GT$", ">"), ("$u7b$", "{"), ("$u7d$", "}"),
                     ("$u20$", " "), ("$C$", ","), ("$RF$", "&"), ("..", "::")):
            fr = fr.replace(a, b)
        return fr.lstrip("_")
    for line in open(path, errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        try:
            n = int(n)
        except ValueError:
            continue
        total += n
        frames = [clean(fr) for fr in stack.split(";")]
        own = [i for i, fr in enumerate(frames) if "hotline" in fr]
        if own:
            i = own[-1]
            fn = frames[i]
            below = next(
                (fr for fr in frames[i + 1 :] if not re.match(r"_?R[A-Z]", fr) and "alloc::alloc" not in fr),
                "",
            )
            site = "%s -> %s" % (fn, below[:80]) if below else fn
        else:
            fn = site = "(outside hotline code)"
        by_fn[fn] = by_fn.get(fn, 0) + n
        by_site[site] = by_site.get(site, 0) + n
    print("Live heap when killed: %.1f MB\n" % (total / 1048576))
    print("| MB | innermost hotline function |\n|---:|---|")
    for fn, n in sorted(by_fn.items(), key=lambda kv: -kv[1])[:15]:
        print("| %.2f | `%s` |" % (n / 1048576, fn[:150]))
    print("\n| MB | allocation site (hotline function -> what allocated) |\n|---:|---|")
    for site, n in sorted(by_site.items(), key=lambda kv: -kv[1])[:15]:
        print("| %.2f | `%s` |" % (n / 1048576, site[:200]))


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "config":
        config(a[1], a[2], int(a[3]), a[4])
    elif len(a) == 3 and a[0] == "users":
        users(int(a[1]), a[2])
    elif len(a) == 2 and a[0] == "run":
        run(a[1])
    elif len(a) == 2 and a[0] == "heap":
        heap(a[1])
    elif a and a[0] == "median":
        m = median_of(a[1:])
        print("-" if m is None else "%g" % m)
    elif len(a) == 2 and a[0] == "table":
        table(a[1])
    elif len(a) == 2 and a[0] == "heapsites":
        heapsites(a[1])
    else:
        sys.exit(__doc__)
