-- What every module shares: idempotent commands, the outbox of side effects, deadline clocks, office calendars.

-- A client's Idempotency-Key, stored in the same transaction as the work it guards.
create table idempotency_keys (
    scope text not null,
    key text not null check (length(key) between 1 and 200),
    request_hash bytea not null,
    status integer,
    response bytea,
    created_at timestamptz not null default now(),
    primary key (scope, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

-- Side effects (push, SMS, partner calls) leave through here, written in the transaction that caused them.
create table outbox (
    id bigserial primary key,
    topic text not null,
    office_id uuid,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    available_at timestamptz not null default now(),
    attempts integer not null default 0,
    delivered_at timestamptz
);
create index outbox_pending_idx on outbox (available_at, id) where delivered_at is null;

-- One row per running or finished deadline; `status` and `due` are kept current by the clock engine.
create table clocks (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    module text not null,
    subject_id uuid not null,
    code text not null,
    occurrence integer not null default 1,
    started_at timestamptz not null,
    day_type text not null,
    lead_days integer[] not null,
    events jsonb not null default '[]'::jsonb,
    status text not null,
    due date not null,
    finished_at timestamptz,
    calendar_estimated boolean not null default false,
    updated_at timestamptz not null default now(),
    unique (subject_id, code, occurrence)
);
create index clocks_open_idx on clocks (office_id, module, due) where status in ('running', 'paused');
create index clocks_report_idx on clocks (office_id, module, code, started_at);

-- Per-office corrections to the statutory calendar (a year the package does not know yet, local holidays).
create table office_calendar_days (
    office_id uuid not null references offices (id),
    day date not null,
    working boolean not null,
    primary key (office_id, day)
);
