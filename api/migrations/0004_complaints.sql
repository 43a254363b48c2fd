-- Complaints, reports and appeals 控告申诉 / 举报 / 信访.
create extension if not exists pg_trgm;

create table complaint_categories (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    kind text not null check (kind in ('accusation', 'report', 'criminal_appeal', 'civil_admin_appeal',
        'state_compensation', 'judicial_aid', 'other_petition', 'legal_consultation')),
    code text not null check (code ~ '^[a-z0-9][a-z0-9_-]{1,63}$'),
    name text not null,
    description text not null default '',
    fields jsonb not null default '[]'::jsonb,
    sort integer not null default 0,
    active boolean not null default true,
    version integer not null default 1,
    updated_at timestamptz not null default now(),
    unique (office_id, code)
);

create table complaints (
    id uuid primary key default gen_random_uuid(),
    receipt_no text not null unique,
    office_id uuid not null references offices (id),
    first_office_id uuid not null references offices (id),
    kind text not null,
    category_id uuid references complaint_categories (id),
    channel text not null check (channel in ('app', 'web', 'hotline', 'walk_in', 'letter')),
    state text not null,
    complainant_id uuid references users (id),
    anonymous boolean not null default false,
    query_code_hash text,
    reporter_name_enc text,
    reporter_phone_enc text,
    reporter_phone_index text,
    reporter_id_number_enc text,
    contact_reachable boolean not null default true,
    title text not null,
    body text not null,
    latitude double precision,
    longitude double precision,
    address text,
    persons_reported jsonb not null default '[]'::jsonb,
    extra jsonb not null default '{}'::jsonb,
    assignee_id uuid references users (id),
    department text,
    referred_to text,
    disposition text,
    closed_at timestamptz,
    rating smallint check (rating between 1 and 5),
    rating_comment text,
    rated_at timestamptz,
    parent_id uuid references complaints (id),
    review_level text check (review_level in ('review', 're_review')),
    possible_duplicates uuid[] not null default '{}',
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
-- The staff list: newest first per office, with the usual filters.
create index complaints_office_list_idx on complaints (office_id, created_at desc, id desc);
create index complaints_office_state_idx on complaints (office_id, state, created_at desc, id desc);
create index complaints_office_assignee_idx on complaints (office_id, assignee_id, created_at desc, id desc);
create index complaints_complainant_idx on complaints (complainant_id, created_at desc) where complainant_id is not null;
create index complaints_dupe_idx on complaints (office_id, category_id, created_at desc);
create index complaints_reporter_idx on complaints (reporter_phone_index) where reporter_phone_index is not null;
create index complaints_parent_idx on complaints (parent_id) where parent_id is not null;
create index complaints_text_idx on complaints using gin ((title || ' ' || body) gin_trgm_ops);

-- The timeline: every state change, reply, note, assignment, transfer and added material.
create table complaint_events (
    id bigserial primary key,
    complaint_id uuid not null references complaints (id),
    at timestamptz not null default now(),
    actor_id text,
    actor_kind text,
    type text not null,
    public boolean not null,
    body text,
    data jsonb not null default '{}'::jsonb
);
create index complaint_events_complaint_idx on complaint_events (complaint_id, id);

create table complaint_attachments (
    id uuid primary key default gen_random_uuid(),
    complaint_id uuid not null references complaints (id),
    uploaded_by text,
    media_type text not null,
    category text not null,
    size bigint not null,
    sha256 text not null,
    original_key text not null,
    public_key text,
    captured_at timestamptz,
    latitude double precision,
    longitude double precision,
    declared_name text,
    created_at timestamptz not null default now()
);
create index complaint_attachments_complaint_idx on complaint_attachments (complaint_id, created_at);

-- Reply templates per office and state; `{receipt_no}`-style placeholders are filled when used.
create table complaint_reply_templates (
    office_id uuid not null references offices (id),
    code text not null check (code ~ '^[a-z0-9_]{2,64}$'),
    state text not null,
    title text not null,
    body text not null,
    updated_at timestamptz not null default now(),
    primary key (office_id, code)
);

grant select, insert, update, delete on all tables in schema public to jianwu_app;
grant usage, select on all sequences in schema public to jianwu_app;
revoke update, delete, truncate on audit_log from jianwu_app;
