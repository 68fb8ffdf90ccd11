-- Issue 18, KSeF: each VAT invoice and correction is sent to Poland's
-- national e-invoicing system by its own workflow (ksef-<invoice id>). The
-- row is written in the transaction that issues the document (when KSeF is
-- on), so a document never exists without its KSeF state, and is moved by
-- that workflow only.
--   status   pending (not yet accepted), offline (issued in offline mode: its
--            PDF carries the offline QR codes; still to be sent by deadline),
--            accepted (ksef_number and upo known) or rejected (reason says
--            why; an operator fixes it and resends).
--   xml      the FA(3) document exactly as sent (or as it will be sent),
--            xml_hash its SHA-256 in base64url, as the QR links carry it.
--   session_ref, invoice_ref: KSeF's references of the sending, kept before
--            polling so that a retried step asks for that invoice's status
--            instead of sending it again.
--   verify_url, certificate_url: the QR codes' links (KOD I, and KOD II of
--            an offline document) the PDF prints.
CREATE TABLE ksef_documents (
    invoice_id  bigint PRIMARY KEY REFERENCES invoices (id),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'offline', 'accepted', 'rejected')),
    xml         bytea,
    xml_hash    text,
    offline     boolean NOT NULL DEFAULT false,
    deadline    timestamptz,
    session_ref text,
    invoice_ref text,
    verify_url  text,
    certificate_url text,
    ksef_number text UNIQUE,
    upo         bytea,
    reason      text NOT NULL DEFAULT '',
    sends       integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    CHECK (status <> 'accepted' OR (ksef_number IS NOT NULL AND upo IS NOT NULL))
);
CREATE INDEX ksef_documents_open ON ksef_documents (status) WHERE status <> 'accepted';
