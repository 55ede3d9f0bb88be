-- hotline case store, SQLite. Times are UTC, stored as ISO-8601 text.
CREATE TABLE departments (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    phone  TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE agents (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    queues TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE categories (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('event', 'component', 'service')),
    major_code     TEXT NOT NULL,
    minor_code     TEXT,
    name_zh        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    parent_id      TEXT REFERENCES categories(id),
    deadline_hours INTEGER
);

CREATE TABLE grid_cells (
    code      TEXT PRIMARY KEY CHECK (length(code) = 15),
    name      TEXT NOT NULL,
    district  TEXT,
    street    TEXT,
    community TEXT
);

-- Daily serials of work-order numbers (local date → last serial used).
CREATE TABLE order_counters (
    day         TEXT PRIMARY KEY,
    last_serial INTEGER NOT NULL
);

CREATE TABLE work_orders (
    id                 INTEGER PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    channel            TEXT NOT NULL,
    request_type       TEXT NOT NULL,
    status             TEXT NOT NULL,
    priority           TEXT NOT NULL,
    title              TEXT,
    description        TEXT NOT NULL,
    caller_number      TEXT,
    caller_name        TEXT,
    reporter           TEXT,
    category_id        TEXT REFERENCES categories(id),
    address            TEXT,
    longitude          REAL,
    latitude           REAL,
    grid_cell          TEXT REFERENCES grid_cells(code),
    department_id      TEXT REFERENCES departments(id),
    deadline           TEXT,
    merged_into        INTEGER REFERENCES work_orders(id),
    resolved_at_intake BOOLEAN NOT NULL DEFAULT FALSE,
    follow_up_result   TEXT,
    external_ref       TEXT,
    call_id            TEXT,
    -- title, description, address and caller folded for search (lower case, half-width),
    -- written by the application so that both databases search alike.
    search_text        TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    closed_at          TEXT,
    version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX work_orders_status ON work_orders(status, deadline);
CREATE INDEX work_orders_caller ON work_orders(caller_number);
CREATE INDEX work_orders_created ON work_orders(created_at);
CREATE INDEX work_orders_department ON work_orders(department_id, status);

-- Append-only: every change of an order, in the same transaction as the change.
CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES work_orders(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    note        TEXT,
    data        TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX case_events_order ON case_events(order_id, id);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

-- Call records (CDR): written when the INVITE arrives, updated as the call goes.
CREATE TABLE calls (
    id                 TEXT PRIMARY KEY,
    trunk              TEXT,
    from_number        TEXT NOT NULL,
    to_number          TEXT NOT NULL,
    queue              TEXT,
    agent_id           TEXT,
    offered_at         TEXT NOT NULL,
    answered_at        TEXT,
    ended_at           TEXT,
    disposition        TEXT CHECK (disposition IN ('answered', 'abandoned', 'voicemail',
                                   'callback-requested', 'rejected', 'failed')),
    disposition_detail TEXT,
    recording_path     TEXT,
    work_order_id      INTEGER REFERENCES work_orders(id)
);
CREATE INDEX calls_offered ON calls(offered_at);
CREATE INDEX calls_from ON calls(from_number);
