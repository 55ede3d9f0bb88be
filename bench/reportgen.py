#!/usr/bin/env python3
"""Fills a migrated hotline case store with a month of synthetic contact-centre data for the
reports benchmark (bench/reports.sh): inbound calls with a realistic mix (answered with talk and
wrap-up, abandoned — some within 5 s — voicemail, callback requests, rejected, hung up in the
greeting), a busier day-time curve, two queues, 30 agents, satisfaction surveys, missed-call
callback tasks (most called back, each with its outbound call), and the work orders made from
answered calls (most closed, some late, some at intake). Deterministic (seeded).

    bench/reportgen.py --sqlite DATA_DIR/hotline.db  [--month 2026-10] [--calls-per-day 3300]
    bench/reportgen.py --postgres postgres://…/db     [...]

Times are written as the server writes them: UTC, ISO-8601 (`…+00:00` text on SQLite).
"""
import argparse
import calendar
import csv
import io
import random
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

CALL_COLS = ["id", "sip_call_id", "direction", "trunk", "from_number", "to_number", "priority",
             "language", "queue", "agent_id", "offered_at", "queued_at", "ringing_at",
             "answered_at", "ended_at", "disposition", "disposition_detail", "transferred_to",
             "survey", "recording_path", "voicemail_offset_ms", "work_order_id", "needs_order",
             "callback_task_id", "wrap_up_ms"]
ORDER_COLS = ["id", "number", "channel", "request_type", "status", "priority", "description",
              "caller_number", "deadline", "resolved_at_intake", "call_id", "search_text",
              "created_by", "created_at", "updated_at", "closed_at", "version"]
TASK_COLS = ["id", "kind", "number", "queue", "call_id", "created_at", "status", "agent_id",
             "taken_at", "attempts", "max_attempts", "result", "updated_at"]

# Share of a day's calls per local hour (night is quiet, mornings and afternoons busy).
HOURLY = [1, 1, 1, 1, 1, 2, 3, 6, 9, 10, 10, 9, 6, 7, 9, 9, 8, 7, 5, 4, 3, 2, 2, 1]
AGENTS = [str(1001 + i) for i in range(20)] + [str(2001 + i) for i in range(10)]


