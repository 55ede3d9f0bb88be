-- The inspector inbox and list look orders up by assignee (`assignee = $1`, then status); the
-- chained-merge repoint and the close notice look up the orders merged into one.
CREATE INDEX work_orders_assignee ON work_orders(assignee, status);
CREATE INDEX work_orders_merged_into ON work_orders(merged_into);
