-- The last TOTP time step accepted per account: a code is good once (no replay within its window).
alter table users add column totp_last_step bigint;
-- Office-level permission lists are read on every permission-cache miss and replaced by admins.
create index permission_grants_office_idx on permission_grants (office_id) where office_id is not null;
