-- The leader overview (管理通) and the monthly evaluation (综合评价) read events by action and
-- time (dispatch/handle/return_order/… of a month or of the last 30 days) and orders closed in
-- a window; the open orders are found through work_orders_status (status, deadline).
CREATE INDEX case_events_action_at ON case_events(action, at);
CREATE INDEX work_orders_closed ON work_orders(closed_at);
-- The evaluation's 漏报/错报 per inspector.
CREATE INDEX order_marks_inspector ON order_marks(inspector, marked_at);
