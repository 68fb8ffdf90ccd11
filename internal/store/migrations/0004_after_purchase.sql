-- After the first order: money asked for later (more licences, renewals),
-- the subscription's own state, users with licences and the customer's own
-- domains.

-- A charge is one later purchase with its own documents: more (or fewer)
-- licences, or one renewal period. Its id is what the payment gateway's
-- notification names in charge_id.
CREATE TABLE charges (
    id               text PRIMARY KEY,
    order_id         text NOT NULL REFERENCES orders (order_id),
    kind             text NOT NULL CHECK (kind IN ('licences', 'reduction', 'renewal')),
    request_hash     bytea NOT NULL DEFAULT '',
    workflow_id      text NOT NULL,
    -- licences: the change in seats; renewal: the seats renewed
    seats            int NOT NULL,
    period           int NOT NULL DEFAULT 0,
    period_start     date NOT NULL,
    period_end       date NOT NULL,
    -- fixed when the charge is made, so a retried issue bills the same
    net_grosze       bigint NOT NULL,
    status           text NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'applied', 'cancelled')),
    payment_deadline timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_order ON charges (order_id);

-- Documents and payments of a charge name it; the order's own have none.
ALTER TABLE invoices ADD COLUMN charge_id text REFERENCES charges (id);
ALTER TABLE invoices DROP CONSTRAINT invoices_order_id_kind_key;
CREATE UNIQUE INDEX invoices_order_kind ON invoices (order_id, kind) WHERE charge_id IS NULL;
CREATE UNIQUE INDEX invoices_charge_kind ON invoices (charge_id, kind) WHERE charge_id IS NOT NULL;
ALTER TABLE payments ADD COLUMN charge_id text REFERENCES charges (id);

-- The subscription an order becomes at installer_ready. Periods run from
-- the day of payment for the plan's months; period_end is the first day not
-- paid for.
CREATE TABLE services (
    order_id             text PRIMARY KEY REFERENCES orders (order_id),
    status               text NOT NULL CHECK (status IN ('active', 'renewal_due', 'suspended', 'terminated')),
    status_reason        text NOT NULL DEFAULT '',
    period               int NOT NULL,
    period_start         date NOT NULL,
    period_end           date NOT NULL,
    seats                int NOT NULL CHECK (seats BETWEEN 1 AND 300),
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    suspended_at         timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Users made in the customer's tenant. A licensed user holds one of the
-- service's seats from the request on, so two requests never take the last
-- seat twice.
CREATE TABLE tenant_users (
    order_id        text NOT NULL REFERENCES orders (order_id),
    user_name       text NOT NULL,
    request_hash    bytea NOT NULL,
    display_name    text NOT NULL,
    licensed        boolean NOT NULL,
    status          text NOT NULL CHECK (status IN ('creating', 'created', 'failed')),
    -- a user that could not be made may be asked for again: a new attempt
    attempt         int NOT NULL DEFAULT 1,
    tenant_user_id  text NOT NULL DEFAULT '',
    -- sealed with CREDENTIALS_KEY; cleared once the first-login email is out
    password_sealed bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, user_name)
);

-- The customer's own domains. A domain belongs to one order while it is
-- pending or verified; a failed one may be tried again.
CREATE TABLE tenant_domains (
    domain       text PRIMARY KEY,
    order_id     text NOT NULL REFERENCES orders (order_id),
    make_default boolean NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
    attempt      int NOT NULL DEFAULT 1,
    txt_name     text NOT NULL DEFAULT '',
    txt_text     text NOT NULL DEFAULT '',
    check_until  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    verified_at  timestamptz
);
CREATE INDEX tenant_domains_order ON tenant_domains (order_id);
