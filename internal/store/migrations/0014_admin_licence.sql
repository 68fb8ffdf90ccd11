-- Whether the tenant's first admin gets one of the plan's seats at
-- provisioning (issue 19). The shop's order may say no ("admin_licence":
-- false); orders placed before were provisioned without one, and their runs
-- (started before the workflow's admin-licence step) give none either way.
ALTER TABLE orders ADD COLUMN admin_licence boolean NOT NULL DEFAULT true;
