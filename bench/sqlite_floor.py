#!/usr/bin/env python3
"""What SQLite itself costs per work-order create, without HTTP, tokio or sqlx.

Runs the statements of Store::create_order (counter upsert, order INSERT … RETURNING, event
INSERT) on a fresh database with the hotline SQLite schema (migrations/sqlite/*.sql), WAL mode,
synchronous=NORMAL, foreign_keys=ON (as src/cases/store/mod.rs opens it), from one Python
thread: first one transaction per order (as the server does), then BATCH orders per
transaction (group commit). Python's own per-statement overhead is included, so the figures are
a conservative floor for what one writer thread can do.

    python3 bench/sqlite_floor.py [N] [BATCH]     (default 20000 orders, batch 32)
"""
import glob
import json
import os
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
BATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 32

UPSERT = ("INSERT INTO order_counters (day, last_serial) VALUES (?, 1) "
          "ON CONFLICT (day) DO UPDATE SET last_serial = order_counters.last_serial + 1 "
          "RETURNING last_serial")
ORDER = ("INSERT INTO work_orders (number, channel, request_type, status, priority, title, "
         "description, caller_number, caller_name, reporter, category_id, address, longitude, "
         "latitude, grid_cell, deadline, external_ref, call_id, created_by, created_at, updated_at) "
         "VALUES (?, 'phone-12345', 'complaint', 'received', 'normal', NULL, ?, '13800000000', "
         "NULL, NULL, 'C0101', ?, NULL, NULL, '510402001001001', ?, NULL, NULL, 'agent-1001', ?, ?) "
         "RETURNING *")
EVENT = ("INSERT INTO case_events (order_id, at, actor, actor_role, action, from_status, "
         "to_status, note, data) VALUES (?, ?, 'agent-1001', 'agent', 'create', NULL, "
         "'received', NULL, ?)")


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def create(db, day, now):
    serial = db.execute(UPSERT, (day,)).fetchone()[0]
    row = db.execute(ORDER, (f"{day}{serial:05}", "路灯不亮 street light out", "炳草岗大街 1 号",
                             "2026-12-18T09:30:00Z", now, now)).fetchone()
    db.execute(EVENT, (row[0], now, json.dumps({"channel": "phone-12345",
                                                 "deadline": "2026-12-18T09:30:00Z"})))


def run(db, day, batch):
    t0 = time.perf_counter()
    done = 0
    while done < N:
        db.execute("BEGIN")
        for _ in range(min(batch, N - done)):
            create(db, day, "2026-11-27T06:00:00Z")
            done += 1
        db.execute("COMMIT")
    return time.perf_counter() - t0


def main():
    with tempfile.TemporaryDirectory(prefix="hotline-sqlite-floor.") as d:
        db = open_db(os.path.join(d, "hotline.db"))
        for f in sorted(glob.glob(os.path.join(ROOT, "migrations", "sqlite", "*.sql"))):
            db.executescript(open(f, encoding="utf-8").read())
        db.execute("INSERT OR IGNORE INTO grid_cells (code, name) VALUES ('510402001001001', 'x')")
        print(f"sqlite {sqlite3.sqlite_version}, {N} orders per run")
        for label, day, batch in (("1 order per transaction", "20261127", 1),
                                  (f"{BATCH} orders per transaction", "20261128", BATCH)):
            cpu0 = time.process_time()
            wall = run(db, day, batch)
            cpu = time.process_time() - cpu0
            print(f"  {label:>26}: {N / wall:8.0f} orders/s, {wall / N * 1e6:6.1f} us wall and "
                  f"{cpu / N * 1e6:6.1f} us CPU per order")
        db.close()


if __name__ == "__main__":
    main()
