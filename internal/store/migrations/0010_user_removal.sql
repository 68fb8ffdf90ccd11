-- Issue 17: the customer removes a user from the billing panel (or the shop
-- through the API). 'removing' while the tenant API deletes it (it still
-- holds its seat), 'removed' once gone: its seat is free and its name may
-- be asked for again, as after a failed attempt.
ALTER TABLE tenant_users DROP CONSTRAINT tenant_users_status_check;
ALTER TABLE tenant_users ADD CONSTRAINT tenant_users_status_check
    CHECK (status IN ('creating', 'created', 'failed', 'removing', 'removed'));
