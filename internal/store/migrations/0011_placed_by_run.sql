-- The run of the order's workflow that recorded the order. A run whose first
-- workflow task died after its local activities had recorded the order and
-- moved it on (billing opened) finds, when the task is retried, its own
-- order, not an earlier run's, and carries it on (the fault suite's killed
-- worker found one such order ended with no billing email). '' for orders
-- recorded before, or by the intake.
ALTER TABLE orders ADD COLUMN placed_by_run text NOT NULL DEFAULT '';
