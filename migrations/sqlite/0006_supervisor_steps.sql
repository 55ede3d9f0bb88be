-- Supervisors on calls (issue 6): three more kinds of call step — `monitor` (a supervisor
-- listens, whispers or barges in, or switches mode), `monitor-stop`, and `force-hangup` (强拆).
-- SQLite cannot change a CHECK constraint in place: the append-only table is rebuilt with its
-- rows, index and triggers (dropping a table does not fire its delete trigger).
CREATE TABLE call_steps_new (
    id       INTEGER PRIMARY KEY,
    call_id  TEXT NOT NULL,
    at       TEXT NOT NULL,
    step     TEXT NOT NULL CHECK (step IN ('offered', 'greeting', 'self-service', 'queued',
                 'ringing', 'no-answer', 'answered', 'transferred', 'hold', 'resume', 'voicemail',
                 'callback-requested', 'survey', 'ended', 'order-linked', 'overflow',
                 'agent-hung-up', 'monitor', 'monitor-stop', 'force-hangup')),
    agent_id TEXT,
    detail   TEXT
);
INSERT INTO call_steps_new (id, call_id, at, step, agent_id, detail)
    SELECT id, call_id, at, step, agent_id, detail FROM call_steps;
DROP TABLE call_steps;
ALTER TABLE call_steps_new RENAME TO call_steps;
CREATE INDEX call_steps_call ON call_steps(call_id, id);
CREATE TRIGGER call_steps_no_update BEFORE UPDATE ON call_steps
BEGIN SELECT RAISE(ABORT, 'call_steps is append-only'); END;
CREATE TRIGGER call_steps_no_delete BEFORE DELETE ON call_steps
BEGIN SELECT RAISE(ABORT, 'call_steps is append-only'); END;
