-- A domain prefix belongs to one live order at a time, from placement until
-- the order is cancelled or refunded, so that two customers never both pay
-- for the same onmicrosoft.com name.
CREATE TABLE domain_reservations (
    domain_prefix text PRIMARY KEY,
    order_id      text NOT NULL UNIQUE REFERENCES orders (order_id),
    reserved_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO domain_reservations (domain_prefix, order_id)
    SELECT DISTINCT ON (domain_prefix) domain_prefix, order_id FROM orders
    WHERE status NOT IN ('cancelled', 'refunded')
    ORDER BY domain_prefix, placed_at
    ON CONFLICT DO NOTHING;

-- One refund per payment, not per order: a payment that arrives after the
-- order was cancelled is refunded as well as the one that paid it.
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey;
ALTER TABLE refunds ADD PRIMARY KEY (payment_id);
CREATE INDEX refunds_order ON refunds (order_id);
