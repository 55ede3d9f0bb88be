-- The call path (issue 5): call records carry the flow's facts, each call's steps are kept in
-- an append-only trail, and missed or requested callbacks are tasks with their attempts.
-- Times are UTC, stored as ISO-8601 text.

-- Callbacks (漏接回拨 and requested callbacks): one task per number to call back.
CREATE TABLE callback_tasks (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('missed-call', 'requested', 'overflow')),
    number          TEXT NOT NULL,
    queue           TEXT,
    -- The call it comes from (not a foreign key: the call layer writes call records
    -- asynchronously, and a task must never be lost for want of its record).
    call_id         TEXT,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'taken', 'done', 'cancelled', 'failed')),
    agent_id        TEXT,
    taken_at        TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL CHECK (max_attempts >= 1),
    next_attempt_at TEXT,
    result          TEXT,
    work_order_id   INTEGER REFERENCES work_orders(id),
    updated_at      TEXT NOT NULL
);
CREATE INDEX callback_tasks_status ON callback_tasks(status, next_attempt_at);
CREATE INDEX callback_tasks_number ON callback_tasks(number, status);

CREATE TABLE callback_attempts (
    id      INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES callback_tasks(id),
    at      TEXT NOT NULL,
    agent_id TEXT,
    call_id TEXT,
    outcome TEXT NOT NULL
            CHECK (outcome IN ('answered', 'no-answer', 'busy', 'failed', 'agent-no-answer')),
    detail  TEXT
);
CREATE INDEX callback_attempts_task ON callback_attempts(task_id, id);

-- `id` is our own call id; `sip_call_id` the carrier's Call-ID.
ALTER TABLE calls ADD COLUMN sip_call_id TEXT;
ALTER TABLE calls ADD COLUMN direction TEXT NOT NULL DEFAULT 'inbound'
    CHECK (direction IN ('inbound', 'outbound'));
ALTER TABLE calls ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN language TEXT;
ALTER TABLE calls ADD COLUMN queued_at TEXT;
-- First offer to an agent.
ALTER TABLE calls ADD COLUMN ringing_at TEXT;
ALTER TABLE calls ADD COLUMN transferred_to TEXT;
-- 1 satisfied, 2 basically satisfied, 3 dissatisfied.
ALTER TABLE calls ADD COLUMN survey INTEGER CHECK (survey IN (1, 2, 3));
-- An answered call that ended without a work order (for supervisors); cleared by an order.
ALTER TABLE calls ADD COLUMN needs_order BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE calls ADD COLUMN callback_task_id INTEGER REFERENCES callback_tasks(id);
-- Where a voicemail message starts in the recording.
ALTER TABLE calls ADD COLUMN voicemail_offset_ms INTEGER;
CREATE INDEX calls_agent ON calls(agent_id, offered_at);
CREATE INDEX calls_sip_call_id ON calls(sip_call_id);

-- Append-only: what happened to a call, step by step (no foreign key, as for callback tasks).
CREATE TABLE call_steps (
    id       INTEGER PRIMARY KEY,
    call_id  TEXT NOT NULL,
    at       TEXT NOT NULL,
    step     TEXT NOT NULL CHECK (step IN ('offered', 'greeting', 'self-service', 'queued',
                 'ringing', 'no-answer', 'answered', 'transferred', 'hold', 'resume', 'voicemail',
                 'callback-requested', 'survey', 'ended', 'order-linked', 'overflow',
                 'agent-hung-up')),
    agent_id TEXT,
    detail   TEXT
);
CREATE INDEX call_steps_call ON call_steps(call_id, id);
CREATE TRIGGER call_steps_no_update BEFORE UPDATE ON call_steps
BEGIN SELECT RAISE(ABORT, 'call_steps is append-only'); END;
CREATE TRIGGER call_steps_no_delete BEFORE DELETE ON call_steps
BEGIN SELECT RAISE(ABORT, 'call_steps is append-only'); END;
