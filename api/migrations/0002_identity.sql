-- Identity and access: accounts, partner clients, signing keys, refresh tokens, permission lists, audit trail.

-- The role the application works as (every pooled connection sets it). It may read and append the audit
-- trail but never change it; the migrating role owns the tables.
do $$
begin
    create role jianwu_app nologin;
exception when duplicate_object then null;
end $$;
do $$
begin
    execute format('grant jianwu_app to %I', current_user);
exception when others then null;  -- superusers and existing members need no grant
end $$;
grant usage on schema public to jianwu_app;
alter default privileges in schema public grant select, insert, update, delete on tables to jianwu_app;
alter default privileges in schema public grant usage, select on sequences to jianwu_app;
grant select, insert, update, delete on offices, office_modules, app_meta to jianwu_app;
grant select on schema_migrations to jianwu_app;

alter table offices add column require_totp boolean not null default false;

create table users (
    id uuid primary key default gen_random_uuid(),
    kind text not null check (kind in ('staff', 'deputy', 'member', 'citizen')),
    office_id uuid references offices (id),
    username text unique check (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name text not null check (length(display_name) between 1 and 100),
    password_hash text,
    phone_enc text,
    phone_index text unique,
    roles text[] not null default '{}',
    totp_secret_enc text,
    totp_confirmed_at timestamptz,
    recovery_codes text[] not null default '{}',
    disabled_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (kind = 'citizen' or office_id is not null),
    check (kind = 'citizen' or username is not null),
    check (kind <> 'citizen' or phone_index is not null)
);
create index users_office_idx on users (office_id, created_at desc, id desc);

create table partner_clients (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    client_id text not null unique check (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    name text not null,
    agency_kind text not null check (agency_kind in ('police', 'government', 'hotline')),
    secret_hash text,
    public_jwk jsonb,
    scopes text[] not null default '{}',
    rate_limit_per_minute integer not null default 600 check (rate_limit_per_minute > 0),
    disabled_at timestamptz,
    created_at timestamptz not null default now(),
    check (secret_hash is not null or public_jwk is not null)
);
create index partner_clients_office_idx on partner_clients (office_id, created_at desc, id desc);

-- One row per signing key. The newest active key signs; retired keys stay published until their tokens expire.
create table signing_keys (
    kid text primary key,
    alg text not null default 'ES256',
    public_jwk jsonb not null,
    private_enc text not null,
    created_at timestamptz not null default now(),
    retired_at timestamptz
);

-- Refresh tokens are opaque; we keep only their SHA-256. A family is one sign-in and everything rotated from it.
create table refresh_tokens (
    id uuid primary key default gen_random_uuid(),
    family_id uuid not null,
    user_id uuid not null references users (id),
    token_hash bytea not null unique,
    audience text not null,
    device_id text,
    scope text not null default '',
    issued_at timestamptz not null default now(),
    expires_at timestamptz not null,
    rotated_at timestamptz,
    -- The response that rotation returned, encrypted, kept briefly so a lost response can be retried.
    rotation_response_enc text,
    revoked_at timestamptz
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_user_idx on refresh_tokens (user_id) where revoked_at is null;

-- One-time sign-in codes for citizens, hashed, valid briefly.
create table otp_codes (
    id uuid primary key default gen_random_uuid(),
    phone_index text not null,
    code_hash bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    attempts integer not null default 0,
    used_at timestamptz
);
create index otp_codes_phone_idx on otp_codes (phone_index, created_at desc);

-- The permission list 检察官权力清单: which role may take which action. Province-wide rows have office_id
-- null; an office that has rows of its own uses those instead of its province's.
create table permission_grants (
    province text not null,
    office_id uuid references offices (id),
    role text not null,
    action text not null check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    updated_at timestamptz not null default now()
);
create unique index permission_grants_uq on permission_grants (province, coalesce(office_id, '00000000-0000-0000-0000-000000000000'::uuid), role, action);

-- Append-only audit trail, hash-chained per office so that any edit or deletion breaks the chain.
create table audit_log (
    id bigserial primary key,
    chain text not null,
    seq bigint not null,
    at timestamptz not null default clock_timestamp(),
    office_id uuid,
    actor_id text,
    actor_kind text,
    action text not null,
    object_type text,
    object_id text,
    device_id text,
    ip text,
    request_id text,
    detail jsonb not null default '{}'::jsonb,
    prev_hash text not null,
    hash text not null,
    unique (chain, seq)
);
create index audit_log_office_idx on audit_log (office_id, id desc);

grant select, insert, update, delete on users, partner_clients, signing_keys, refresh_tokens, otp_codes,
    permission_grants to jianwu_app;
grant select, insert on audit_log to jianwu_app;
grant usage, select on sequence audit_log_id_seq to jianwu_app;
revoke update, delete, truncate on audit_log from jianwu_app;

-- The national default permission list; a province or an office replaces it with its own through the API.
insert into permission_grants (province, office_id, role, action)
select '*', null, 'admin', a from unnest(array[
    'admin.users.read', 'admin.users.manage', 'admin.sessions.revoke', 'admin.permissions.read',
    'admin.permissions.manage', 'admin.clients.read', 'admin.clients.manage', 'admin.audit.read',
    'admin.office.manage', 'admin.modules.manage']) as a;
insert into permission_grants (province, office_id, role, action) values
    ('*', null, 'case_mgmt', 'admin.audit.read'),
    ('*', null, 'chief', 'admin.audit.read'),
    ('*', null, 'chief', 'admin.users.read');
