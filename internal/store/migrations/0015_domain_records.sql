-- The records a verified domain needs for mail (issue 19): the tenant's
-- serviceConfigurationRecords (MX, the autodiscover CNAME, SPF), kept per
-- attempt with whether DNS showed each at the last check. A domain whose
-- records are all published is 'ready' (ready for mail); one whose checks
-- ended with some missing is 'records_missing', records_note naming them.
-- 'verified' keeps its meaning: verified at the tenant, mail records not
-- (yet) seen.
ALTER TABLE tenant_domains DROP CONSTRAINT tenant_domains_status_check;
ALTER TABLE tenant_domains ADD CONSTRAINT tenant_domains_status_check
    CHECK (status IN ('pending', 'verified', 'failed', 'ready', 'records_missing'));
ALTER TABLE tenant_domains ADD COLUMN records_note text NOT NULL DEFAULT '';

CREATE TABLE tenant_domain_records (
    domain      text NOT NULL REFERENCES tenant_domains (domain),
    attempt     int NOT NULL,
    position    int NOT NULL,
    record_type text NOT NULL CHECK (record_type IN ('MX', 'CNAME', 'TXT')),
    name        text NOT NULL,
    value       text NOT NULL,
    preference  int NOT NULL DEFAULT 0,
    ttl         int NOT NULL DEFAULT 3600,
    published   boolean NOT NULL DEFAULT false,
    checked_at  timestamptz,
    PRIMARY KEY (domain, attempt, record_type, name, value)
);
