-- Public-interest litigation: hearings 听证 and rectification evaluations 整改评估 that outside people sit on
-- (deputies, CPPCC members, volunteers, others), their invitations and answers, and the hearing record.

create table pil_hearings (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    case_id uuid not null references pil_cases (id),
    kind text not null check (kind in ('hearing', 'evaluation')),
    topic text not null,
    scheduled_at timestamptz not null,
    place text not null,
    state text not null default 'scheduled' check (state in ('scheduled', 'held')),
    -- The hearing record 听证笔录 (or the evaluation's minutes), written once it was held.
    record text,
    held_at timestamptz,
    created_by text not null,
    created_at timestamptz not null default now()
);
create index pil_hearings_case_idx on pil_hearings (case_id, scheduled_at, id);

-- One invitation per person and hearing. Deputies, members and volunteers are accounts; anyone else is named,
-- and the name is personal data: encrypted, shown masked.
create table pil_invitations (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    hearing_id uuid not null references pil_hearings (id),
    invitee_kind text not null check (invitee_kind in ('deputy', 'member', 'volunteer', 'other')),
    role text not null check (role in ('panelist', 'participant')),
    user_id uuid references users (id),
    name_enc text,
    organisation text,
    answer text not null default 'pending' check (answer in ('pending', 'accepted', 'declined')),
    answer_note text,
    answered_at timestamptz,
    created_at timestamptz not null default now(),
    check ((user_id is null) = (invitee_kind = 'other')),
    check ((name_enc is null) = (invitee_kind <> 'other')),
    unique (hearing_id, user_id)
);
create index pil_invitations_hearing_idx on pil_invitations (hearing_id, created_at, id);
-- An invitee's own list, newest first.
create index pil_invitations_user_idx on pil_invitations (user_id, created_at desc, id desc) where user_id is not null;

-- Tables get the app role's default rights (0002); nothing here is ever deleted.
revoke delete, truncate on pil_hearings, pil_invitations from jianwu_app;

-- A clue another office referred 移送 (registered here, linked to the referring office's clue).
alter table pil_clues drop constraint pil_clues_source_check;
alter table pil_clues add constraint pil_clues_source_check
    check (source in ('field', 'complaint', 'partner', 'volunteer', 'hotline', 'deputy', 'referral'));
