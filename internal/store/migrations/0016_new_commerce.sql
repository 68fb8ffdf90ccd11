-- New commerce (issue 19): the order's term at Microsoft (P1M, P1Y; its
-- billing cycle is billing_cycle) and who accepted the Microsoft Customer
-- Agreement, and when: the body's mca_accepted_by (mca_from_order), or
-- the order's contact at placement. Orders placed before have NULLs and
-- read as their billing cycle's term and their contact at placed_at.
ALTER TABLE orders
    ADD COLUMN term text CHECK (term IN ('P1M', 'P1Y')),
    ADD COLUMN mca_first_name text,
    ADD COLUMN mca_last_name text,
    ADD COLUMN mca_email text,
    ADD COLUMN mca_accepted_at timestamptz,
    ADD COLUMN mca_from_order boolean;
