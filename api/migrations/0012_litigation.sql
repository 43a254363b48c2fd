-- Public-interest litigation 公益诉讼: the office's domains, its clue registry, its cases, the procuratorial
-- recommendations addressed to agencies, and the chained list of field evidence.

-- The "4+N" domains 领域 an office works in, as data (the module's defaults until an office keeps its own).
create table pil_domains (
    office_id uuid not null references offices (id),
    code text not null check (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    label_zh text not null check (length(label_zh) between 1 and 40),
    active boolean not null default true,
    position integer not null default 0,
    primary key (office_id, code)
);

-- Per office and year: the next clue, case and recommendation number (统一编号), taken under a row lock.
create table pil_counters (
    office_id uuid not null references offices (id),
    kind text not null check (kind in ('clue', 'case', 'recommendation')),
    year integer not null,
    last integer not null default 0,
    primary key (office_id, kind, year)
);

-- Volunteers 益心为公: citizens an office approved. Their names are personal data: encrypted, shown masked.
create table pil_volunteers (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    user_id uuid not null references users (id),
    name_enc text not null,
    area text not null,
    expertise text,
    state text not null default 'applied' check (state in ('applied', 'approved', 'rejected')),
    reason text,
    decided_by text,
    decided_at timestamptz,
    created_at timestamptz not null default now(),
    unique (office_id, user_id)
);
create index pil_volunteers_office_idx on pil_volunteers (office_id, created_at desc, id desc);
create index pil_volunteers_user_idx on pil_volunteers (user_id);

create table pil_clues (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    clue_no text not null,
    state text not null default 'registered',
    source text not null check (source in ('field', 'complaint', 'partner', 'volunteer', 'hotline', 'deputy')),
    domain text not null,
    title text not null,
    description text not null,
    address text,
    latitude double precision,
    longitude double precision,
    public_interest text,
    responsible_party text,
    -- Who brought it: "staff:<id>", "partner:<client_id>"; the partner's own reference, for its retries and look-ups.
    submitted_by text not null,
    partner_client text,
    partner_ref text,
    volunteer_user uuid references users (id),
    -- An informant named by a partner: encrypted, like a reporter's identity.
    informant_enc text,
    duplicate_of uuid[] not null default '{}',
    case_id uuid,
    referred_to text,
    reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    closed_at timestamptz,
    unique (office_id, clue_no)
);
create index pil_clues_office_list_idx on pil_clues (office_id, created_at desc, id desc);
create index pil_clues_office_state_idx on pil_clues (office_id, state, created_at desc, id desc);
create index pil_clues_office_domain_idx on pil_clues (office_id, domain, created_at desc, id desc);
create index pil_clues_partner_idx on pil_clues (partner_client, created_at desc, id desc) where partner_client is not null;
-- A partner transfers each of its records once.
create unique index pil_clues_partner_ref_uq on pil_clues (partner_client, partner_ref) where partner_client is not null;
create index pil_clues_volunteer_idx on pil_clues (volunteer_user, created_at desc, id desc)
    where volunteer_user is not null;
-- Possible duplicates: the same domain and place (address, or within about 500 m).
create index pil_clues_place_idx on pil_clues (office_id, domain, address);
create index pil_clues_geo_idx on pil_clues (office_id, domain, latitude, longitude) where latitude is not null;

create table pil_cases (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    case_no text not null,
    clue_id uuid not null references pil_clues (id),
    route text not null check (route in ('administrative', 'civil')),
    domain text not null,
    title text not null,
    state text not null default 'investigating',
    -- The administrative agency (a partner client of the office) the case concerns, on the administrative route.
    agency_client text,
    respondent text,
    handler_id uuid references users (id),
    disposition text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    closed_at timestamptz,
    unique (office_id, case_no)
);
create index pil_cases_office_list_idx on pil_cases (office_id, created_at desc, id desc);
create index pil_cases_office_state_idx on pil_cases (office_id, state, created_at desc, id desc);
create index pil_cases_office_domain_idx on pil_cases (office_id, domain, created_at desc, id desc);
create index pil_cases_office_handler_idx on pil_cases (office_id, handler_id, created_at desc, id desc);

-- A recommendation 检察建议 is immutable once issued: the app role may only record its service and the reply.
create table pil_recommendations (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    case_id uuid not null unique references pil_cases (id),
    rec_no text not null,
    agency_client text not null,
    agency_name text not null,
    content text not null,
    urgent boolean not null default false,
    reply_days integer,
    reply_months integer,
    issued_by text not null,
    issued_at timestamptz not null default now(),
    received_at timestamptz,
    received_by text,
    replied_at timestamptz,
    reply_text text,
    reply_rectified boolean,
    reply_late boolean,
    unique (office_id, rec_no)
);
create index pil_recommendations_agency_idx on pil_recommendations (agency_client, issued_at desc, id desc);

-- Field evidence: each entry names a file of the case and what was claimed about it, and hashes the entry before
-- it, so a changed or removed entry breaks the chain. Rows are never updated or deleted by the app.
create table pil_evidence (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    case_id uuid not null references pil_cases (id),
    seq integer not null,
    attachment_id uuid not null unique references attachments (id),
    sha256 text not null,
    kind text not null,
    description text,
    captured_at timestamptz,
    device_latitude double precision,
    device_longitude double precision,
    file_captured_at timestamptz,
    file_latitude double precision,
    file_longitude double precision,
    address text,
    staff text[] not null,
    recorded_by text not null,
    recorded_at timestamptz not null,
    prev_hash text not null,
    entry_hash text not null,
    unique (case_id, seq)
);

-- Tables get the app role's default rights (0002); the evidence chain and issued recommendations are narrowed.
revoke update, delete, truncate on pil_evidence from jianwu_app;
revoke all on pil_recommendations from jianwu_app;
grant select, insert (id, office_id, case_id, rec_no, agency_client, agency_name, content, urgent, reply_days,
                      reply_months, issued_by, issued_at),
      update (received_at, received_by, replied_at, reply_text, reply_rectified, reply_late)
    on pil_recommendations to jianwu_app;
revoke delete, truncate on pil_clues, pil_cases from jianwu_app;
