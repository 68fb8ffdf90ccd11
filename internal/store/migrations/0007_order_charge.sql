-- Issue 16: one billing core. The first purchase is a charge like every
-- later one (licences, renewals): a charges row of kind 'order', id
-- '<order_id>:order', made by OpenBilling with the pro-forma, and the
-- order's own documents name it in charge_id. Settle, void and document
-- reads then exist once, by charge. Payments of the order keep charge_id
-- NULL: a notification names the order only, and may come before billing.

ALTER TABLE charges DROP CONSTRAINT charges_kind_check;
ALTER TABLE charges ADD CONSTRAINT charges_kind_check CHECK (kind IN ('order', 'licences', 'reduction', 'renewal'));

-- Orders billed before this migration get their order charge: the seats
-- and net of their pro-forma (or, lacking one, their first document), the
-- period from its date, and a status from their documents.
INSERT INTO charges (id, order_id, kind, workflow_id, seats, period, period_start, period_end, net_grosze, status, payment_deadline, created_at)
SELECT o.order_id || ':order', o.order_id, 'order', 'order-' || o.order_id, o.seats, 1, d.issued_at,
    (d.issued_at + make_interval(months => CASE o.billing_cycle WHEN 'annual' THEN 12 ELSE 1 END))::date,
    d.net_grosze,
    CASE
        WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.order_id AND i.charge_id IS NULL AND i.kind = 'correction')
          OR EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.order_id AND i.charge_id IS NULL AND i.kind <> 'correction' AND i.status = 'void')
            THEN 'cancelled'
        WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.order_id AND i.charge_id IS NULL AND i.kind = 'invoice')
            THEN 'paid'
        ELSE 'awaiting_payment'
    END,
    o.payment_deadline, o.placed_at
FROM orders o
CROSS JOIN LATERAL (SELECT i.issued_at, i.net_grosze FROM invoices i
    WHERE i.order_id = o.order_id AND i.charge_id IS NULL
    ORDER BY (i.kind = 'proforma') DESC, i.id LIMIT 1) d
ON CONFLICT (id) DO NOTHING;

UPDATE invoices SET charge_id = order_id || ':order' WHERE charge_id IS NULL;

-- Every document now belongs to a charge, and each charge has at most one
-- document of each kind: the order's own included.
DROP INDEX invoices_order_kind;
ALTER TABLE invoices ALTER COLUMN charge_id SET NOT NULL;
