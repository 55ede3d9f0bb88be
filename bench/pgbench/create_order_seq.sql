-- Variant: as create_order_cte.sql, but the serial comes from a SEQUENCE (nextval takes no row
-- lock and does not wait for other transactions): the ceiling without a hot counter row.
WITH c AS (SELECT nextval('hotline_bench_serial') AS last_serial), o AS (
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
