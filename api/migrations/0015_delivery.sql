-- Delivery: devices, the in-app inbox, webhook subscriptions of partner agencies, their event feed, and every
-- attempt to reach a phone or an endpoint. Filled from the outbox by the delivery worker (push/worker.py).

-- A phone or browser an account signed in on; a push token belongs to one account at a time.
create table push_devices (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,
    -- The refresh-token family of the session that registered it: signing that session out drops the device.
    family_id uuid,
    platform text not null check (platform in ('ios', 'android', 'harmony', 'web')),
    channel text not null check (channel in ('apns', 'huawei', 'honor', 'xiaomi', 'oppo', 'vivo', 'fcm', 'webpush')),
    token text not null check (length(token) between 1 and 4096),
    app_version text not null,
    locale text not null,
    created_at timestamptz not null default now(),
    seen_at timestamptz not null default now(),
    unique (channel, token)
);
create index push_devices_user_idx on push_devices (user_id, created_at desc, id desc);

-- One notification per (outbox event, account): a worker that crashes after sending and resends never doubles it.
create table inbox (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,
    event_id bigint not null,
    office_id uuid,
    kind text not null,
    event text,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    read_at timestamptz,
    unique (event_id, user_id)
);
create index inbox_user_idx on inbox (user_id, created_at desc, id desc);
create index inbox_unread_idx on inbox (user_id) where read_at is null;

-- What an account does not want on its phone (the inbox still gets everything), and when it wants quiet.
create table inbox_preferences (
    user_id uuid primary key references users (id) on delete cascade,
    muted_kinds text[] not null default '{}',
    quiet_start time,
    quiet_end time,
    updated_at timestamptz not null default now(),
    check ((quiet_start is null) = (quiet_end is null))
);

-- A partner agency's subscription: the event kinds it wants, and the endpoint it takes them at (none: it pulls).
create table webhook_subscriptions (
    client_id uuid primary key references partner_clients (id) on delete cascade,
    office_id uuid not null references offices (id),
    url text,
    kinds text[] not null,
    -- Hosts (names, addresses or networks) an admin allows for this client; the worker delivers nowhere else.
    allowed_hosts text[] not null default '{}',
    secret_enc bytea not null,
    previous_secret_enc bytea,
    previous_until timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index webhook_subscriptions_office_idx on webhook_subscriptions (office_id);

-- The events each partner agency gets, in one order: the webhook sends them, the pull feed reads them.
create table partner_events (
    id bigserial primary key,
    client_id uuid not null references partner_clients (id) on delete cascade,
    event_id bigint not null,
    msg_id text not null unique,
    kind text not null,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    unique (client_id, event_id)
);
create index partner_events_feed_idx on partner_events (client_id, id);

-- Every send to a phone or an endpoint; within one queue (a device, an endpoint) they go out in `seq` order.
create table deliveries (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity,
    queue text not null,
    channel text not null,
    office_id uuid,
    device_id uuid references push_devices (id) on delete set null,
    client_id uuid references partner_clients (id) on delete cascade,
    notification_id uuid references inbox (id) on delete cascade,
    partner_event_id bigint references partner_events (id) on delete cascade,
    state text not null default 'pending' check (state in ('pending', 'sent', 'dead', 'dropped')),
    attempts integer not null default 0,
    next_at timestamptz not null default now(),
    leased_until timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz not null default now(),
    sent_at timestamptz
);
create index deliveries_queue_idx on deliveries (queue, seq) where state = 'pending';
create index deliveries_due_idx on deliveries (next_at) where state = 'pending';
create index deliveries_client_idx on deliveries (client_id, created_at desc, id desc) where client_id is not null;
create index deliveries_dead_idx on deliveries (office_id, created_at desc, id desc) where state = 'dead';

grant select, insert, update, delete on push_devices, inbox, inbox_preferences, webhook_subscriptions,
    partner_events, deliveries to jianwu_app;
grant usage, select on sequence partner_events_id_seq to jianwu_app;

insert into permission_grants (province, office_id, role, action) values
    ('*', null, 'admin', 'push.webhooks.manage'),
    ('*', null, 'admin', 'push.deliveries.manage'),
    ('*', null, 'partner', 'partner.events.read');
