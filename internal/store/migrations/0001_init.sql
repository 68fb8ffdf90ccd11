-- Plans and their prices: net PLN per seat per month, in grosze.
CREATE TABLE plans (
    code             text PRIMARY KEY,
    name             text NOT NULL,
    offer_id         text NOT NULL,
    price_net_grosze bigint NOT NULL CHECK (price_net_grosze > 0),
    desktop_apps     boolean NOT NULL,
    mailbox          boolean NOT NULL
);

INSERT INTO plans (code, name, offer_id, price_net_grosze, desktop_apps, mailbox) VALUES
    ('business-basic',         'Microsoft 365 Business Basic',    'CFQ7TTC0LH18:0001', 2600, false, true),
    ('business-standard',      'Microsoft 365 Business Standard', 'CFQ7TTC0LDPB:0001', 5400, true,  true),
    ('business-premium',       'Microsoft 365 Business Premium',  'CFQ7TTC0LCHC:0002', 9500, true,  true),
    ('apps-for-business',      'Microsoft 365 Apps for business', 'CFQ7TTC0LH1G:0001', 3600, true,  false),
    ('exchange-online-plan-1', 'Exchange Online (Plan 1)',        'CFQ7TTC0LH16:0001', 1730, false, true);

-- A customer is known by email; the latest details win, documents keep their own copy.
CREATE TABLE customers (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    company       text NOT NULL,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    tax_id        text NOT NULL DEFAULT '',
    country       text NOT NULL,
    city          text NOT NULL,
    postal_code   text NOT NULL,
    address_line1 text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customers_email ON customers (lower(email));

CREATE TABLE orders (
    order_id         text PRIMARY KEY,
    request_hash     bytea NOT NULL,
    -- which shop placed it (a fingerprint of its key): only that shop sees it
    shop             text NOT NULL DEFAULT '',
    customer_id      bigint NOT NULL REFERENCES customers (id),
    plan             text NOT NULL REFERENCES plans (code),
    seats            int NOT NULL CHECK (seats BETWEEN 1 AND 300),
    billing_cycle    text NOT NULL CHECK (billing_cycle IN ('monthly', 'annual')),
    domain_prefix    text NOT NULL,
    language         text NOT NULL CHECK (language IN ('pl', 'en')),
    status           text NOT NULL,
    status_reason    text NOT NULL DEFAULT '',
    payment_deadline timestamptz NOT NULL,
    installer_url    text NOT NULL DEFAULT '',
    placed_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_status ON orders (status);

-- Access to the billing panel; the link's token is derived, only its hash is kept.
CREATE TABLE billing_accounts (
    order_id    text PRIMARY KEY REFERENCES orders (order_id),
    customer_id bigint NOT NULL REFERENCES customers (id),
    token_hash  bytea NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Gapless numbering per series and year: the row is locked by the transaction that issues.
CREATE TABLE document_counters (
    series text NOT NULL,
    year   int NOT NULL,
    last   int NOT NULL,
    PRIMARY KEY (series, year)
);

CREATE TABLE invoices (
    id           bigserial PRIMARY KEY,
    order_id     text NOT NULL REFERENCES orders (order_id),
    kind         text NOT NULL CHECK (kind IN ('proforma', 'invoice', 'correction')),
    number       text NOT NULL UNIQUE,
    net_grosze   bigint NOT NULL,
    vat_grosze   bigint NOT NULL,
    gross_grosze bigint NOT NULL CHECK (gross_grosze = net_grosze + vat_grosze),
    currency     text NOT NULL DEFAULT 'PLN',
    status       text NOT NULL CHECK (status IN ('unpaid', 'paid', 'void')),
    issued_at    date NOT NULL,
    due_date     date,
    refers_to    bigint REFERENCES invoices (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, kind)
);

-- Every notification the gateway sent, once per payment id.
CREATE TABLE payments (
    payment_id    text PRIMARY KEY,
    order_id      text NOT NULL REFERENCES orders (order_id),
    status        text NOT NULL CHECK (status IN ('completed', 'failed')),
    amount_grosze bigint NOT NULL,
    currency      text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
    order_id          text PRIMARY KEY REFERENCES orders (order_id),
    partner_customer  text NOT NULL UNIQUE,
    tenant_id         text NOT NULL,
    domain            text NOT NULL UNIQUE,
    admin_user        text NOT NULL,
    -- sealed with CREDENTIALS_KEY; cleared once the credentials email is out
    password_sealed   bytea,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscriptions (
    subscription_id text PRIMARY KEY,
    order_id        text NOT NULL REFERENCES orders (order_id),
    offer_id        text NOT NULL,
    quantity        int NOT NULL,
    status          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, offer_id)
);

-- One row per email that left; key is the kind (plus a sequence for repeatable kinds).
CREATE TABLE sent_emails (
    order_id   text NOT NULL REFERENCES orders (order_id),
    key        text NOT NULL,
    recipient  text NOT NULL,
    message_id text NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, key)
);

-- What happened to an order, in order; key makes a retried write a no-op.
CREATE TABLE order_events (
    id       bigserial PRIMARY KEY,
    order_id text NOT NULL REFERENCES orders (order_id),
    key      text NOT NULL,
    status   text NOT NULL,
    reason   text NOT NULL DEFAULT '',
    actor    text NOT NULL DEFAULT 'system',
    at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, key)
);

-- Money owed back to a customer; the gateway is asked to pay it out.
CREATE TABLE refunds (
    order_id      text PRIMARY KEY REFERENCES orders (order_id),
    payment_id    text NOT NULL REFERENCES payments (payment_id),
    amount_grosze bigint NOT NULL,
    currency      text NOT NULL,
    reason        text NOT NULL,
    status        text NOT NULL DEFAULT 'pending',
    created_at    timestamptz NOT NULL DEFAULT now()
);
