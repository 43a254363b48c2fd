-- Offices form a tree: a municipal procuratorate over its district procuratorates.
create table offices (
    id uuid primary key default gen_random_uuid(),
    code text not null unique check (code ~ '^[a-z][a-z0-9-]{1,39}$'),
    name text not null check (length(name) between 1 and 200),
    parent_id uuid references offices (id),
    province text not null check (length(province) between 1 and 50),
    level text not null check (level in ('provincial', 'municipal', 'district')),
    created_at timestamptz not null default now()
);
create index offices_parent_idx on offices (parent_id);

-- Which modules each office has switched on, and their per-office configuration.
create table office_modules (
    office_id uuid not null references offices (id),
    module text not null check (module in ('complaints', 'litigation', 'liaison')),
    enabled boolean not null default true,
    config jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now(),
    primary key (office_id, module)
);

-- Small facts about this database itself, such as when the demo data was loaded.
create table app_meta (
    key text primary key,
    value jsonb not null,
    updated_at timestamptz not null default now()
);
