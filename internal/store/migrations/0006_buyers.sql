-- Issue 15, finding 2: customer data was shared across orders and shops by
-- email. Placement upserted customers on lower(email), so a later order with
-- the same address, from any shop, rewrote the customer of every earlier
-- order, and their later documents (VAT invoice, correction) named the later
-- order's buyer.
--
-- From here on a customer row belongs to the one order that named it:
-- placement inserts one per order and nothing rewrites it. The email is only
-- where that order's mail goes, never a key shared between orders.
DROP INDEX customers_email;
CREATE INDEX customers_email ON customers (lower(email));
COMMENT ON TABLE customers IS 'the buyer as one order named it at placement; one row per order, never rewritten';

-- Orders that shared a row get a copy each (the oldest order keeps the row).
-- The details of the earlier orders were overwritten and are not kept
-- anywhere, so the copy holds what the row says now; from here on nothing
-- rewrites it.
DO $$
DECLARE
    r record;
    copied bigint;
BEGIN
    FOR r IN
        SELECT o.order_id, o.customer_id FROM orders o
        WHERE EXISTS (SELECT 1 FROM orders e WHERE e.customer_id = o.customer_id
            AND (e.placed_at, e.order_id) < (o.placed_at, o.order_id))
    LOOP
        INSERT INTO customers (email, company, first_name, last_name, tax_id, country, city, postal_code, address_line1, created_at, updated_at)
            SELECT email, company, first_name, last_name, tax_id, country, city, postal_code, address_line1, created_at, updated_at
            FROM customers WHERE id = r.customer_id
            RETURNING id INTO copied;
        UPDATE orders SET customer_id = copied WHERE order_id = r.order_id;
        UPDATE billing_accounts SET customer_id = copied WHERE order_id = r.order_id;
    END LOOP;
END $$;

-- Every document carries its buyer, copied from the order's customer in the
-- transaction that issues it; the PDF is rendered from these columns, so a
-- document names the buyer it was issued to whatever happens to the
-- customer row later. Documents issued before this migration get what their
-- order's customer row says now.
ALTER TABLE invoices
    ADD COLUMN buyer_name        text,
    ADD COLUMN buyer_address     text,
    ADD COLUMN buyer_postal_code text,
    ADD COLUMN buyer_city        text,
    ADD COLUMN buyer_country     text,
    ADD COLUMN buyer_tax_id      text;

UPDATE invoices i SET buyer_name = c.company, buyer_address = c.address_line1, buyer_postal_code = c.postal_code,
    buyer_city = c.city, buyer_country = c.country, buyer_tax_id = c.tax_id
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.order_id = i.order_id;

ALTER TABLE invoices
    ALTER COLUMN buyer_name SET NOT NULL,
    ALTER COLUMN buyer_address SET NOT NULL,
    ALTER COLUMN buyer_postal_code SET NOT NULL,
    ALTER COLUMN buyer_city SET NOT NULL,
    ALTER COLUMN buyer_country SET NOT NULL,
    ALTER COLUMN buyer_tax_id SET NOT NULL;
