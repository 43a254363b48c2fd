-- Partner agencies (police 检警通, government agencies 检政通, the 12345 hotline, courts) working with an office over
-- the partner API: how a client is onboarded (kind, keys, address allow-list, daily quota, secret rotation with an
-- overlap, contact people), calls and clues transferred into complaints, and early involvement 提前介入.

alter table partner_clients drop constraint partner_clients_agency_kind_check;
alter table partner_clients add constraint partner_clients_agency_kind_check
    check (agency_kind in ('police', 'government', 'hotline', 'court'));
alter table partner_clients
    -- private_key_jwt with keys published by the agency; fetched only from hosts on the operator's allow-list (plain
    -- http only on the loopback address, for development).
    add column jwks_url text check (jwks_url ~ '^https?://\S+$' and length(jwks_url) <= 500),
    -- Empty: any address. Otherwise every token request and every call must come from one of these networks.
    add column allowed_networks cidr[] not null default '{}',
    -- Calls per calendar day (the office's time zone); null: only the per-minute budget applies.
    add column daily_quota integer check (daily_quota > 0),
    -- The secret replaced by a rotation stays valid until this time, so the agency can switch without downtime.
    add column previous_secret_hash text,
    add column previous_secret_until timestamptz;
alter table partner_clients drop constraint partner_clients_check;
alter table partner_clients add constraint partner_clients_credentials_check
    check (secret_hash is not null or public_jwk is not null or jwks_url is not null);

-- The agency's contact people: names and phones are personal data, stored encrypted.
create table partner_contacts (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    client_uuid uuid not null references partner_clients (id),
    name_enc text not null,
    phone_enc text,
    role text not null check (length(role) between 1 and 100),
    position smallint not null default 0,
    created_at timestamptz not null default now()
);
create index partner_contacts_client_idx on partner_contacts (client_uuid, position);

-- A hotline call or a police clue transferred into complaints: one item per (client, kind, the partner's own
-- reference), so a repeated transfer of the same ticket answers the first item.
create table partner_transfers (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    client_uuid uuid not null references partner_clients (id),
    kind text not null check (kind in ('hotline_call', 'police_clue')),
    reference text not null check (reference ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
    complaint_id uuid not null references complaints (id),
    created_at timestamptz not null default now(),
    unique (client_uuid, kind, reference)
);
create index partner_transfers_list_idx on partner_transfers (client_uuid, kind, created_at desc, id desc);
create index partner_transfers_complaint_idx on partner_transfers (complaint_id);

-- Early involvement 提前介入 in a major case, asked for by either side; the subject of a kernel workflow.
create table partner_involvements (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    client_uuid uuid not null references partner_clients (id),
    initiated_by text not null check (initiated_by in ('partner', 'office')),
    case_ref text check (length(case_ref) <= 64),
    summary text not null check (length(summary) between 1 and 20000),
    reason text not null check (length(reason) between 1 and 5000),
    urgency text not null check (urgency in ('normal', 'urgent')),
    state text not null default 'requested'
        check (state in ('requested', 'accepted', 'declined', 'concluded', 'withdrawn')),
    prosecutor_id uuid references users (id),
    created_by text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    closed_at timestamptz
);
create index partner_involvements_client_idx on partner_involvements (client_uuid, created_at desc, id desc);
create index partner_involvements_office_idx on partner_involvements (office_id, created_at desc, id desc);

-- Document exchange: the kinds of message are data (a new exchange needs a row, not code): which way each goes and
-- whether the receiving side must answer it.
create table partner_message_kinds (
    code text primary key check (code ~ '^[a-z][a-z_]{1,39}$'),
    label_zh text not null,
    direction text not null check (direction in ('to_office', 'to_partner', 'either')),
    needs_answer boolean not null default false,
    agency_kinds text[] not null default '{police,government,hotline,court}'
);
insert into partner_message_kinds (code, label_zh, direction, needs_answer, agency_kinds) values
    ('case_notice', '案件情况通报', 'either', false, '{police,government,court}'),
    ('evidence_request', '调取证据材料函', 'either', true, '{police,government,court}'),
    ('opinion_request', '征求意见函', 'either', true, '{police,government,hotline,court}'),
    ('supplementary_investigation', '补充侦查提纲', 'to_partner', true, '{police}'),
    ('correction_notice', '纠正违法通知书', 'to_partner', true, '{police}'),
    ('case_filing_notice', '立案（撤案）情况告知', 'to_office', false, '{police}');

-- One message each way; signed for on receipt (the time recorded), answered by a message of its own.
create table partner_messages (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    client_uuid uuid not null references partner_clients (id),
    kind text not null references partner_message_kinds (code),
    direction text not null check (direction in ('to_office', 'to_partner')),
    subject text not null check (length(subject) between 1 and 200),
    body text not null check (length(body) between 1 and 20000),
    reply_to uuid references partner_messages (id),
    state text not null default 'sent' check (state in ('sent', 'received', 'answered')),
    created_by text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    received_at timestamptz,
    received_by text,
    closed_at timestamptz
);
create index partner_messages_client_idx on partner_messages (client_uuid, created_at desc, id desc);
create index partner_messages_office_idx on partner_messages (office_id, created_at desc, id desc);
create unique index partner_messages_one_answer_idx on partner_messages (reply_to) where reply_to is not null;

-- Consultation 磋商 with an agency before a recommendation: one side proposes time slots, the other confirms one,
-- the office records the minutes, which the agency sees.
create table partner_consultations (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    client_uuid uuid not null references partner_clients (id),
    proposed_by text not null check (proposed_by in ('partner', 'office')),
    topic text not null check (length(topic) between 1 and 200),
    agenda text check (length(agenda) <= 5000),
    place text check (length(place) <= 200),
    slots timestamptz[] not null check (cardinality(slots) between 1 and 10),
    scheduled_at timestamptz,
    minutes text check (length(minutes) <= 50000),
    state text not null default 'proposed' check (state in ('proposed', 'confirmed', 'held', 'cancelled')),
    created_by text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    closed_at timestamptz
);
create index partner_consultations_client_idx on partner_consultations (client_uuid, created_at desc, id desc);
create index partner_consultations_office_idx on partner_consultations (office_id, created_at desc, id desc);

grant select, insert, update on partner_consultations to jianwu_app;
grant select on partner_message_kinds to jianwu_app;
grant select, insert, update on partner_messages to jianwu_app;
grant select, insert, update, delete on partner_contacts to jianwu_app;
grant select, insert on partner_transfers to jianwu_app;
grant select, insert, update on partner_involvements to jianwu_app;
