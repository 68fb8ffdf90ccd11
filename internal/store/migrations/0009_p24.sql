-- Issue 17: paying through Przelewy24. A transaction is registered for one
-- pro-forma (the order's own, or a later charge's) when the customer presses
-- the panel's pay button; its notification, once verified, records the
-- payment 'p24-<orderId>' through RecordPayment like any other.
CREATE TABLE p24_transactions (
    session_id    text PRIMARY KEY,
    order_id      text NOT NULL REFERENCES orders (order_id),
    charge_id     text NOT NULL DEFAULT '',
    amount_grosze bigint NOT NULL,
    currency      text NOT NULL,
    token         text NOT NULL,
    -- Przelewy24's id of the payment, known once it is paid and verified
    p24_order_id  bigint UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    verified_at   timestamptz
);
CREATE INDEX p24_transactions_order ON p24_transactions (order_id);

-- A refund's life: 'pending' (owed; sent by hand when the payment did not
-- come through Przelewy24), 'sent' (the refund API accepted it), 'refunded'
-- (its notification says the money went back), 'rejected' (refused by the
-- API or by its notification: an operator's to settle).
ALTER TABLE refunds ADD COLUMN sent_at timestamptz;
ALTER TABLE refunds ADD COLUMN closed_at timestamptz;
ALTER TABLE refunds ADD COLUMN detail text NOT NULL DEFAULT '';
CREATE INDEX refunds_pending ON refunds (created_at) WHERE status = 'pending';
