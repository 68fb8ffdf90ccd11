-- Issue 17: the customer's billing panel. A customer signs in with a link
-- from an email: the billing access email's own (its token derived from the
-- order, its hash in billing_accounts.token_hash) or a fresh one asked for
-- on the panel (panel_links). Only hashes of tokens and session ids are
-- kept: a copy of the database opens no panel.

-- A presented token is looked up by its hash.
CREATE INDEX billing_accounts_token ON billing_accounts (token_hash);

CREATE TABLE panel_links (
    token_hash bytea PRIMARY KEY,
    order_id   text NOT NULL REFERENCES orders (order_id),
    -- what the mailing activity derives the token from, with CREDENTIALS_KEY;
    -- without that key it opens nothing
    nonce      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX panel_links_expires ON panel_links (expires_at);

-- A signed-in browser, for one order.
CREATE TABLE panel_sessions (
    id_hash    bytea PRIMARY KEY,
    order_id   text NOT NULL REFERENCES orders (order_id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX panel_sessions_expires ON panel_sessions (expires_at);
