-- Liaison with deputies and members 代表委员联络: the register, contact history, suggestions, invitations, bulletins.

-- A clock counted back from a scheduled event (panellists told at least 3 days before a hearing) keeps the event's
-- time with it; null for every clock counted forward from its start.
alter table clocks add column event_at timestamptz;

-- The register: NPC deputies 人大代表 and CPPCC members 政协委员 an office keeps in touch with. Names and posts are
-- public; phone and address are personal data, stored encrypted (phone with a blind index for look-ups).
create table liaison_representatives (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    kind text not null check (kind in ('deputy', 'member')),
    level text not null check (level in ('national', 'municipal', 'district')),
    name text not null check (length(name) between 1 and 100),
    delegation text check (length(delegation) <= 200),
    post text check (length(post) <= 200),
    phone_enc text,
    phone_index text,
    address_enc text,
    -- The staff member named to look after this representative (专人负责).
    handler_id uuid references users (id),
    -- The representative's own sign-in, once an admin created it from the register.
    user_id uuid unique references users (id),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index liaison_representatives_list_idx on liaison_representatives (office_id, created_at desc, id desc);
create index liaison_representatives_handler_idx on liaison_representatives (handler_id);

-- Contact history: each visit 走访, call or meeting, with who, when and what was discussed.
create table liaison_contacts (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    representative_id uuid not null references liaison_representatives (id),
    kind text not null check (kind in ('visit', 'call', 'meeting', 'other')),
    contacted_on date not null,
    staff_id uuid not null references users (id),
    summary text not null check (length(summary) between 1 and 5000),
    created_by uuid not null references users (id),
    created_at timestamptz not null default now()
);
create index liaison_contacts_list_idx on liaison_contacts (office_id, created_at desc, id desc);
create index liaison_contacts_rep_idx on liaison_contacts (representative_id, created_at desc, id desc);
create index liaison_contacts_cadence_idx on liaison_contacts (office_id, contacted_on, staff_id);

-- Numbers are per office and year, handed out under a row lock so two submissions never share one.
create table liaison_counters (
    office_id uuid not null references offices (id),
    year integer not null,
    last integer not null default 0,
    primary key (office_id, year)
);

-- Suggestions, criticisms and opinions 代表建议 / 政协提案, moved through the kernel's workflow.
create table liaison_suggestions (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    number text not null,
    representative_id uuid not null references liaison_representatives (id),
    channel text not null check (channel in ('app', 'session', 'visit', 'letter')),
    title text not null check (length(title) between 1 and 200),
    body text not null check (length(body) between 1 and 20000),
    state text not null,
    classification text not null default 'normal' check (classification in ('normal', 'difficult')),
    department text check (length(department) <= 100),
    handler_id uuid references users (id),
    reply text,
    satisfaction text check (satisfaction in ('satisfied', 'basically_satisfied', 'not_satisfied')),
    satisfaction_comment text,
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    closed_at timestamptz,
    unique (office_id, number)
);
create index liaison_suggestions_list_idx on liaison_suggestions (office_id, created_at desc, id desc);
create index liaison_suggestions_rep_idx on liaison_suggestions (representative_id, created_at desc, id desc);

-- Invitations to open days 检察开放日, public hearings 公开听证, inspections, court observation, PIL evaluations.
create table liaison_invitations (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    kind text not null check (kind in ('open_day', 'hearing', 'inspection', 'court_observation', 'pil_evaluation',
                                       'other')),
    title text not null check (length(title) between 1 and 200),
    place text not null check (length(place) between 1 and 200),
    body text check (length(body) <= 5000),
    starts_at timestamptz not null,
    capacity integer not null check (capacity between 1 and 1000),
    state text not null,
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    closed_at timestamptz
);
create index liaison_invitations_list_idx on liaison_invitations (office_id, created_at desc, id desc);
create index liaison_invitations_kind_idx on liaison_invitations (office_id, kind, starts_at);

create table liaison_invitees (
    invitation_id uuid not null references liaison_invitations (id),
    representative_id uuid not null references liaison_representatives (id),
    invited_at timestamptz not null default now(),
    response text not null default 'pending' check (response in ('pending', 'accepted', 'declined')),
    responded_at timestamptz,
    attended boolean,
    opinion text check (length(opinion) <= 5000),
    opinion_at timestamptz,
    primary key (invitation_id, representative_id)
);
create index liaison_invitees_rep_idx on liaison_invitees (representative_id, invited_at desc, invitation_id desc);

-- Bulletins 情况通报 published to all representatives of the office, to its deputies or members only, or to
-- representatives chosen by name (their rows in liaison_bulletin_recipients).
create table liaison_bulletins (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    kind text not null check (kind in ('work_report', 'typical_case', 'notice')),
    audience text not null check (audience in ('all', 'deputy', 'member', 'selected')),
    title text not null check (length(title) between 1 and 200),
    body text not null check (length(body) between 1 and 20000),
    published_by uuid not null references users (id),
    published_at timestamptz not null default now()
);
create index liaison_bulletins_list_idx on liaison_bulletins (office_id, published_at desc, id desc);

create table liaison_bulletin_recipients (
    bulletin_id uuid not null references liaison_bulletins (id),
    representative_id uuid not null references liaison_representatives (id),
    primary key (bulletin_id, representative_id)
);
create index liaison_bulletin_recipients_rep_idx on liaison_bulletin_recipients (representative_id);

create table liaison_bulletin_reads (
    bulletin_id uuid not null references liaison_bulletins (id),
    representative_id uuid not null references liaison_representatives (id),
    read_at timestamptz not null default now(),
    primary key (bulletin_id, representative_id)
);

-- Cases of concern 代表关注案件: items a representative raised and follows (their public progress).
create table liaison_concerns (
    representative_id uuid not null references liaison_representatives (id),
    module text not null,
    subject_id uuid not null,
    created_at timestamptz not null default now(),
    primary key (representative_id, subject_id)
);
create index liaison_concerns_list_idx on liaison_concerns (representative_id, created_at desc, subject_id desc);

-- Policy warnings flow monitoring's sweep raised (a leader behind on the contact cadence, too few open days held),
-- once per person (or the office) and period.
create table liaison_warnings (
    id bigint generated always as identity primary key,
    office_id uuid not null references offices (id),
    kind text not null check (kind in ('cadence', 'open_days')),
    staff_id uuid references users (id),
    period_start date not null,
    detail jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now()
);
create unique index liaison_warnings_once_uq on liaison_warnings
    (office_id, kind, coalesce(staff_id, '00000000-0000-0000-0000-000000000000'::uuid), period_start);

grant select, insert on liaison_warnings, liaison_concerns to jianwu_app;
grant select, insert, update on liaison_representatives, liaison_contacts, liaison_counters, liaison_suggestions,
    liaison_invitations, liaison_invitees, liaison_bulletins, liaison_bulletin_recipients, liaison_bulletin_reads
    to jianwu_app;
