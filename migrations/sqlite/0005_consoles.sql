-- Consoles and reports (issue 6): the wrap-up after each answered call (for AHT), an audit
-- trail of what supervisors and agents did outside the order lifecycle (listen, whisper,
-- barge, force hang-up, forced states, logins), and the assessment marks supervisors put on
-- orders (漏报 missed, 错报 wrong). Times are UTC, stored as ISO-8601 text.

-- Wrap-up (话后整理) the agent spent after this call, written when the wrap-up ends.
ALTER TABLE calls ADD COLUMN wrap_up_ms INTEGER;
CREATE INDEX calls_queue_offered ON calls(queue, offered_at);

-- Append-only: who did what to a call, an agent or the system, and when.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    action  TEXT NOT NULL,
    -- 'call:<id>', 'agent:<id>', 'order:<number>'
    target  TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_target ON audit_log(target, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Assessment marks on orders: 'missed' (漏报: a case the intake missed, found later) and
-- 'wrong' (错报: an order registered with wrong facts). Withdrawing a mark is a new row.
CREATE TABLE order_marks (
    id            INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    kind          TEXT NOT NULL CHECK (kind IN ('missed', 'wrong')),
    withdrawn     BOOLEAN NOT NULL DEFAULT FALSE,
    note          TEXT,
    marked_by     TEXT NOT NULL,
    marked_at     TEXT NOT NULL
);
CREATE INDEX order_marks_order ON order_marks(work_order_id, id);
CREATE INDEX order_marks_at ON order_marks(marked_at);
