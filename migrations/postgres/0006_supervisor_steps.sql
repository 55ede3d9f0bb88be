-- Supervisors on calls (issue 6): three more kinds of call step — `monitor` (a supervisor
-- listens, whispers or barges in, or switches mode), `monitor-stop`, and `force-hangup` (强拆).
ALTER TABLE call_steps DROP CONSTRAINT call_steps_step_check;
ALTER TABLE call_steps ADD CONSTRAINT call_steps_step_check CHECK (step IN ('offered',
    'greeting', 'self-service', 'queued', 'ringing', 'no-answer', 'answered', 'transferred',
    'hold', 'resume', 'voicemail', 'callback-requested', 'survey', 'ended', 'order-linked',
    'overflow', 'agent-hung-up', 'monitor', 'monitor-stop', 'force-hangup'));
