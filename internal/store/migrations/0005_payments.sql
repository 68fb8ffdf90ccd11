-- Issue 15, findings 3 to 5: every payment that arrives is recorded, and
-- each completed one is either taken (it settles a VAT invoice that stands)
-- or refunded (a refunds row), never both, never neither.

-- A completed notification that follows a failed one with the same id is the
-- payment: the row is upgraded to completed and failed_at keeps when the
-- failed notification came (an order_events line 'payment_upgraded:<id>'
-- says the same in words).
ALTER TABLE payments ADD COLUMN failed_at timestamptz;

-- A completed payment the order (or charge) waited for whose amount or
-- currency is not the pro-forma's: refused for the order (the intake answers
-- 422 and the order keeps waiting) and owed back (its refunds row). Kept so
-- that a repeat of the notification gets the same answer.
ALTER TABLE payments ADD COLUMN mismatch boolean NOT NULL DEFAULT false;

-- The payment a VAT invoice settles, written by Settle and SettleCharge: a
-- payment is taken while the invoice that names it is paid (a credit note
-- makes the invoice void, and then the payment is refunded instead).
ALTER TABLE invoices ADD COLUMN payment_id text REFERENCES payments (payment_id);
CREATE UNIQUE INDEX invoices_payment ON invoices (payment_id) WHERE payment_id IS NOT NULL;

-- VAT invoices issued before this migration: the payment that settled them
-- is named in the order's log ('payment <id> received' at provisioning,
-- 'payment <id> of ...' at charge_paid:<charge>).
UPDATE invoices i SET payment_id = e.pid
FROM (SELECT order_id, key, substring(reason from '^payment (\S+) ') AS pid FROM order_events
      WHERE key = 'provisioning_tenant' OR key LIKE 'charge\_paid:%') e
WHERE i.kind = 'invoice' AND i.payment_id IS NULL AND e.order_id = i.order_id
  AND ((i.charge_id IS NULL AND e.key = 'provisioning_tenant') OR e.key = 'charge_paid:' || i.charge_id)
  AND EXISTS (SELECT 1 FROM payments p WHERE p.payment_id = e.pid AND p.order_id = i.order_id)
  AND NOT EXISTS (SELECT 1 FROM invoices o WHERE o.payment_id = e.pid);

-- A notification whose payment id is already another order's (or another
-- charge's) payment. The gateway is answered 409 payment_conflict, for good;
-- the money, if any, is not the order's to take or refund on its own, so it
-- waits here for an operator. The order that got the notification also gets
-- an order_events line 'payment_conflict:<id>' naming the owner. One row per
-- distinct notification: a repeat adds nothing.
CREATE TABLE payment_conflicts (
    payment_id      text NOT NULL,
    order_id        text NOT NULL REFERENCES orders (order_id),
    charge_id       text NOT NULL DEFAULT '',
    status          text NOT NULL,
    amount_grosze   bigint NOT NULL,
    currency        text NOT NULL,
    owner_order_id  text NOT NULL,
    owner_charge_id text NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    PRIMARY KEY (payment_id, order_id, charge_id, status, amount_grosze, currency)
);
CREATE INDEX payment_conflicts_open ON payment_conflicts (received_at) WHERE resolved_at IS NULL;
