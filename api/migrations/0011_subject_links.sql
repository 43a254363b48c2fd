-- Links between subjects of different modules (a complaint transferred into a PIL clue, a deputy's suggestion that
-- became a complaint): kept both ways, so each side can say what it came from and what it became.
create table subject_links (
    id bigint generated always as identity primary key,
    office_id uuid not null references offices (id),
    from_module text not null,
    from_id uuid not null,
    to_module text not null,
    to_id uuid not null,
    kind text not null check (kind ~ '^[a-z][a-z_]{1,39}$'),
    created_by text not null,
    created_at timestamptz not null default now(),
    unique (from_id, to_id, kind)
);
create index subject_links_from_idx on subject_links (from_id);
create index subject_links_to_idx on subject_links (to_id);
grant select, insert on subject_links to jianwu_app;
