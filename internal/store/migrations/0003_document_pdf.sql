-- Each document's PDF, rendered once in the transaction that issues it and
-- served as stored: what the customer downloads never changes.
ALTER TABLE invoices ADD COLUMN pdf bytea;
