-- Issue 18, tax cases: a document's VAT follows the buyer the order named.
-- vat_code is the rate as FA(3) writes it in P_12: '23' (Polish VAT),
-- 'np II' (a business in another EU member state: reverse charge) or
-- 'np I' (outside the EU: not taxable in Poland). vat_note is the
-- annotation the document prints for a rate other than 23% ('odwrotne
-- obciążenie' for reverse charge), '' for 23%. Every document issued before
-- this was billed at 23%.
ALTER TABLE invoices ADD COLUMN vat_code text NOT NULL DEFAULT '23'
    CHECK (vat_code IN ('23', 'np I', 'np II'));
ALTER TABLE invoices ADD COLUMN vat_note text NOT NULL DEFAULT '';
