-- Variant: one counter row per pgbench client (no shared hot row). The statements of Store::create_order (src/cases/store/orders.rs) for one work order, as the
-- server sends them: counter upsert, order INSERT … RETURNING, audit event INSERT, in one
-- transaction. Run with: pgbench -n -M prepared -f create_order.sql …
BEGIN;
INSERT INTO order_counters (day, last_serial) VALUES ('20261127-' || :client_id, 1)
  ON CONFLICT (day) DO UPDATE SET last_serial = order_counters.last_serial + 1
  RETURNING last_serial \gset
INSERT INTO work_orders (number, channel, request_type, status, priority, title, description,
  caller_number, caller_name, reporter, category_id, address, longitude, latitude, grid_cell,
  deadline, external_ref, call_id, created_by, created_at, updated_at)
  VALUES ('20261127' || :client_id || 'x' || lpad(:last_serial::text, greatest(5, length(:last_serial::text)), '0'), 'phone-12345', 'complaint', 'received',
  'normal', NULL, '路灯不亮 street light out', '13800000000', NULL, NULL, 'C0101', '炳草岗大街 1 号',
  NULL, NULL, '510402001001001', now() + interval '15 days', NULL, NULL, 'agent-1001', now(), now())
  RETURNING id, number, channel, request_type, status, priority, title, description, caller_number,
  caller_name, reporter, category_id, address, longitude, latitude, grid_cell, department_id,
  deadline, merged_into, resolved_at_intake, follow_up_result, external_ref, call_id, created_by,
  created_at, updated_at, closed_at, version \gset
INSERT INTO case_events (order_id, at, actor, actor_role, action, from_status, to_status, note, data)
  VALUES (:id, now(), 'agent-1001', 'agent', 'create', NULL, 'received', NULL,
  '{"channel":"phone-12345","deadline":"2026-12-18T09:30:00Z"}');
COMMIT;
