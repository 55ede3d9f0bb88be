#!/usr/bin/env python3
"""Fills a migrated hotline case store with a year of synthetic digital-urban-management work
orders and their workflow events for the overview benchmark (bench/overview.sh): ~420 orders a
day (≥ 150,000 a year) ending now, mostly field-inspector reports (230 inspectors), the rest
from phone, web, app and WeChat; event and component categories; 60 grid cells in four
districts; routing to the five demo departments; deadlines of 3 (events) or 5 (components)
days. Each order runs the workflow (register → dispatch → accept → handle → verify → close)
with rejections, merges, returns and re-dispatches, reworks, parked orders and a long tail of
stuck ones, cut at "now": recent orders are still open at every step. Events carry the data the
workflow writes (dispatch {department, previous_department, redispatch, deadline}, handle and
close {department, deadline, on_time}, …). Deterministic (seeded) apart from "now".

    bench/overviewgen.py --sqlite DATA_DIR/hotline.db [--days 365] [--per-day 420]
    bench/overviewgen.py --postgres postgres://…/db  [...]

Times are written as the server writes them: UTC, ISO-8601 (`…+00:00` text on SQLite).
"""
import argparse
import csv
import io
import json
import random
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

ORDER_COLS = ["id", "number", "channel", "request_type", "status", "priority", "description",
              "category_id", "grid_cell", "district", "department_id", "deadline", "reporter_id",
              "registered_at", "dispatched_at", "handled_at", "paused_at", "parked_from",
              "search_text", "created_by", "created_at", "updated_at", "closed_at", "version"]
EVENT_COLS = ["order_id", "at", "actor", "actor_role", "action", "from_status", "to_status",
              "data"]
DISTRICTS = ["东区", "西区", "仁和区", "米易县"]
# Category → department (the demo routing table's shape) and its share of reports.
CATEGORIES = [("E0101", "sanitation", 18), ("E0106", "sanitation", 10), ("E0201", "market", 8),
              ("E0402", "roads", 6), ("E0501", "market", 12), ("E0103", "sanitation", 6),
              ("E0301", "housing", 5), ("C0101", "roads", 8), ("C0102", "roads", 6),
              ("C0301", "sanitation", 5), ("C0401", "landscaping", 8), ("C0201", "roads", 8)]
DEPARTMENTS = ["sanitation", "roads", "landscaping", "market", "housing"]
HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 10, 8, 5, 6, 9, 9, 8, 6, 4, 3, 2, 2, 1, 1]


