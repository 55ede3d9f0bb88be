-- Variant (a possible code change): the same three writes as create_order.sql in ONE statement
-- (data-modifying CTEs), sent in autocommit: one round trip per order, and the counter row is
-- locked only from the upsert to the commit of this statement, with no client round trip
-- while it is held.
WITH c AS (
  INSERT INTO order_counters (day, last_serial) VALUES ('20261127', 1)
  ON CONFLICT (day) DO UPDATE SET last_serial = order_counters.last_serial + 1
  RETURNING last_serial
), o AS (
  INSERT INTO work_orders (number, channel, request_type, status, priority, title, description,
    caller_number, caller_name, reporter, category_id, address, longitude, latitude, grid_cell,
    deadline, external_ref, call_id, created_by, created_at, updated_at)
  SELECT '20261127' || lpad(c.last_serial::text, greatest(5, length(c.last_serial::text)), '0'), 'phone-12345', 'complaint', 'received',
    'normal', NULL, '路灯不亮 street light out', '13800000000', NULL, NULL, 'C0101', '炳草岗大街 1 号',
    NULL, NULL, '510402001001001', now() + interval '15 days', NULL, NULL, 'agent-1001', now(), now()
  FROM c
  RETURNING id, number, channel, request_type, status, priority, title, description, caller_number,
    caller_name, reporter, category_id, address, longitude, latitude, grid_cell, department_id,
    deadline, merged_into, resolved_at_intake, follow_up_result, external_ref, call_id, created_by,
    created_at, updated_at, closed_at, version
), e AS (
  INSERT INTO case_events (order_id, at, actor, actor_role, action, from_status, to_status, note, data)
  SELECT o.id, now(), 'agent-1001', 'agent', 'create', NULL, 'received', NULL,
    '{"channel":"phone-12345","deadline":"2026-12-18T09:30:00Z"}'::jsonb
  FROM o
)
SELECT * FROM o;
