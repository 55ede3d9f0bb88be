-- The other channels and the 数字城管 workflow (issue 7): field inspectors' reports with photos,
-- 110/119/120 transfers, verification tasks (核实/核查), handler acceptance, parked cases (挂账)
-- with the deadline clock paused, overdue escalation, duplicate-merge proposals, a durable
-- notification outbox, and idempotent intake. Times are UTC, stored as ISO-8601 text.

-- 16-digit component code (GB/T 30428) a component report may name.
ALTER TABLE work_orders ADD COLUMN component_code TEXT;
-- For a 110/119/120/122 transfer: the transferring centre (its name or code).
ALTER TABLE work_orders ADD COLUMN transfer_centre TEXT;
-- Who reported: the inspector's id (role inspector) or the channel user's name.
ALTER TABLE work_orders ADD COLUMN reporter_id TEXT;
-- The district of the grid cell at intake (for the leader overview).
ALTER TABLE work_orders ADD COLUMN district TEXT;
-- The inspector a verification task (核实 before registration, 核查 after handling) is assigned to.
ALTER TABLE work_orders ADD COLUMN assignee TEXT;
-- While the deadline clock is paused (verifying, returned, parked): since when. On resuming,
-- the deadline moves on by the working time paused.
ALTER TABLE work_orders ADD COLUMN paused_at TEXT;
-- For a parked order (挂账): the status it returns to when unparked.
ALTER TABLE work_orders ADD COLUMN parked_from TEXT;
-- Milestones of the workflow (the latest of each), for the overview and the evaluation.
ALTER TABLE work_orders ADD COLUMN registered_at TEXT;
ALTER TABLE work_orders ADD COLUMN dispatched_at TEXT;
ALTER TABLE work_orders ADD COLUMN handled_at TEXT;
-- 0 none; 1 overdue (department warned); 2 overdue long (leaders warned).
ALTER TABLE work_orders ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
-- When the near-deadline notice went out (sent once per deadline).
ALTER TABLE work_orders ADD COLUMN near_deadline_notified_at TEXT;
CREATE INDEX work_orders_category_created ON work_orders(category_id, created_at);
CREATE INDEX work_orders_reporter ON work_orders(reporter_id, created_at);
CREATE INDEX work_orders_grid ON work_orders(grid_cell, status);
CREATE INDEX work_orders_district ON work_orders(district, status);

-- Registration criteria (立案标准) of a category, shown to the shift lead who registers.
ALTER TABLE categories ADD COLUMN register_criteria TEXT;

-- The inspector a 漏报/错报 mark counts against (NULL: the call-centre vendor).
ALTER TABLE order_marks ADD COLUMN inspector TEXT;

-- Photos (and other files) of an order: at intake, with a handler's feedback, with a
-- verification. The file lives under the data directory (`path` relative to it).
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    case_event_id INTEGER REFERENCES case_events(id),
    kind          TEXT NOT NULL CHECK (kind IN ('report', 'feedback', 'verification', 'other')),
    path          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX attachments_order ON attachments(work_order_id, id);

-- Idempotency keys of intake: a retried request with the same key answers the first result.
CREATE TABLE intake_keys (
    user_name      TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    work_order_id  INTEGER NOT NULL REFERENCES work_orders(id),
    created_at     TEXT NOT NULL,
    PRIMARY KEY (user_name, key)
);

-- Proposed merges of duplicate reports (same category, near in space and time), decided by a person.
CREATE TABLE merge_proposals (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES work_orders(id),
    candidate_id INTEGER NOT NULL REFERENCES work_orders(id),
    distance_m   REAL NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'merged', 'dismissed')),
    created_at   TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    note         TEXT,
    UNIQUE (order_id, candidate_id)
);
CREATE INDEX merge_proposals_status ON merge_proposals(status, id);

-- Outbox of notifications (new dispatch, near deadline, overdue, verification task, merge and
-- close results for reporters), written in the transaction that causes them and delivered by
-- the notifier task (log, webhook, …) with retries.
CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY,
    created_at    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    -- 'department:<id>', 'inspector:<id>', 'reporter:<name or number>', 'leaders'
    recipient     TEXT NOT NULL,
    work_order_id INTEGER REFERENCES work_orders(id),
    payload       TEXT NOT NULL DEFAULT 'null',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at  TEXT,
    failed_at     TEXT,
    last_error    TEXT
);
CREATE INDEX notifications_pending ON notifications(delivered_at, failed_at, next_attempt_at);
CREATE INDEX notifications_order ON notifications(work_order_id, id);

-- Registration criteria of the commonest event categories, in the centre's own words (a city
-- edits them to its local standard).
UPDATE categories SET register_criteria = 'Rubbish lies in the open on a public place, larger than a handful; not already in a bin or at a collection point.' WHERE id = 'E0101';
UPDATE categories SET register_criteria = 'A bin or transfer point is full to overflowing and rubbish spills onto the ground around it.' WHERE id = 'E0106';
UPDATE categories SET register_criteria = 'Flyers or posters stuck without permission on a public surface (walls, poles, bus shelters), visible from the street.' WHERE id = 'E0201';
UPDATE categories SET register_criteria = 'A manhole on a road, pavement or square has no cover or a cover that does not close the opening.' WHERE id = 'E0402';
UPDATE categories SET register_criteria = 'Goods are sold from a stall or vehicle on the carriageway or pavement outside an approved market area.' WHERE id = 'E0501';