def ts(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cells():
    out = []
    for d, district in enumerate(DISTRICTS):
        for i in range(15):
            code = f"5104{d + 11:02d}{i // 5 + 1:03d}{i % 5 + 1:03d}{i + 1:03d}"
            out.append((code, f"网格 {district}-{i + 1}", district))
    return out


def generate(days, per_day, now, categories, seed=7):
    rnd = random.Random(seed)
    grid = cells()
    cats = [c for c in CATEGORIES if c[0] in categories] or [(c, DEPARTMENTS[0], 1) for c in categories[:5]]
    cat_w = [c[2] for c in cats]
    hours = [h / sum(HOURLY) for h in HOURLY]
    orders, events = [], []
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    oid = 0
    for day in range(days + 1):
        base = start + timedelta(days=day)
        n = int(per_day * rnd.uniform(0.85, 1.15))
        for _ in range(n):
            created = base + timedelta(hours=rnd.choices(range(24), hours)[0],
                                       seconds=rnd.randrange(3600))
            if created >= now:
                continue
            oid += 1
            cat, dept, _ = rnd.choices(cats, cat_w)[0]
            code, _, district = rnd.choice(grid)
            r = rnd.random()
            channel = ("field-inspector" if r < 0.7 else "phone-12345" if r < 0.88 else
                       rnd.choice(["web", "app", "wechat"]))
            reporter = f"inspector-{rnd.randrange(1, 231):03d}" if channel == "field-inspector" else None
            o = {"id": oid, "number": f"B{created:%Y%m%d}{oid:07d}", "channel": channel,
                 "request_type": "urban-management", "status": "received", "priority": "normal",
                 "description": "synthetic", "category_id": cat, "grid_cell": code,
                 "district": district, "department_id": None, "deadline": None,
                 "reporter_id": reporter, "registered_at": None, "dispatched_at": None,
                 "handled_at": None, "paused_at": None, "parked_from": None, "search_text": "",
                 "created_by": reporter or "agent", "created_at": ts(created),
                 "updated_at": ts(created), "closed_at": None, "version": 1}
            orders.append(o)
            evs = []

            def ev(at, action, frm, to, data):
                if at < now:
                    evs.append((at, action, frm, to, data))
                    return True
                return False

            def done():
                last = None
                for at, action, frm, to, data in evs:
                    events.append({"order_id": oid, "at": ts(at), "actor": "bench",
                                   "actor_role": "supervisor", "action": action,
                                   "from_status": frm, "to_status": to, "data": json.dumps(data)})
                    last = at
                if last:
                    o["updated_at"] = ts(last)
                    o["version"] = 1 + len(evs)

            t = created + timedelta(minutes=rnd.uniform(20, 240))
            r = rnd.random()
            if r < 0.07:  # not a case for the city
                if ev(t, "reject", "received", "rejected", {"reason": "not a case"}):
                    o.update(status="rejected", closed_at=ts(t))
                done()
                continue
            if r < 0.10:  # a duplicate merged into an earlier report
                if ev(t, "merge", "received", "merged", {"into": max(1, oid - 3)}):
                    o["status"] = "merged"
                done()
                continue
            deadline = t + timedelta(days=3 if cat.startswith("E") else 5)
            if not ev(t, "register", "received", "registered", {"category_id": cat, "criteria_met": True}):
                done()
                continue
            o.update(status="registered", registered_at=ts(t), deadline=ts(deadline))
            t += timedelta(minutes=rnd.uniform(10, 120))
            prev = None
            cur = dept
            if not ev(t, "dispatch", "registered", "dispatched",
                      {"department": cur, "previous_department": prev, "redispatch": False,
                       "deadline": ts(deadline)}):
                done()
                continue
            o.update(status="dispatched", department_id=cur, dispatched_at=ts(t))
            if rnd.random() < 0.01:  # parked (挂账): waits for money or another authority
                t += timedelta(hours=rnd.uniform(2, 48))
                if ev(t, "park", "dispatched", "parked", {"reason": "budget"}):
                    o.update(status="parked", paused_at=ts(t), parked_from="dispatched")
                done()
                continue
            if rnd.random() < 0.06:  # returned (退单) and re-dispatched (改派)
                t += timedelta(hours=rnd.uniform(1, 20))
                if not ev(t, "return_order", "dispatched", "returned", {"department": cur}):
                    done()
                    continue
                o.update(status="returned", paused_at=ts(t))
                paused = timedelta(hours=rnd.uniform(0.5, 6))
                t += paused
                deadline += paused
                prev, cur = cur, rnd.choice([d for d in DEPARTMENTS if d != cur])
                if not ev(t, "dispatch", "returned", "dispatched",
                          {"department": cur, "previous_department": prev, "redispatch": True,
                           "deadline": ts(deadline)}):
                    done()
                    continue
                o.update(status="dispatched", department_id=cur, dispatched_at=ts(t),
                         paused_at=None, deadline=ts(deadline))
            t += timedelta(minutes=rnd.uniform(5, 180))
            if not ev(t, "accept", "dispatched", "accepted", {"department": cur}):
                done()
                continue
            o["status"] = "accepted"
            stuck = rnd.random() < 0.02
            for attempt in range(2):
                work = (timedelta(days=rnd.uniform(20, 200)) if stuck
                        else timedelta(hours=rnd.lognormvariate(3.2, 0.8)))
                t += work
                on_time = t <= deadline
                if not ev(t, "handle", "accepted" if attempt == 0 else "dispatched", "handled",
                          {"department": cur, "deadline": ts(deadline), "on_time": on_time}):
                    break
                o.update(status="handled", handled_at=ts(t))
                t += timedelta(hours=rnd.uniform(0.5, 8))
                if attempt == 0 and rnd.random() < 0.05:  # the inspector finds it not done
                    if ev(t, "rework", "handled", "dispatched", {"department": cur}):
                        o["status"] = "dispatched"
                        continue
                    break
                if ev(t, "verify", "handled", "verified", {}):
                    o["status"] = "verified"
                    t += timedelta(minutes=rnd.uniform(10, 120))
                    if ev(t, "close", "verified", "closed",
                          {"department": cur, "deadline": ts(deadline), "on_time": t <= deadline}):
                        o.update(status="closed", closed_at=ts(t))
                break
            done()
    return grid, orders, events


def fill_sqlite(path, grid, orders, events):
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT OR IGNORE INTO grid_cells (code, name, district) VALUES (?, ?, ?)", grid)
        for table, cols, rows in [("work_orders", ORDER_COLS, orders), ("case_events", EVENT_COLS, events)]:
            db.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                ([r[c] for c in cols] for r in rows))
    db.execute("ANALYZE")
    db.close()


def psql(url, *args, **kw):
    return subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", *args], check=True, **kw)


def fill_postgres(url, grid, orders, events):
    values = ", ".join(f"('{c}', '{n}', '{d}')" for c, n, d in grid)
    psql(url, "-c", f"INSERT INTO grid_cells (code, name, district) VALUES {values} ON CONFLICT DO NOTHING")
    for table, cols, rows in [("work_orders", ORDER_COLS, orders), ("case_events", EVENT_COLS, events)]:
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows:
            w.writerow(["\\N" if r[c] is None else r[c] for c in cols])
        psql(url, "-c", f"\\copy {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
             input=buf.getvalue(), text=True)
    psql(url, "-c", "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), (SELECT MAX(id) FROM work_orders));"
         "ANALYZE", stdout=subprocess.DEVNULL)


def categories_of(a):
    if a.sqlite:
        db = sqlite3.connect(a.sqlite)
        ids = [r[0] for r in db.execute("SELECT id FROM categories")]
        db.close()
        return ids
    out = psql(a.postgres, "-c", "SELECT id FROM categories", capture_output=True, text=True).stdout
    return out.split()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--sqlite")
    g.add_argument("--postgres")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=420)
    a = ap.parse_args()
    now = datetime.now(timezone.utc)
    grid, orders, events = generate(a.days, a.per_day, now, categories_of(a))
    if a.sqlite:
        fill_sqlite(a.sqlite, grid, orders, events)
    else:
        fill_postgres(a.postgres, grid, orders, events)
    status = {}
    for o in orders:
        status[o["status"]] = status.get(o["status"], 0) + 1
    print(f"{len(orders)} orders, {len(events)} events, statuses {json.dumps(status, sort_keys=True)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