def ts(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def generate(month, per_day, offset_h, seed=12345):
    rnd = random.Random(seed)
    tz = timezone(timedelta(hours=offset_h))
    year, mon = map(int, month.split("-"))
    days = calendar.monthrange(year, mon)[1]
    calls, orders, tasks = [], [], []
    weights = [w / sum(HOURLY) for w in HOURLY]
    n_call = n_order = n_task = 0
    for day in range(1, days + 1):
        serial = 0
        n = int(per_day * rnd.uniform(0.9, 1.1))
        for _ in range(n):
            hour = rnd.choices(range(24), weights)[0]
            offered = datetime(year, mon, day, hour, rnd.randrange(60), rnd.randrange(60), tzinfo=tz)
            n_call += 1
            cid = f"bench-{n_call}"
            queue = "12345" if rnd.random() < 0.8 else "12319"
            caller = f"138{rnd.randrange(10**8):08d}"
            r = rnd.random()
            row = dict.fromkeys(CALL_COLS)
            row.update(id=cid, direction="inbound", trunk="carrier", from_number=caller,
                       to_number=queue, priority=0, offered_at=ts(offered), needs_order=False)
            queued = offered + timedelta(seconds=rnd.randint(4, 9))
            if r < 0.01:  # hung up in the greeting
                row.update(ended_at=ts(offered + timedelta(seconds=3)), disposition="abandoned",
                           disposition_detail="greeting")
                calls.append(row)
                continue
            if r < 0.02:  # refused
                row.update(ended_at=ts(offered), disposition="rejected", disposition_detail="blacklist")
                calls.append(row)
                continue
            row.update(queue=queue, queued_at=ts(queued))
            if r < 0.87:  # answered
                agent = rnd.choice(AGENTS[:20] if queue == "12345" else AGENTS[20:])
                wait = int(rnd.expovariate(1 / 9))
                answered = queued + timedelta(seconds=wait)
                talk = int(rnd.lognormvariate(5.2, 0.5))
                ended = answered + timedelta(seconds=talk)
                row.update(agent_id=agent, ringing_at=ts(answered - timedelta(seconds=min(wait, 3))),
                           answered_at=ts(answered), ended_at=ts(ended), disposition="answered",
                           wrap_up_ms=rnd.randint(5, 30) * 1000)
                if rnd.random() < 0.05:
                    row["transferred_to"] = "12319" if queue == "12345" else "12345"
                if rnd.random() < 0.3:
                    row["survey"] = rnd.choices([1, 2, 3], [80, 15, 5])[0]
                if rnd.random() < 0.4:  # an order from the call
                    n_order += 1
                    serial += 1
                    created = ended - timedelta(seconds=rnd.randint(10, 60))
                    first = rnd.random() < 0.15
                    deadline = created + timedelta(days=rnd.choice([3, 7, 15]))
                    closed = None
                    if first:
                        closed = created + timedelta(minutes=1)
                    elif rnd.random() < 0.6:
                        closed = created + timedelta(days=rnd.uniform(0.5, 14))
                    o = dict(id=n_order, number=f"{offered.strftime('%Y%m%d')}{serial:05d}",
                             channel="phone-" + queue, request_type=rnd.choice(
                                 ["consultation", "help", "complaint", "suggestion"]),
                             status="closed" if closed else "dispatched", priority="normal",
                             description="synthetic", caller_number=caller, deadline=ts(deadline),
                             resolved_at_intake=first, call_id=cid, search_text="synthetic",
                             created_by=f"agent-{agent}", created_at=ts(created),
                             updated_at=ts(closed or created), closed_at=ts(closed) if closed else None,
                             version=1)
                    orders.append(o)
                    row["work_order_id"] = n_order
                else:
                    row["needs_order"] = rnd.random() < 0.02
            elif r < 0.95:  # abandoned in the queue, a third of them at once
                wait = rnd.randint(0, 4) if rnd.random() < 0.33 else rnd.randint(5, 180)
                row.update(ended_at=ts(queued + timedelta(seconds=wait)), disposition="abandoned",
                           disposition_detail="queue")
                n_task += 1
                done = rnd.random() < 0.7
                created = queued + timedelta(seconds=wait + 1)
                agent = rnd.choice(AGENTS)
                called = created + timedelta(minutes=rnd.randint(5, 120))
                tasks.append(dict(id=n_task, kind="missed-call", number=caller, queue=queue,
                                  call_id=cid, created_at=ts(created),
                                  status="done" if done else "failed", agent_id=agent,
                                  taken_at=ts(called), attempts=1 if done else 3, max_attempts=3,
                                  result="answered" if done else "no-answer", updated_at=ts(called)))
                row["callback_task_id"] = n_task
                # The callback: an outbound call, never counted in the inbound KPIs.
                n_call += 1
                out = dict.fromkeys(CALL_COLS)
                out.update(id=f"bench-{n_call}", direction="outbound", trunk="carrier",
                           from_number="12345", to_number=caller, priority=0, queue=queue,
                           agent_id=agent, offered_at=ts(called), needs_order=False,
                           callback_task_id=n_task, ended_at=ts(called + timedelta(seconds=90)),
                           disposition="answered" if done else "failed")
                if done:
                    out["answered_at"] = ts(called + timedelta(seconds=10))
                calls.append(out)
            elif r < 0.98:  # overflow to voicemail
                row.update(ended_at=ts(queued + timedelta(seconds=120)), disposition="voicemail",
                           voicemail_offset_ms=8000)
            else:  # asked to be called back
                row.update(ended_at=ts(queued + timedelta(seconds=30)), disposition="callback-requested")
            calls.append(row)
    return calls, orders, tasks


def fill_sqlite(path, calls, orders, tasks):
    db = sqlite3.connect(path)
    with db:
        for table, cols, rows in [("work_orders", ORDER_COLS, orders),
                                  ("callback_tasks", TASK_COLS, tasks), ("calls", CALL_COLS, calls)]:
            db.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                ([r[c] for c in cols] for r in rows))
    db.execute("ANALYZE")
    db.close()


def fill_postgres(url, calls, orders, tasks):
    for table, cols, rows in [("work_orders", ORDER_COLS, orders),
                              ("callback_tasks", TASK_COLS, tasks), ("calls", CALL_COLS, calls)]:
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows:
            w.writerow(["\\N" if r[c] is None else ("t" if r[c] is True else "f" if r[c] is False else r[c]) for c in cols])
        subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c",
                        f"\\copy {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"],
                       input=buf.getvalue(), text=True, check=True)
    subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c",
                    "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), (SELECT MAX(id) FROM work_orders));"
                    "SELECT setval(pg_get_serial_sequence('callback_tasks', 'id'), (SELECT MAX(id) FROM callback_tasks));"
                    "ANALYZE"], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--sqlite")
    g.add_argument("--postgres")
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--calls-per-day", type=int, default=3300)
    ap.add_argument("--utc-offset-hours", type=int, default=8)
    a = ap.parse_args()
    calls, orders, tasks = generate(a.month, a.calls_per_day, a.utc_offset_hours)
    inbound = sum(1 for c in calls if c["direction"] == "inbound")
    if a.sqlite:
        fill_sqlite(a.sqlite, calls, orders, tasks)
    else:
        fill_postgres(a.postgres, calls, orders, tasks)
    print(f"{inbound} inbound calls, {len(calls) - inbound} outbound callbacks, "
          f"{len(orders)} orders, {len(tasks)} callback tasks", file=sys.stderr)


if __name__ == "__main__":
    main()
