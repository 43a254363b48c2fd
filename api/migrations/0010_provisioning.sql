-- Provisioning from an empty database: the office tree as data, account lifecycle, password policy,
-- and role changes that need a second admin's approval.

-- The office tree: Supreme People's Procuratorate, provincial, prefecture-level, county-level and dispatched.
-- The old levels of the demo rows map onto the official ones (Shanghai's procuratorate is provincial-level).
alter table offices drop constraint offices_level_check;
update offices set level = case level when 'municipal' then 'provincial' when 'district' then 'county' else level end;
alter table offices add constraint offices_level_check
    check (level in ('spp', 'provincial', 'prefecture', 'county', 'dispatched'));
-- The time zone column came with the calendars (0009, nullable): every office has one from now on.
update offices set time_zone = 'Asia/Shanghai' where time_zone is null;
alter table offices
    alter column time_zone set default 'Asia/Shanghai',
    alter column time_zone set not null,
    add constraint offices_time_zone_length check (length(time_zone) between 1 and 64),
    add column retired_at timestamptz,
    add column updated_at timestamptz not null default now(),
    -- 等级保护 2.0: passwords expire after this many days (null: never), and the last N may not be reused.
    add column password_max_age_days integer check (password_max_age_days between 1 and 3650),
    add column password_history integer not null default 5 check (password_history between 0 and 24),
    add column password_min_length integer not null default 10 check (password_min_length between 8 and 128);

-- Every change to an office (created, renamed, moved, retired), kept for ever.
create table office_history (
    id bigserial primary key,
    office_id uuid not null references offices (id),
    at timestamptz not null default now(),
    change text not null check (change in ('created', 'renamed', 'moved', 'retired', 'restored', 'updated')),
    before jsonb not null default '{}'::jsonb,
    after jsonb not null default '{}'::jsonb
);
create index office_history_office_idx on office_history (office_id, id desc);

-- Accounts: forced password change, one-time password expiry, a second factor required of this account,
-- retirement (never deleted: the audit trail names them).
alter table users
    add column must_change_password boolean not null default false,
    add column password_expires_at timestamptz,
    add column password_changed_at timestamptz,
    add column totp_required boolean not null default false,
    add column department text check (length(department) <= 100),
    add column retired_at timestamptz;

-- The last password hashes of each account, so a change cannot go back to one of them.
create table password_history (
    id bigserial primary key,
    user_id uuid not null references users (id),
    password_hash text not null,
    created_at timestamptz not null default now()
);
create index password_history_user_idx on password_history (user_id, id desc);

-- Which office an account belonged to, and when: a move keeps the old office's history with the old office.
create table user_office_history (
    id bigserial primary key,
    user_id uuid not null references users (id),
    office_id uuid not null references offices (id),
    from_at timestamptz not null,
    to_at timestamptz not null default now(),
    moved_by text
);
create index user_office_history_user_idx on user_office_history (user_id, id desc);
create index user_office_history_office_idx on user_office_history (office_id, id desc);

-- A change of roles that needs a second admin (of the office, or of the office above): one's own roles, or a
-- role that can see reporters' identities.
create table role_requests (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    user_id uuid not null references users (id),
    roles text[] not null,
    reason text not null,
    requested_by uuid not null references users (id),
    requested_at timestamptz not null default now(),
    decided_by uuid references users (id),
    decided_at timestamptz,
    decision text check (decision in ('approved', 'rejected'))
);
create index role_requests_office_idx on role_requests (office_id, requested_at desc, id desc);
create unique index role_requests_open_uq on role_requests (user_id) where decided_at is null;

grant select, insert, update, delete on office_history, password_history, user_office_history, role_requests
    to jianwu_app;
grant usage, select on sequence office_history_id_seq, password_history_id_seq, user_office_history_id_seq
    to jianwu_app;

-- The admin of an office above edits the tree below it; the approval of role changes is an admin's.
insert into permission_grants (province, office_id, role, action) values
    ('*', null, 'admin', 'admin.offices.manage'),
    ('*', null, 'admin', 'admin.roles.approve')
on conflict do nothing;
